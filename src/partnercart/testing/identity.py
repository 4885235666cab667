"""A stand-in identity provider for tests of external auth mode.

``TestIdentityProvider`` holds RSA signing keys, publishes them as a JWKS document (as a dict, or
written atomically to a file that ``partnercart serve --auth external --jwks FILE`` watches) and
signs Entra ID-shaped access tokens with them. Rotate keys with :meth:`add_key` and
:meth:`remove_key`. No network is involved.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from partnercart.server.identity.tokens import user_object_id

PARTNER_CENTER_AUDIENCE = "https://api.partnercenter.microsoft.com"

__all__ = ["PARTNER_CENTER_AUDIENCE", "TestIdentityProvider"]


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TestIdentityProvider:
    """RSA keys by ``kid``, their JWKS, and tokens signed with them."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        *,
        issuer: str = "https://login.idp.test/{tenantid}/v2.0",
        audience: str = PARTNER_CENTER_AUDIENCE,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._algs: dict[str, str | None] = {}
        self.current_kid = self.add_key()

    def add_key(self, *, kid: str | None = None, alg: str | None = "RS256") -> str:
        """A new signing key, published from now on; it signs new tokens from now on too."""
        kid = kid or uuid.uuid4().hex[:16]
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._algs[kid] = alg
        self.current_kid = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing a key (the end of a rotation)."""
        del self._keys[kid]
        del self._algs[kid]
        if self.current_kid == kid and self._keys:
            self.current_kid = next(iter(self._keys))

    def private_key(self, kid: str) -> rsa.RSAPrivateKey:
        return self._keys[kid]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self._keys.items():
            numbers = private.public_key().public_numbers()
            entry: dict[str, Any] = {
                "kty": "RSA",
                "use": "sig",
                "kid": kid,
                "n": _b64(numbers.n),
                "e": _b64(numbers.e),
            }
            if self._algs[kid]:
                entry["alg"] = self._algs[kid]
            keys.append(entry)
        return {"keys": keys}

    def write_jwks(self, path: Path) -> Path:
        """Write the JWKS to ``path`` atomically (a reader sees the old or the new document)."""
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(self.jwks()), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def claims(
        self,
        tenant_id: str,
        *,
        client_id: str = "6b8d4d1c-5a8a-4f2e-9d43-1c7f3e2b9a10",
        user_oid: str | None = None,
        upn: str | None = None,
        now: dt.datetime | None = None,
        lifetime: dt.timedelta = dt.timedelta(hours=1),
    ) -> dict[str, Any]:
        """Claims shaped like an Entra ID access token: App-only, or App+User with a user
        (``user_oid``, ``upn`` or both; a UPN alone gets the object id the emulator derives
        from it, the same every time)."""
        if upn and not user_oid:
            user_oid = user_object_id(tenant_id, upn)
        issued = int((now or dt.datetime.now(dt.UTC)).timestamp())
        claims: dict[str, Any] = {
            "aud": self.audience,
            "iss": self.issuer.replace("{tenantid}", tenant_id),
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(lifetime.total_seconds()),
            "tid": tenant_id,
            "appid": client_id,
            "appidacr": "1",
            "ver": "1.0",
        }
        if user_oid:
            claims.update(oid=user_oid, sub=user_oid, scp="user_impersonation")
            if upn:
                claims["upn"] = upn
        else:
            principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{tenant_id}/{client_id}"))
            claims.update(oid=principal, sub=principal, idtyp="app")
        return claims

    def sign(
        self,
        claims: dict[str, Any],
        *,
        kid: str | None = None,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
    ) -> str:
        kid = kid or self.current_kid
        header = {"kid": kid, **(headers or {})}
        return jwt.encode(claims, self._keys[kid], algorithm=algorithm, headers=header)

    def token(self, tenant_id: str, *, kid: str | None = None, **kwargs: Any) -> str:
        """A valid token for ``tenant_id`` (keyword arguments as for :meth:`claims`)."""
        return self.sign(self.claims(tenant_id, **kwargs), kid=kid)
