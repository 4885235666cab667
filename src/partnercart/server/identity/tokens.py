"""Issuing (emulator mode) and checking bearer tokens.

Only asymmetric algorithms are accepted, and the key comes from the trusted key set by ``kid``:
a token signed with ``none``, with HS256 using the public key as a secret, or carrying its own
key (``jwk``, ``x5c``) or key location (``jku``, ``x5u``) never verifies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import math
import uuid
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.domain.ids import is_guid
from partnercart.server.identity.keys import SigningKey

PARTNER_CENTER_AUDIENCE = "https://api.partnercenter.microsoft.com"
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
DEFAULT_LEEWAY = dt.timedelta(seconds=60)
#: Header parameters that point at (or carry) a key chosen by whoever made the token.
UNTRUSTED_KEY_PARAMETERS = ("jku", "x5u", "jwk", "x5c")
#: Far above any real Entra ID access token (a few KiB), far below what would cost us.
MAX_TOKEN_LENGTH = 16 * 1024
MIN_RSA_BITS = 2048
#: The namespace of the emulator's service-principal object ids (``oid`` of App-only tokens).
SERVICE_PRINCIPAL_NAMESPACE = uuid.UUID("9b4b8a0e-6a43-4c5f-9a57-2f1d0c3e7d21")
#: The namespace of the user object ids the emulator derives from a UPN.
USER_NAMESPACE = uuid.UUID("4f0f7c53-2a0e-4c1e-8d69-7b3c2f1a9e55")


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """What a valid token must say. An issuer may contain ``{tenantid}``, filled from ``tid``
    (how a multi-tenant Entra ID application checks the issuer)."""

    issuer: str
    audiences: tuple[str, ...] = (PARTNER_CENTER_AUDIENCE,)
    leeway: dt.timedelta = DEFAULT_LEEWAY
    #: further trusted issuers (Entra ID's v1 ``https://sts.windows.net/{tenantid}/`` and v2
    #: ``https://login.microsoftonline.com/{tenantid}/v2.0`` forms, for example).
    extra_issuers: tuple[str, ...] = ()

    def issuers_for(self, tenant_id: str) -> tuple[str, ...]:
        return tuple(i.replace("{tenantid}", tenant_id) for i in (self.issuer, *self.extra_issuers))


@dataclass(frozen=True, slots=True)
class PublicKey:
    key: rsa.RSAPublicKey
    #: when the JWK names an algorithm, a token must use exactly that one with this key
    alg: str | None = None


class KeySource(Protocol):
    """Where the verifier finds a public key by ``kid``. ``find`` never waits on the network."""

    def find(self, kid: str) -> PublicKey | None: ...

    def refetch(self, kid: str) -> Future[None] | None:
        """A fetch of the keys that may bring ``kid``, running in the background (the one under
        way, or one started now), or ``None`` when none will come."""
        ...


class KeysPending(Exception):
    """A token names a key its source does not know yet and is fetching: await :meth:`wait`,
    then verify again. The fetch runs on a thread of the source's own, never on the event loop;
    ``refusal`` is the answer for a caller that will not wait (or has waited once already)."""

    def __init__(self, fetch: Future[None], refusal: Unauthorized) -> None:
        super().__init__(refusal.description)
        self.fetch = fetch
        self.refusal = refusal

    async def wait(self) -> None:
        # A waiter that is cancelled leaves the fetch running (it is shared, and already
        # running, so ``cancel`` cannot stop it).
        await asyncio.wrap_future(self.fetch)


class KeySet:
    """A fixed set of public keys by ``kid``."""

    def __init__(self, keys: Mapping[str, rsa.RSAPublicKey | PublicKey]) -> None:
        self._keys = {
            kid: key if isinstance(key, PublicKey) else PublicKey(key) for kid, key in keys.items()
        }

    @classmethod
    def from_jwks(cls, jwks: Any) -> KeySet:
        """The usable signing keys of a JWKS document: RSA keys of at least 2048 bits with a
        ``kid``, not marked for encryption, naming an accepted algorithm (or none)."""
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise ValueError("a JWKS document is a JSON object with a 'keys' list")
        keys: dict[str, PublicKey] = {}
        for entry in jwks["keys"]:
            if not isinstance(entry, Mapping) or entry.get("kty") != "RSA":
                continue
            kid, use, alg = entry.get("kid"), entry.get("use", "sig"), entry.get("alg")
            if not isinstance(kid, str) or use != "sig":
                continue
            if alg is not None and alg not in ALLOWED_ALGORITHMS:
                continue
            try:
                key = jwt.algorithms.RSAAlgorithm.from_jwk(dict(entry))
            except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
                continue
            if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
                keys[kid] = PublicKey(key, alg if isinstance(alg, str) else None)
        return cls(keys)

    def find(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)

    def refetch(self, kid: str) -> Future[None] | None:
        return None  # fixed: nothing more will come

    def kids(self) -> list[str]:
        return sorted(self._keys)


def _shown(value: Any) -> str:
    """A token-supplied value, safe to put in a description or a header: ASCII, short."""
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reject(reason: str) -> Unauthorized:
    return Unauthorized(f"Access denied: the bearer token is not valid: {reason}.", code=400)


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read without trusting anything in it yet."""
    segment = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(raw)
    # ValueError covers UnicodeDecodeError and JSONDecodeError; RecursionError is JSON nested
    # past the parser's depth (a header of ``[[[...`` fits within the token's length limit).
    except (ValueError, binascii.Error, RecursionError):
        raise _reject("its header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise _reject("its header is not a JSON object")
    return header


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _reject(f"the {name!r} claim is not a number")
    return float(value)


def _acting_id(claims: Mapping[str, Any]) -> str:
    """Who the writes are recorded as: the user's ``oid`` in an App+User (delegated) token,
    which carries ``scp``; the application id (``appid`` in v1, ``azp`` in v2) otherwise."""
    if "scp" in claims:
        who, what = claims.get("oid"), "an App+User token must name its user in 'oid'"
    else:
        who = claims.get("appid") or claims.get("azp")
        what = "an App-only token must name its application in 'appid' or 'azp'"
    if not isinstance(who, str) or not who.strip() or len(who) > 128:
        raise _reject(what)
    return who.lower() if is_guid(who) else who


@dataclass(frozen=True, slots=True)
class _Verified:
    actor: Actor
    claims: Mapping[str, Any]
    kid: str
    key: PublicKey
    #: The window, leeway included, in seconds since the epoch: a repeat compares two floats.
    valid_from: float
    valid_until: float


class TokenVerifier:
    """Checks bearer tokens. A client sends the same token on many calls, so tokens that
    verified are remembered (at most ``cache_size``): a repeat costs a dictionary lookup, the
    time checks and a look at whether its key is still trusted, not an RSA verification."""

    def __init__(self, keys: KeySource, policy: TokenPolicy, *, cache_size: int = 4096) -> None:
        self._keys = keys
        self._policy = policy
        self._cache_size = cache_size
        self._verified: dict[str, _Verified] = {}

    @property
    def policy(self) -> TokenPolicy:
        return self._policy

    def verify(self, token: str, *, now: dt.datetime) -> tuple[Actor, Mapping[str, Any]]:
        """The caller named by a valid token and the token's claims; :class:`Unauthorized`
        (401, code 400) with the reason otherwise; :class:`KeysPending` when its key is not
        known yet but the key source is fetching its keys (await it, then call again)."""
        known = self._verified.get(token)
        if known is not None and self._keys.find(known.kid) is known.key:
            if not known.valid_from <= now.timestamp() < known.valid_until:
                self._check_times(known.claims, now)  # raises, saying why
            return known.actor, known.claims
        actor, claims, kid, key = self._verify_fully(token, now)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        frozen = MappingProxyType(claims)
        leeway = self._policy.leeway.total_seconds()
        exp = _number(claims, "exp")
        nbf = _number(claims, "nbf")
        assert exp is not None  # _verify_fully checked it
        self._verified[token] = _Verified(
            actor,
            frozen,
            kid,
            key,
            valid_from=-math.inf if nbf is None else nbf - leeway,
            valid_until=exp + leeway,
        )
        return actor, frozen

    def _verify_fully(
        self, token: str, now: dt.datetime
    ) -> tuple[Actor, dict[str, Any], str, PublicKey]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise _reject(f"it is longer than {MAX_TOKEN_LENGTH} characters")
        if token.count(".") != 2:
            raise _reject("it is not a JWT (three base64url parts separated by dots)")
        header = _header(token)
        for name in UNTRUSTED_KEY_PARAMETERS:
            if name in header:
                raise _reject(
                    f"its header names its own key or key location ({name!r}); "
                    "keys are taken only from the trusted key set"
                )
        if "crit" in header:
            raise _reject("its header lists critical extensions ('crit'), none are supported")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise _reject(
                f"the algorithm {_shown(alg)} is not accepted "
                f"(accepted: {', '.join(ALLOWED_ALGORITHMS)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _reject("its header has no key id ('kid')")
        found = self._keys.find(kid)
        if found is None:
            refusal = _reject(f"the signing key id {_shown(kid)} is not one of the trusted keys")
            fetch = self._keys.refetch(kid)
            if fetch is not None:
                raise KeysPending(fetch, refusal)
            raise refusal
        if found.alg is not None and found.alg != alg:
            raise _reject(f"the key {_shown(kid)} signs with {found.alg}, not {alg}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=found.key,
                algorithms=[alg],
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise _reject("the signature does not verify") from None
        except jwt.InvalidTokenError:
            raise _reject("its payload is not base64url-encoded JSON") from None
        return self._check_claims(claims, now), claims, kid, found

    def _check_times(self, claims: Mapping[str, Any], now: dt.datetime) -> None:
        policy = self._policy
        stamp = now.timestamp()
        leeway = policy.leeway.total_seconds()
        exp = _number(claims, "exp")
        assert exp is not None
        if stamp >= exp + leeway:
            expired = dt.datetime.fromtimestamp(exp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            raise _reject(f"it expired at {expired}")
        nbf = _number(claims, "nbf")
        if nbf is not None and stamp < nbf - leeway:
            start = dt.datetime.fromtimestamp(nbf, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            raise _reject(f"it is not valid before {start}")

    def _check_claims(self, claims: Mapping[str, Any], now: dt.datetime) -> Actor:
        policy = self._policy
        for name in ("exp", "aud", "iss", "tid"):
            if name not in claims:
                raise _reject(f"the {name!r} claim is missing")
        self._check_times(claims, now)
        aud = claims["aud"]
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in policy.audiences for a in auds):
            raise _reject(
                f"its audience {_shown(aud)} is not this API "
                f"(expected {' or '.join(policy.audiences)})"
            )
        tid = claims["tid"]
        if not isinstance(tid, str) or not is_guid(tid):
            raise _reject("the 'tid' claim must name the partner tenant as a GUID")
        if claims["iss"] not in policy.issuers_for(tid):
            raise _reject(f"its issuer {_shown(claims['iss'])} is not trusted")
        return Actor(partner_id=tid.lower(), user_id=_acting_id(claims))


def service_principal_id(tenant_id: str, client_id: str) -> str:
    """The emulator's object id for an application in a tenant: stable, and distinct from the
    application (client) id, as a service principal's ``oid`` is in Entra ID."""
    return str(uuid.uuid5(SERVICE_PRINCIPAL_NAMESPACE, f"{tenant_id.lower()}/{client_id.lower()}"))


def user_object_id(tenant_id: str, upn: str) -> str:
    """The emulator's object id for a user known only by UPN: the same every time."""
    return str(uuid.uuid5(USER_NAMESPACE, f"{tenant_id.lower()}/{upn.lower()}"))


class TokenIssuer:
    """Issues tokens the way Entra ID does for the client-credentials grant (emulator mode).

    App-only tokens name the application (``appid``, ``azp``) and its service principal
    (``oid``, ``idtyp: app``); App+User tokens add the user (``oid``, ``upn``) and the delegated
    scope (``scp: user_impersonation``)."""

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
            "appidacr": "1",
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        if user_oid:
            claims.update(oid=user_oid, sub=user_oid, scp="user_impersonation", idtyp="user")
            if upn:
                claims["upn"] = upn
        else:
            principal = service_principal_id(tenant_id, client_id)
            claims.update(oid=principal, sub=principal, idtyp="app")
        return jwt.encode(
            claims, self._key.private_pem, algorithm="RS256", headers={"kid": self._key.kid}
        )
