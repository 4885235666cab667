"""Bearer token checks on a Partner Center route: every bad token is a 401 with the Partner
Center error body, a clear description and a ``WWW-Authenticate`` challenge; good ones pass.

The bad tokens are built here by hand (PyJWT, cryptography, hmac), not by the server's issuer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from partnercart.server.domain.errors import Unauthorized
from partnercart.server.identity.jwks import JwksFile
from partnercart.server.identity.tokens import TokenPolicy, TokenVerifier

if TYPE_CHECKING:
    from tests.conftest import Api

ROUTE = "/v1/customers"
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWS compact serialisation, put together by hand."""
    parts = [json.dumps(header).encode(), json.dumps(payload).encode()]
    return ".".join([b64url(parts[0]), b64url(parts[1]), b64url(signature)])


def claims(api: Api, **changes: Any) -> dict[str, Any]:
    """Valid claims for the api's partner; ``None`` in ``changes`` removes a claim."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    base: dict[str, Any] = {
        "aud": "https://api.partnercenter.microsoft.com",
        "iss": api.runtime.settings.auth.issuer.replace("{tenantid}", api.partner_id),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": api.partner_id,
        "appid": "0c8b6c0e-3c39-4c36-9a1f-0b5d9a3e6f11",
        "idtyp": "app",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def server_signed(api: Api, payload: dict[str, Any], *, alg: str = "RS256", **header: Any) -> str:
    """Signed with the server's own private key (so only the named defect is wrong)."""
    key = api.runtime.signing_key
    assert key is not None
    headers = {"kid": key.kid, **header}
    return jwt.encode(payload, key.private_pem, algorithm=alg, headers=headers)


def server_kid(api: Api) -> str:
    assert api.runtime.signing_key is not None
    return api.runtime.signing_key.kid


def public_pem(api: Api) -> bytes:
    assert api.runtime.signing_key is not None
    return api.runtime.signing_key.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def attacker_jwk() -> dict[str, Any]:
    numbers = ATTACKER_KEY.public_key().public_numbers()
    return {
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes(256, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }


def attacker_signed(api: Api, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode(payload, ATTACKER_KEY, algorithm="RS256", headers=header)


# --- the bad Authorization headers ------------------------------------------------------------


def hs256_with_public_pem(api: Api) -> str:
    """The classic confusion: HS256 keyed with the PEM text of the server's public key."""
    header = {"alg": "HS256", "typ": "JWT", "kid": server_kid(api)}
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims(api)).encode())
    mac = hmac.new(public_pem(api), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"Bearer {head}.{body}.{b64url(mac)}"


def alg_none(api: Api) -> str:
    return "Bearer " + compact({"alg": "none", "typ": "JWT", "kid": server_kid(api)}, claims(api))


def alg_none_spelled_oddly(api: Api) -> str:
    return "Bearer " + compact({"alg": "nOnE", "kid": server_kid(api)}, claims(api))


def tampered_payload(api: Api) -> str:
    """A valid token with the payload swapped for another partner's; the signature stays."""
    head, _body, signature = server_signed(api, claims(api)).split(".")
    other = claims(api, tid=str(uuid.uuid4()))
    return f"Bearer {head}.{b64url(json.dumps(other).encode())}.{signature}"


def tampered_signature(api: Api) -> str:
    head, body, signature = server_signed(api, claims(api)).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"Bearer {head}.{body}.{b64url(bytes(raw))}"


def unknown_kid(api: Api) -> str:
    return "Bearer " + attacker_signed(api, claims(api), kid="not-a-key-of-ours")


def right_kid_wrong_key(api: Api) -> str:
    return "Bearer " + attacker_signed(api, claims(api), kid=server_kid(api))


def missing_kid(api: Api) -> str:
    key = api.runtime.signing_key
    assert key is not None
    return "Bearer " + jwt.encode(claims(api), key.private_pem, algorithm="RS256")


def embedded_jwk(api: Api) -> str:
    return "Bearer " + attacker_signed(api, claims(api), kid=server_kid(api), jwk=attacker_jwk())


def jku_header(api: Api) -> str:
    return "Bearer " + attacker_signed(
        api, claims(api), kid="k1", jku="https://attacker.example/keys"
    )


def x5u_header(api: Api) -> str:
    return "Bearer " + attacker_signed(
        api, claims(api), kid="k1", x5u="https://attacker.example/cert.pem"
    )


def x5c_header(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api), x5c=["MIIB"])


def crit_header(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api), crit=["exp"])


def expired(api: Api) -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return "Bearer " + server_signed(
        api, claims(api, iat=now - 7200, nbf=now - 7200, exp=now - 600)
    )


def not_yet_valid(api: Api) -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return "Bearer " + server_signed(api, claims(api, nbf=now + 3600, exp=now + 7200))


def wrong_audience(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, aud="https://graph.microsoft.com"))


def wrong_issuer(api: Api) -> str:
    return "Bearer " + server_signed(
        api, claims(api, iss=f"https://sts.windows.net/{api.partner_id}/")
    )


