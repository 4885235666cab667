"""Issuing (emulator mode) and checking bearer tokens.

Only asymmetric algorithms are accepted, and the key comes from our JWKS by ``kid``: a token
signed with ``none`` or with HS256 using the public key as a secret never verifies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.identity.keys import SigningKey

PARTNER_CENTER_AUDIENCE = "https://api.partnercenter.microsoft.com"
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
DEFAULT_LEEWAY = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """What a valid token must say. ``issuer`` may contain ``{tenantid}``, filled from ``tid``
    (how a multi-tenant Entra ID application checks the issuer)."""

    issuer: str
    audiences: tuple[str, ...] = (PARTNER_CENTER_AUDIENCE,)
    leeway: dt.timedelta = DEFAULT_LEEWAY


class KeySet:
    """Public keys by ``kid``."""

    def __init__(self, keys: Mapping[str, rsa.RSAPublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        keys: dict[str, rsa.RSAPublicKey] = {}
        for entry in jwks.get("keys", []):
            if entry.get("kty") != "RSA" or "kid" not in entry:
                continue
            key = jwt.algorithms.RSAAlgorithm.from_jwk(entry)
            if isinstance(key, rsa.RSAPublicKey):
                keys[str(entry["kid"])] = key
        return cls(keys)

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        return self._keys.get(kid)


def _reject(reason: str) -> Unauthorized:
    return Unauthorized(f"Access denied: the bearer token is not valid ({reason}).", code=400)


class TokenVerifier:
    def __init__(self, keys: KeySet, policy: TokenPolicy) -> None:
        self._keys = keys
        self._policy = policy

    def verify(self, token: str, *, now: dt.datetime) -> tuple[Actor, Mapping[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _reject("it is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise _reject(f"algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise _reject(f"signing key id {kid!r} is unknown")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "require": ["exp", "aud", "iss", "tid"],
                },
            )
        except jwt.InvalidSignatureError:
            raise _reject("the signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _reject(f"the {exc.claim!r} claim is missing") from None
        except jwt.InvalidTokenError as exc:
            raise _reject(str(exc).rstrip(".").lower() or "it cannot be decoded") from None
        self._check_claims(claims, now)
        tid = str(claims["tid"])
        user = claims.get("oid") or claims.get("appid") or claims.get("azp") or claims.get("sub")
        return Actor(partner_id=tid, user_id=str(user or tid)), claims

    def _check_claims(self, claims: Mapping[str, Any], now: dt.datetime) -> None:
        policy = self._policy
        tid = claims.get("tid")
        try:
            uuid.UUID(str(tid))
        except ValueError:
            raise _reject("the 'tid' claim must name the partner tenant (a GUID)") from None
        stamp = now.timestamp()
        leeway = policy.leeway.total_seconds()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _reject("the 'exp' claim is not a number")
        if stamp >= exp + leeway:
            raise _reject("the token has expired")
        nbf = claims.get("nbf")
        if nbf is not None:
            if not isinstance(nbf, int | float) or isinstance(nbf, bool):
                raise _reject("the 'nbf' claim is not a number")
            if stamp < nbf - leeway:
                raise _reject("the token is not valid yet")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in policy.audiences for a in auds):
            raise _reject(f"the audience {aud!r} is not this API")
        expected_iss = policy.issuer.replace("{tenantid}", str(tid))
        if claims.get("iss") != expected_iss:
            raise _reject(f"the issuer {claims.get('iss')!r} is not trusted")


class TokenIssuer:
    """Issues tokens the way Entra ID does for the client-credentials grant (emulator mode)."""

    def __init__(self, key: SigningKey, *, issuer: str, lifetime: dt.timedelta) -> None:
        self._key = key
        self._issuer = issuer
        self.lifetime = lifetime

    def issue(
        self,
        *,
        tenant_id: str,
        client_id: str,
        now: dt.datetime,
        user_oid: str | None = None,
        upn: str | None = None,
        audience: str = PARTNER_CENTER_AUDIENCE,
        lifetime: dt.timedelta | None = None,
    ) -> str:
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self._issuer.replace("{tenantid}", tenant_id),
            "iat": issued,
            "nbf": issued,
            "exp": issued + int((lifetime or self.lifetime).total_seconds()),
            "tid": tenant_id,
            "appid": client_id,
            "azp": client_id,
            "ver": "1.0",
        }
        if user_oid:
            claims.update(oid=user_oid, sub=user_oid, scp="user_impersonation")
            if upn:
                claims["upn"] = upn
        else:
            claims.update(oid=client_id, sub=client_id, idtyp="app", roles=[])
        return jwt.encode(
            claims, self._key.private_pem, algorithm="RS256", headers={"kid": self._key.kid}
        )
