"""External mode: tokens from a configured issuer, checked against its JWKS (a file or a URL),
following key rotation by ``kid``. Offline: the identity provider is made here."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import inspect
import json
import textwrap
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from partnercart.cli.main import main as cli
from partnercart.server import runtime as runtime_module
from partnercart.server.http.app import create_app
from partnercart.server.http.routes import carts, catalog, control, customers, identity, orders
from partnercart.server.identity.jwks import JwksFile, JwksUrl
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import KeySet, PublicKey, TokenIssuer
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


class SlowJwks:
    """A JWKS server that holds every fetch after the first (the start's) until released, and
    publishes the keys the identity provider has when it answers."""

    def __init__(self, idp: TestIdentityProvider) -> None:
        self.idp = idp
        self.hits = 0
        self.asked = threading.Event()  # a held fetch has arrived
        self.release = threading.Event()
        self.url = ""


@contextmanager
def serve_slow_jwks(idp: TestIdentityProvider) -> Iterator[SlowJwks]:
    jwks = SlowJwks(idp)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            jwks.hits += 1
            if jwks.hits > 1:
                jwks.asked.set()
                jwks.release.wait(timeout=60)  # a slow identity provider
            body = json.dumps(idp.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    jwks.url = f"http://127.0.0.1:{server.server_address[1]}/keys"
    try:
        yield jwks
    finally:
        jwks.release.set()
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
        assert source.refetch(first) is None  # fetched just now: no fetch
        assert len(hits) == 1

        second = idp.add_key()
        clock.now += 5
        assert source.find(second) is None  # a lookup never fetches
        assert source.refetch(second) is None  # too soon after the last fetch: no new fetch
        assert len(hits) == 1
        clock.now += 30
        fetch = source.refetch(second)  # unknown kid: fetched again, in the background
        assert fetch is not None
        fetch.result(timeout=30)
        assert source.find(second) is not None
        assert len(hits) == 2
        assert source.find("made-up") is None
        assert source.refetch("made-up") is None  # an unknown kid right after: no storm
        assert len(hits) == 2

        idp.remove_key(first)
        clock.now += 3600
        assert source.find(second) is not None  # copy too old: answered from it, refreshed
        refresh = source.fetching
        assert refresh is not None
        refresh.result(timeout=30)
        assert len(hits) == 3
        assert source.find(first) is None


def test_jwks_url_through_the_app(tmp_path: Path, idp: TestIdentityProvider) -> None:
    with (
        serve_jwks(idp) as (url, _hits),
        external_client(tmp_path, issuer=idp.issuer, jwks=url) as client,
    ):
        assert status(client, idp.token(str(uuid.uuid4())))[0] == 200


def test_a_slow_jwks_fetch_holds_only_the_requests_that_need_the_new_key(
    tmp_path: Path, idp: TestIdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch a rotated kid starts runs off the event loop: while the identity provider
    takes its time, requests whose key is known are answered; the one with the new key is
    answered once the fetch brings it."""
    clock = FakeMonotonic()
    monkeypatch.setattr(runtime_module, "open_jwks", lambda url: JwksUrl(url, monotonic=clock))
    partner = str(uuid.uuid4())
    with serve_slow_jwks(idp) as jwks:
        settings = Settings(
            data_dir=tmp_path / "data",
            auth=AuthSettings(mode="external", issuer=idp.issuer, jwks=jwks.url),
        )
        runtime = build_runtime(settings)
        old_kid = idp.current_kid
        cached = idp.token(partner, kid=old_kid)
        fresh = idp.token(str(uuid.uuid4()), kid=old_kid)
        new_kid = idp.add_key()  # published from now on, but not yet fetched
        clock.now += 30  # past the throttle of the start's fetch
        rotated = idp.token(partner, kid=new_kid)
        events: list[str] = []

        async def main() -> dict[str, httpx.Response]:
            transport = httpx.ASGITransport(app=create_app(runtime))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:

                async def get(name: str, token: str) -> httpx.Response:
                    answer = await c.get(
                        "/v1/customers", headers={"Authorization": f"Bearer {token}"}
                    )
                    events.append(name)
                    return answer

                answers = {"warm": await get("warm", cached)}
                waiting = asyncio.create_task(get("new kid", rotated))
                # Waited for on a thread: a blocked event loop could not see the fetch arrive.
                assert await asyncio.to_thread(jwks.asked.wait, 30)
                events.append("fetch held")
                answers["cached"] = await get("cached", cached)
                answers["fresh"] = await get("fresh", fresh)
                assert not waiting.done()
                jwks.release.set()
                answers["new kid"] = await waiting
                return answers

        try:
            answers = asyncio.run(main())
        finally:
            runtime.close()
        assert events == ["warm", "fetch held", "cached", "fresh", "new kid"]
        assert {name: a.status_code for name, a in answers.items()} == {
            "warm": 200,
            "cached": 200,
            "fresh": 200,
            "new kid": 200,
        }
        assert jwks.hits == 2  # the start, and the one fetch for the new kid


def test_jwks_url_refreshes_an_old_copy_in_the_background(idp: TestIdentityProvider) -> None:
    clock = FakeMonotonic()
    with serve_slow_jwks(idp) as jwks:
        source = JwksUrl(jwks.url, min_refresh=30, max_age=3600, monotonic=clock)
        first = idp.current_kid
        second = idp.add_key()
        idp.remove_key(first)
        clock.now += 3600
        # The copy is an hour old: the lookup answers from it and does not wait for the fetch.
        assert source.find(first) is not None
        assert jwks.asked.wait(30)
        assert source.find(first) is not None  # asked while the provider still holds the fetch
        assert source.refetch(second) is source.fetching  # a new kid waits for the same fetch
        jwks.release.set()
        refresh = source.fetching
        assert refresh is not None
        refresh.result(timeout=30)
        assert source.find(second) is not None
        assert source.find(first) is None
        assert jwks.hits == 2


def test_unreachable_jwks_url_keeps_the_previous_keys(
    idp: TestIdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeMonotonic()
    answers: list[Any] = [idp.jwks()]

    def fetch(url: str) -> Any:
        if not answers:
            raise httpx.ConnectError("connection refused")
        return answers.pop()

    source = JwksUrl("https://idp.test/keys", monotonic=clock, fetch=fetch)
    kid = idp.current_kid
    clock.now += 3600
    assert source.find(kid) is not None
    refresh = source.fetching
    assert refresh is not None
    refresh.result(timeout=30)
    assert source.find(kid) is not None
    assert any("keeping the previous keys" in r.getMessage() for r in caplog.records)
    # and a failed fetch counts for the throttle: not tried again at once
    assert source.refetch("another") is None


def test_unreachable_jwks_url_fails_the_start(tmp_path: Path, idp: TestIdentityProvider) -> None:
    with serve_jwks(idp) as (url, _hits):
        pass  # the port is closed again
    with pytest.raises(httpx.HTTPError):
        build_runtime(
            Settings(
                data_dir=tmp_path,
                auth=AuthSettings(mode="external", issuer=idp.issuer, jwks=url),
            )
        )


class FetchingSource:
    """A key source whose every fetch is over at once: it publishes ``later`` (when given)."""

    def __init__(self, now: KeySet, later: KeySet | None) -> None:
        self.keys, self.later = now, later
        self.fetches = 0

    def find(self, kid: str) -> PublicKey | None:
        return self.keys.find(kid)

    def refetch(self, kid: str) -> Future[None] | None:
        self.fetches += 1
        if self.later is not None:
            self.keys = self.later
        done: Future[None] = Future()
        done.set_result(None)
        return done


@pytest.fixture
def rotation(
    idp: TestIdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FetchingSource, str]]:
    """A key source that knows the first key, and fetches the second (the kid yielded)."""
    now = KeySet.from_jwks(idp.jwks())
    new_kid = idp.add_key()
    source = FetchingSource(now, KeySet.from_jwks(idp.jwks()))
    monkeypatch.setattr(runtime_module, "open_jwks", lambda url: source)
    yield source, new_kid


def test_request_with_a_rotated_key_runs_once_after_the_fetch(
    tmp_path: Path, idp: TestIdentityProvider, rotation: tuple[FetchingSource, str]
) -> None:
    source, new_kid = rotation
    headers = {"Authorization": f"Bearer {idp.token(str(uuid.uuid4()), kid=new_kid)}"}
    with external_client(tmp_path, issuer=idp.issuer, jwks="https://idp.test/keys") as client:
        # a write with a body: authenticated again after the wait, the body read once
        created = client.post("/v1/customers", json=CUSTOMER, headers=headers)
        assert created.status_code == 201, created.text
        assert source.fetches == 1
        listed = client.get("/v1/customers", headers=headers).json()
        assert [c["id"] for c in listed["items"]] == [created.json()["id"]]
        assert source.fetches == 1


def test_fault_for_a_partner_matches_a_token_with_a_rotated_key(
    tmp_path: Path, idp: TestIdentityProvider, rotation: tuple[FetchingSource, str]
) -> None:
    source, new_kid = rotation
    partner = str(uuid.uuid4())
    with external_client(tmp_path, issuer=idp.issuer, jwks="https://idp.test/keys") as client:
        rule = client.post(
            "/_partnercart/faults",
            json={"status": 503, "partner": partner},
            headers={"X-Partnercart-Admin-Key": client.app.parts.runtime.admin_key},
        )
        assert rule.status_code == 201, rule.text
        code, _ = status(client, idp.token(partner, kid=new_kid))
        assert code == 503
        assert source.fetches == 1


def test_request_waits_for_keys_once(tmp_path: Path, idp: TestIdentityProvider) -> None:
    """A key source that always has another fetch to offer does not keep a request waiting:
    after one wait the route answers 401."""
    source = FetchingSource(KeySet.from_jwks(idp.jwks()), None)
    unknown = idp.add_key()  # never published
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runtime_module, "open_jwks", lambda url: source)
        with external_client(tmp_path, issuer=idp.issuer, jwks="https://idp.test/keys") as client:
            code, description = status(client, idp.token(str(uuid.uuid4()), kid=unknown))
    assert code == 401
    assert "is not one of the trusted keys" in description
    # the first run, the one after the wait, and the request log's look at whose call it was
    # (which does not wait)
    assert source.fetches == 3


def test_every_route_authenticates_before_anything_else() -> None:
    """A request whose keys are being fetched is run again from the start after the wait
    (``errors.keys_pending``), which repeats nothing only while each route authenticates first."""
    checked = []
    for module in (carts, catalog, control, customers, identity, orders):
        for route in module.ROUTES:
            source = textwrap.dedent(inspect.getsource(route.endpoint))
            if "authenticate(" not in source:
                continue
            function = ast.parse(source).body[0]
            assert isinstance(function, ast.AsyncFunctionDef)
            body = function.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring
            assert ast.unparse(body[0]) == "actor = authenticate(request)", route.path
            checked.append(route.path)
    assert len(checked) >= 20


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