def issuer_of_another_tenant(api: Api) -> str:
    other = str(uuid.uuid4())
    iss = api.runtime.settings.auth.issuer.replace("{tenantid}", other)
    return "Bearer " + server_signed(api, claims(api, iss=iss))


def missing_tid(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, tid=None))


def non_guid_tid(api: Api) -> str:
    iss = api.runtime.settings.auth.issuer.replace("{tenantid}", "contoso.onmicrosoft.com")
    return "Bearer " + server_signed(api, claims(api, tid="contoso.onmicrosoft.com", iss=iss))


def missing_exp(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, exp=None))


def exp_not_a_number(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, exp="tomorrow"))


def app_only_without_app(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, appid=None))


def app_user_without_user(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, scp="user_impersonation"))


def garbage(api: Api) -> str:
    return "Bearer this-is-not-a-token"


def garbage_three_parts(api: Api) -> str:
    return "Bearer !!!.@@@.###"


def payload_not_json(api: Api) -> str:
    token = server_signed(api, claims(api))
    head = token.split(".")[0]
    body = b64url(b"not json at all")
    key = api.runtime.signing_key
    assert key is not None
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    signature = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).sign(
        f"{head}.{body}".encode(), private
    )
    return f"Bearer {head}.{body}.{b64url(signature)}"


def too_long(api: Api) -> str:
    return "Bearer " + server_signed(api, claims(api, padding="x" * 20_000))


def wrong_scheme(api: Api) -> str:
    return "Basic " + base64.b64encode(b"user:password").decode()


def token_without_scheme(api: Api) -> str:
    return server_signed(api, claims(api))


def bearer_without_token(api: Api) -> str:
    return "Bearer "


def header_nested_too_deep(api: Api) -> str:
    """JSON nested past the parser's depth, short enough to pass the length limit."""
    deep = base64.urlsafe_b64encode(b"[" * 11_000).rstrip(b"=").decode()
    return f"Bearer {deep}.e30.c2ln"


BAD: list[tuple[str, Callable[[Api], str], int, str]] = [
    # (case, Authorization header, Partner Center code, words the description must contain)
    ("wrong_scheme", wrong_scheme, 400, "must use the Bearer scheme"),
    ("token_without_scheme", token_without_scheme, 400, "must use the Bearer scheme"),
    ("bearer_without_token", bearer_without_token, 400, "no token"),
    ("garbage", garbage, 400, "it is not a JWT"),
    ("garbage_three_parts", garbage_three_parts, 400, "header is not base64url-encoded JSON"),
    ("header_nested_too_deep", header_nested_too_deep, 400, "header is not base64url-encoded"),
    ("alg_none", alg_none, 400, "algorithm 'none' is not accepted"),
    ("alg_none_spelled_oddly", alg_none_spelled_oddly, 400, "algorithm 'nOnE' is not accepted"),
    ("hs256_with_public_pem", hs256_with_public_pem, 400, "algorithm 'HS256' is not accepted"),
    ("tampered_payload", tampered_payload, 400, "the signature does not verify"),
    ("tampered_signature", tampered_signature, 400, "the signature does not verify"),
    ("unknown_kid", unknown_kid, 400, "'not-a-key-of-ours' is not one of the trusted keys"),
    ("right_kid_wrong_key", right_kid_wrong_key, 400, "the signature does not verify"),
    ("missing_kid", missing_kid, 400, "no key id ('kid')"),
    ("embedded_jwk", embedded_jwk, 400, "names its own key or key location ('jwk')"),
    ("jku_header", jku_header, 400, "names its own key or key location ('jku')"),
    ("x5u_header", x5u_header, 400, "names its own key or key location ('x5u')"),
    ("x5c_header", x5c_header, 400, "names its own key or key location ('x5c')"),
    ("crit_header", crit_header, 400, "critical extensions ('crit')"),
    ("expired", expired, 400, "it expired at"),
    ("not_yet_valid", not_yet_valid, 400, "it is not valid before"),
    ("wrong_audience", wrong_audience, 400, "audience 'https://graph.microsoft.com' is not"),
    ("wrong_issuer", wrong_issuer, 400, "issuer 'https://sts.windows.net/"),
    ("issuer_of_another_tenant", issuer_of_another_tenant, 400, "is not trusted"),
    ("missing_tid", missing_tid, 400, "the 'tid' claim is missing"),
    ("non_guid_tid", non_guid_tid, 400, "'tid' claim must name the partner tenant as a GUID"),
    ("missing_exp", missing_exp, 400, "the 'exp' claim is missing"),
    ("exp_not_a_number", exp_not_a_number, 400, "the 'exp' claim is not a number"),
    ("app_only_without_app", app_only_without_app, 400, "must name its application"),
    ("app_user_without_user", app_user_without_user, 400, "must name its user in 'oid'"),
    ("payload_not_json", payload_not_json, 400, "payload is not base64url-encoded JSON"),
    ("too_long", too_long, 400, "longer than 16384 characters"),
]


