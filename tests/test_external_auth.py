"""External mode: tokens from a configured issuer, checked against its JWKS (a file or a URL),
following key rotation by ``kid``. Offline: the identity provider is made here."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from partnercart.cli.main import main as cli
from partnercart.server.http.app import create_app
from partnercart.server.identity.jwks import JwksFile, JwksUrl
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import TokenIssuer
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import AuthSettings, Settings
from partnercart.testing.identity import TestIdentityProvider

CUSTOMER = {
    "companyProfile": {"domain": "fabrikam.onmicrosoft.com"},
    "billingProfile": {
        "email": "admin@fabrikam.example",
        "culture": "en-US",
        "language": "en",
        "companyName": "Fabrikam",
        "defaultAddress": {
            "country": "US",
            "city": "Redmond",
            "state": "WA",
            "addressLine1": "One Microsoft Way",
            "postalCode": "98052",
        },
    },
}


@contextmanager
def external_client(tmp_path: Path, **auth: Any) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", auth=AuthSettings(mode="external", **auth))
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime)) as client:
            yield client
    finally:
        runtime.close()


def status(client: TestClient, token: str, path: str = "/v1/customers") -> tuple[int, str]:
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json().get("description", "")


@pytest.fixture
def idp() -> TestIdentityProvider:
    return TestIdentityProvider()


def test_token_of_the_configured_issuer_is_accepted(
    tmp_path: Path, idp: TestIdentityProvider
) -> None:
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    partner = str(uuid.uuid4())
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        token = idp.token(partner)
        headers = {"Authorization": f"Bearer {token}"}
        created = client.post("/v1/customers", json=CUSTOMER, headers=headers)
        assert created.status_code == 201, created.text
        listed = client.get("/v1/customers", headers=headers).json()
        assert [c["id"] for c in listed["items"]] == [created.json()["id"]]
        # another partner of the same issuer sees none of it
        other = client.get(
            "/v1/customers", headers={"Authorization": f"Bearer {idp.token(str(uuid.uuid4()))}"}
        )
        assert other.json()["totalCount"] == 0


def test_key_rotation_in_the_jwks_file(tmp_path: Path, idp: TestIdentityProvider) -> None:
    partner = str(uuid.uuid4())
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    old_kid = idp.current_kid
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        old_token = idp.token(partner, kid=old_kid)
        assert status(client, old_token)[0] == 200

        new_kid = idp.add_key()  # made, but not yet published
        new_token = idp.token(partner, kid=new_kid)
        code, description = status(client, new_token)
        assert code == 401
        assert "is not one of the trusted keys" in description

        idp.write_jwks(jwks)  # published: both keys valid, no restart
        assert status(client, new_token)[0] == 200
        assert status(client, old_token)[0] == 200

        idp.remove_key(old_kid)
        idp.write_jwks(jwks)  # the old key retired
        code, description = status(client, old_token)
        assert code == 401
        assert old_kid in description
        assert status(client, new_token)[0] == 200


def test_unreadable_jwks_update_keeps_the_previous_keys(
    tmp_path: Path, idp: TestIdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    path = idp.write_jwks(tmp_path / "jwks.json")
    source = JwksFile(path)
    kid = idp.current_kid
    assert source.find(kid) is not None
    path.write_text("{ half written")
    assert source.find(kid) is not None  # the bad file is ignored, the old keys stay
    assert source.find(kid) is not None
    warnings = [r for r in caplog.records if "keeping the previous keys" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every call
    idp.write_jwks(path)
    assert source.find(kid) is not None


def test_key_that_names_its_algorithm_is_used_only_with_it(
    tmp_path: Path, idp: TestIdentityProvider
) -> None:
    jwks = idp.write_jwks(tmp_path / "jwks.json")  # the key is published with alg RS256
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        token = idp.sign(idp.claims(str(uuid.uuid4())), algorithm="PS256")
        code, description = status(client, token)
        assert code == 401
        assert "signs with RS256, not PS256" in description


def test_weak_and_non_signing_keys_are_not_trusted(tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    strong = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict[str, Any]:
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        entry.update(kid=kid, **extra)
        return dict(entry)

    path = tmp_path / "jwks.json"
    path.write_text(
        json.dumps(
            {
                "keys": [
                    jwk(weak, "weak"),
                    jwk(strong, "enc", use="enc"),
                    jwk(strong, "hmac-alg", alg="HS256"),
                    jwk(strong, "good"),
                    {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
                ]
            }
        )
    )
    source = JwksFile(path)
    assert [k for k in ("weak", "enc", "hmac-alg", "good", "secret") if source.find(k)] == ["good"]


def test_issuer_and_audience_are_checked(tmp_path: Path, idp: TestIdentityProvider) -> None:
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    partner = str(uuid.uuid4())
    v1 = "https://sts.windows.net/{tenantid}/"
    with external_client(
        tmp_path,
        issuer=idp.issuer,
        extra_issuers=(v1,),
        audiences=("https://api.partnercenter.microsoft.com", "api://partnercart-tests"),
        jwks=str(jwks),
    ) as client:
        claims = idp.claims(partner)
        assert status(client, idp.sign(claims))[0] == 200
        claims["iss"] = v1.replace("{tenantid}", partner)
        assert status(client, idp.sign(claims))[0] == 200
        claims["aud"] = "api://partnercart-tests"
        assert status(client, idp.sign(claims))[0] == 200
        claims["iss"] = f"https://login.microsoftonline.com/{partner}/v2.0"
        code, description = status(client, idp.sign(claims))
        assert code == 401
        assert "is not trusted" in description
        claims = idp.claims(partner)
        claims["aud"] = "api://someone-else"
        code, description = status(client, idp.sign(claims))
        assert code == 401
        assert "audience 'api://someone-else'" in description


def test_emulator_tokens_are_not_trusted_in_external_mode(
    tmp_path: Path, idp: TestIdentityProvider
) -> None:
    emulator_key = SigningKey.load_or_create(tmp_path / "emulator")
    issuer = TokenIssuer(emulator_key, issuer=idp.issuer, lifetime=dt.timedelta(hours=1))
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        token = issuer.issue(
            tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), now=dt.datetime.now(dt.UTC)
        )
        code, description = status(client, token)
        assert code == 401
        assert "is not one of the trusted keys" in description


def test_last_modified_user_from_external_tokens(tmp_path: Path, idp: TestIdentityProvider) -> None:
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    partner, app, user = (str(uuid.uuid4()) for _ in range(3))
    cart = {
        "lineItems": [
            {
                "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
                "quantity": 1,
                "billingCycle": "Monthly",
                "termDuration": "P1M",
            }
        ]
    }
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        app_only = {"Authorization": f"Bearer {idp.token(partner, client_id=app)}"}
        app_user = {"Authorization": f"Bearer {idp.token(partner, client_id=app, user_oid=user)}"}
        customer = client.post("/v1/customers", json=CUSTOMER, headers=app_only).json()["id"]
        made = client.post(f"/v1/customers/{customer}/carts", json=cart, headers=app_only)
        assert made.json()["lastModifiedUser"] == app
        made = client.post(f"/v1/customers/{customer}/carts", json=cart, headers=app_user)
        assert made.json()["lastModifiedUser"] == user


# --- JWKS over HTTP (a local server: still offline) ----------------------------------------------


@contextmanager
def serve_jwks(idp: TestIdentityProvider) -> Iterator[tuple[str, list[int]]]:
    hits: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            body = json.dumps(idp.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/keys", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_jwks_url_is_fetched_again_for_a_new_kid_at_most_so_often(
    idp: TestIdentityProvider,
) -> None:
    clock = FakeMonotonic()
    with serve_jwks(idp) as (url, hits):
        source = JwksUrl(url, min_refresh=30, max_age=3600, monotonic=clock)
        assert len(hits) == 1
        first = idp.current_kid
        assert source.find(first) is not None
        assert len(hits) == 1  # known kid: no fetch

        second = idp.add_key()
        clock.now += 5
        assert source.find(second) is None  # too soon after the last fetch: no new fetch
        assert len(hits) == 1
        clock.now += 30
        assert source.find(second) is not None  # unknown kid: fetched again
        assert len(hits) == 2
        assert source.find("made-up") is None  # an unknown kid right after: no storm of fetches
        assert len(hits) == 2

        idp.remove_key(first)
        clock.now += 3600
        assert source.find(second) is not None  # copy too old: refreshed
        assert len(hits) == 3
        assert source.find(first) is None


def test_jwks_url_through_the_app(tmp_path: Path, idp: TestIdentityProvider) -> None:
    with (
        serve_jwks(idp) as (url, _hits),
        external_client(tmp_path, issuer=idp.issuer, jwks=url) as client,
    ):
        assert status(client, idp.token(str(uuid.uuid4())))[0] == 200


def test_external_mode_needs_jwks_and_issuer(tmp_path: Path, idp: TestIdentityProvider) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        build_runtime(Settings(data_dir=tmp_path, auth=AuthSettings(mode="external")))
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    with pytest.raises(ValueError, match="issuer"):
        build_runtime(
            Settings(data_dir=tmp_path, auth=AuthSettings(mode="external", jwks=str(jwks)))
        )
    with pytest.raises(FileNotFoundError):
        build_runtime(
            Settings(
                data_dir=tmp_path,
                auth=AuthSettings(
                    mode="external", issuer=idp.issuer, jwks=str(tmp_path / "none.json")
                ),
            )
        )


def test_serve_refuses_external_mode_without_issuer_and_jwks() -> None:
    result = CliRunner().invoke(cli, ["serve", "--auth", "external"])
    assert result.exit_code == 2
    assert "--auth external needs --issuer and --jwks" in result.output


def test_a_test_token_with_a_upn_alone_is_app_user_as_the_emulators_are(
    tmp_path: Path, idp: TestIdentityProvider
) -> None:
    """``idp.token(partner, upn=...)`` dropped the UPN and made an App-only token; the
    emulator's token endpoint and ``partnercart token --upn`` derive the user's object id."""
    from partnercart.server.identity.tokens import user_object_id

    partner = str(uuid.uuid4())
    claims = idp.claims(partner, upn="ada@contoso.example")
    assert claims["upn"] == "ada@contoso.example"
    assert claims["oid"] == user_object_id(partner, "ada@contoso.example")
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    with external_client(tmp_path, issuer=idp.issuer, jwks=str(jwks)) as client:
        auth = {"Authorization": f"Bearer {idp.token(partner, upn='ada@contoso.example')}"}
        customer = client.post("/v1/customers", json=CUSTOMER, headers=auth).json()["id"]
        line = {"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 1}
        line |= {"billingCycle": "Monthly", "termDuration": "P1M"}
        made = client.post(
            f"/v1/customers/{customer}/carts", json={"lineItems": [line]}, headers=auth
        )
        assert made.json()["lastModifiedUser"] == claims["oid"]