def assert_401(response: Any, code: int, words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"code", "description", "data", "source"}
    assert body["code"] == code
    assert body["data"] == []
    assert body["source"] == "PartnerFD"
    assert words in body["description"], body["description"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="partnercart"')


@pytest.mark.parametrize(
    ("authorization", "code", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_token_is_refused(
    api: Api, authorization: Callable[[Api], str], code: int, words: str
) -> None:
    response = api.client.get(ROUTE, headers={"Authorization": authorization(api)})
    assert_401(response, code, words)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "error_description=" in response.headers["www-authenticate"]


def test_missing_header_is_refused(api: Api) -> None:
    response = api.client.get(ROUTE)
    assert_401(response, 800001, "Partner token missing in request context")
    # RFC 6750: a request without credentials gets a challenge without an error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="partnercart"'


def test_bad_token_is_refused_before_the_body_is_read(api: Api) -> None:
    response = api.client.post(ROUTE, content=b"{not json", headers={"Authorization": garbage(api)})
    assert_401(response, 400, "it is not a JWT")


def test_bad_token_on_every_write_route(api: Api) -> None:
    customer = api.new_customer()
    for method, path in [
        ("POST", "/v1/customers"),
        ("GET", f"/v1/customers/{customer}"),
        ("POST", f"/v1/customers/{customer}/carts"),
        ("GET", f"/v1/customers/{customer}/carts/{uuid.uuid4()}"),
        ("PUT", f"/v1/customers/{customer}/carts/{uuid.uuid4()}"),
    ]:
        response = api.client.request(
            method, path, headers={"Authorization": alg_none(api)}, json={}
        )
        assert_401(response, 400, "algorithm 'none' is not accepted")


def test_valid_token_is_accepted(api: Api) -> None:
    token = server_signed(api, claims(api))
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["totalCount"] == 0


def test_valid_token_from_the_issuer_is_accepted(api: Api) -> None:
    response = api.get(ROUTE)
    assert response.status_code == 200, response.text


def test_scheme_is_case_insensitive(api: Api) -> None:
    response = api.client.get(ROUTE, headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS384", "PS512"])
def test_other_rsa_algorithms_are_accepted(api: Api, alg: str) -> None:
    token = server_signed(api, claims(api), alg=alg)
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_expiry_within_the_clock_skew_is_accepted(api: Api) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = server_signed(api, claims(api, exp=now - 20))  # leeway is 60 s
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_not_before_within_the_clock_skew_is_accepted(api: Api) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = server_signed(api, claims(api, nbf=now + 20))
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_audience_list_with_this_api_is_accepted(api: Api) -> None:
    aud = ["https://graph.microsoft.com", "https://api.partnercenter.microsoft.com"]
    token = server_signed(api, claims(api, aud=aud))
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_upper_case_tid_is_the_same_partner(api: Api) -> None:
    customer = api.new_customer()
    upper = api.partner_id.upper()
    iss = api.runtime.settings.auth.issuer.replace("{tenantid}", upper)
    token = server_signed(api, claims(api, tid=upper, iss=iss))
    response = api.client.get(
        f"/v1/customers/{customer}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text


def test_token_values_in_descriptions_are_ascii_and_short(api: Api) -> None:
    kid = "\u00e9\n" + "k" * 200
    token = attacker_signed(api, claims(api), kid=kid)
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    description = response.json()["description"]
    assert "\n" not in description
    assert "k" * 100 not in description
    assert response.headers["www-authenticate"].isascii()


def test_a_token_that_verified_once_still_expires(api: Api) -> None:
    """Verified tokens are remembered; the time checks still apply on every call."""
    verifier = api.runtime.verifier
    now = dt.datetime.now(dt.UTC)
    actor, _claims = verifier.verify(api.token, now=now)
    assert actor.partner_id == api.partner_id
    assert verifier.verify(api.token, now=now + dt.timedelta(minutes=30))[0] == actor
    with pytest.raises(Unauthorized, match="it expired at"):
        verifier.verify(api.token, now=now + dt.timedelta(hours=2))
    with pytest.raises(Unauthorized, match="it is not valid before"):
        verifier.verify(api.token, now=now - dt.timedelta(hours=1))


def test_remembered_tokens_do_not_outlive_their_key(tmp_path: Any) -> None:
    from partnercart.testing.identity import TestIdentityProvider

    idp = TestIdentityProvider()
    path = idp.write_jwks(tmp_path / "jwks.json")
    verifier = TokenVerifier(JwksFile(path), TokenPolicy(issuer=idp.issuer))
    token = idp.token(str(uuid.uuid4()))
    now = dt.datetime.now(dt.UTC)
    verifier.verify(token, now=now)
    verifier.verify(token, now=now)
    idp.remove_key(idp.current_kid)
    idp.add_key()
    idp.write_jwks(path)
    with pytest.raises(Unauthorized, match="is not one of the trusted keys"):
        verifier.verify(token, now=now)
