"""The emulator's Entra ID-style token endpoint: standard client credentials in, a bearer token
out; Entra-shaped errors; App-only and App+User tokens; lastModifiedUser from the token."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from starlette.testclient import TestClient

from partnercart.server.http.app import create_app
from partnercart.server.identity.tokens import service_principal_id
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import AuthSettings, Settings

if TYPE_CHECKING:
    from tests.conftest import Api

SCOPE = "https://api.partnercenter.microsoft.com/.default"
CLIENT = "2f9a7c1e-8b3d-4e6f-a1c2-5d7e9f0b3a64"
CART = {
    "lineItems": [
        {
            "id": 0,
            "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
            "quantity": 1,
            "billingCycle": "Monthly",
            "termDuration": "P1M",
        }
    ]
}


def form(**fields: str) -> dict[str, str]:
    base = {
        "grant_type": "client_credentials",
        "client_id": CLIENT,
        "client_secret": "any-secret",
        "scope": SCOPE,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v != ""}


def get_token(api: Api, tenant: str, **fields: str) -> Any:
    return api.client.post(f"/{tenant}/oauth2/v2.0/token", data=form(**fields))


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_oauth_error(response: Any, status: int, error: str, aadsts: int | None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == ([aadsts] if aadsts is not None else [])
    if aadsts is not None:
        assert body["error_description"].startswith(f"AADSTS{aadsts}:")
    assert body["trace_id"] == response.headers["ms-requestid"]
    assert body["correlation_id"] == response.headers["ms-correlationid"]
    dt.datetime.strptime(body["timestamp"], "%Y-%m-%d %H:%M:%SZ")
    assert response.headers["cache-control"] == "no-store"
    return str(body["error_description"])


def test_client_credentials_token_works_against_the_api(api: Api) -> None:
    response = get_token(api, api.partner_id)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    claims = unverified(body["access_token"])
    assert claims["tid"] == api.partner_id
    assert claims["aud"] == "https://api.partnercenter.microsoft.com"
    assert claims["appid"] == CLIENT
    assert claims["idtyp"] == "app"
    assert "scp" not in claims
    assert claims["exp"] - claims["iat"] == 3600

    created = api.client.post(
        "/v1/customers", json=_customer(), headers=bearer(body["access_token"])
    )
    assert created.status_code == 201, created.text
    listed = api.client.get("/v1/customers", headers=bearer(body["access_token"]))
    assert listed.json()["totalCount"] == 1


def _customer() -> dict[str, Any]:
    from tests.conftest import customer_body

    return customer_body()


def test_http_basic_client_authentication(api: Api) -> None:
    credentials = base64.b64encode(f"{CLIENT}:s%3Acret".encode()).decode()
    fields = {"grant_type": "client_credentials", "scope": SCOPE}
    response = api.client.post(
        f"/{api.partner_id}/oauth2/v2.0/token",
        data=fields,
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200, response.text
    assert unverified(response.json()["access_token"])["appid"] == CLIENT


def test_v1_endpoint_with_resource(api: Api) -> None:
    fields = form(scope="", resource="https://api.partnercenter.microsoft.com")
    response = api.client.post(f"/{api.partner_id}/oauth2/token", data=fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resource"] == "https://api.partnercenter.microsoft.com"
    assert int(body["expires_on"]) - int(body["not_before"]) == 3600
    assert api.client.get("/v1/customers", headers=bearer(body["access_token"])).status_code == 200


def test_app_user_token_by_user_oid_and_upn(api: Api) -> None:
    user = str(uuid.uuid4())
    response = get_token(api, api.partner_id, user_oid=user, upn="ada@contoso.example")
    assert response.status_code == 200, response.text
    claims = unverified(response.json()["access_token"])
    assert claims["oid"] == user
    assert claims["upn"] == "ada@contoso.example"
    assert claims["scp"] == "user_impersonation"
    assert claims["appid"] == CLIENT


def test_app_user_token_by_upn_alone_has_a_stable_oid(api: Api) -> None:
    def oid_for(upn: str) -> str:
        token = get_token(api, api.partner_id, upn=upn).json()["access_token"]
        return str(unverified(token)["oid"])

    first, again, other = (
        oid_for(u) for u in ("ada@contoso.example", "ADA@contoso.example", "bob@contoso.example")
    )
    assert uuid.UUID(first)
    assert first == again != other


def test_last_modified_user_is_the_app_id_for_app_only(api: Api) -> None:
    token = get_token(api, api.partner_id).json()["access_token"]
    customer = api.new_customer()
    created = api.client.post(f"/v1/customers/{customer}/carts", json=CART, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["lastModifiedUser"] == CLIENT
    # the token's oid is the service principal, not the application id: not what is recorded
    assert unverified(token)["oid"] == service_principal_id(api.partner_id, CLIENT) != CLIENT


def test_last_modified_user_is_the_user_oid_for_app_user(api: Api) -> None:
    app_only = get_token(api, api.partner_id).json()["access_token"]
    user = str(uuid.uuid4())
    app_user = get_token(api, api.partner_id, user_oid=user).json()["access_token"]
    customer = api.new_customer()
    created = api.client.post(
        f"/v1/customers/{customer}/carts", json=CART, headers=bearer(app_only)
    )
    cart = created.json()["id"]
    assert created.json()["lastModifiedUser"] == CLIENT
    updated = api.client.put(
        f"/v1/customers/{customer}/carts/{cart}", json=CART, headers=bearer(app_user)
    )
    assert updated.status_code == 201, updated.text
    assert updated.json()["lastModifiedUser"] == user
    read = api.client.get(f"/v1/customers/{customer}/carts/{cart}", headers=bearer(app_only))
    assert read.json()["lastModifiedUser"] == user


BAD_REQUESTS: list[tuple[str, dict[str, str], int, str, int | None, str]] = [
    # (case, form changes, status, error, AADSTS, words in error_description)
    ("no_grant_type", {"grant_type": ""}, 400, "invalid_request", 900144, "'grant_type'"),
    (
        "password_grant",
        {"grant_type": "password"},
        400,
        "unsupported_grant_type",
        70003,
        "password",
    ),
    ("no_client_id", {"client_id": ""}, 400, "invalid_request", 900144, "'client_id'"),
    ("no_secret", {"client_secret": ""}, 401, "invalid_client", 7000218, "client_secret"),
    ("client_id_not_guid", {"client_id": "my-app"}, 400, "unauthorized_client", 700016, "my-app"),
    ("no_scope", {"scope": ""}, 400, "invalid_request", 900144, "'scope'"),
    (
        "scope_without_default",
        {"scope": "https://api.partnercenter.microsoft.com/user_impersonation"},
        400,
        "invalid_scope",
        1002012,
        "/.default",
    ),
    (
        "scope_of_another_api",
        {"scope": "https://graph.microsoft.com/.default"},
        400,
        "invalid_scope",
        70011,
        "https://api.partnercenter.microsoft.com/.default",
    ),
    ("user_oid_not_guid", {"user_oid": "ada"}, 400, "invalid_request", None, "user_oid"),
    ("upn_not_a_name", {"upn": "no at sign"}, 400, "invalid_request", None, "upn"),
    (
        "client_assertion",
        {"client_secret": "", "client_assertion": "x.y.z"},
        401,
        "invalid_client",
        None,
        "client_assertion",
    ),
]


@pytest.mark.parametrize(
    ("changes", "status", "error", "aadsts", "words"),
    [c[1:] for c in BAD_REQUESTS],
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_token_request(
    api: Api, changes: dict[str, str], status: int, error: str, aadsts: int | None, words: str
) -> None:
    response = get_token(api, api.partner_id, **changes)
    assert words in assert_oauth_error(response, status, error, aadsts)


def test_tenant_must_be_a_guid(api: Api) -> None:
    response = api.client.post("/contoso.onmicrosoft.com/oauth2/v2.0/token", data=form())
    assert "contoso.onmicrosoft.com" in assert_oauth_error(response, 400, "invalid_request", 90002)


def test_json_body_is_not_a_token_request(api: Api) -> None:
    response = api.client.post(f"/{api.partner_id}/oauth2/v2.0/token", json=form())
    assert "x-www-form-urlencoded" in assert_oauth_error(response, 400, "invalid_request", 900144)


def test_repeated_parameter_is_refused(api: Api) -> None:
    body = "&".join(f"{k}={v}" for k, v in form().items()) + "&scope=x"
    response = api.client.post(
        f"/{api.partner_id}/oauth2/v2.0/token",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "'scope' was sent more than once" in assert_oauth_error(
        response, 400, "invalid_request", None
    )


def test_bad_basic_header_gets_a_basic_challenge(api: Api) -> None:
    response = api.client.post(
        f"/{api.partner_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": SCOPE},
        headers={"Authorization": "Basic !!!"},
    )
    assert_oauth_error(response, 401, "invalid_client", None)
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_basic_and_form_secret_together_are_refused(api: Api) -> None:
    credentials = base64.b64encode(f"{CLIENT}:one".encode()).decode()
    response = api.client.post(
        f"/{api.partner_id}/oauth2/v2.0/token",
        data=form(client_secret="two"),
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert "authenticated twice" in assert_oauth_error(response, 400, "invalid_request", None)


def test_openid_configuration_and_jwks_verify_an_issued_token(api: Api) -> None:
    config = api.client.get(f"/{api.partner_id}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"].endswith(f"/{api.partner_id}/oauth2/v2.0/token")
    keys = api.client.get("/discovery/v2.0/keys").json()
    token = get_token(api, api.partner_id).json()["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys["keys"] if k["kid"] == kid]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(
        token,
        public,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience="https://api.partnercenter.microsoft.com",
        issuer=config["issuer"],
    )
    assert claims["tid"] == api.partner_id


# --- registered clients ------------------------------------------------------------------------

REGISTERED = "7d3c5e2a-9f41-4b8e-b6a0-3e1d2c4f5a96"


@pytest.fixture
def strict_client(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    tenant = str(uuid.uuid4())
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps(
            {
                "clients": [
                    {"clientId": REGISTERED, "clientSecret": "s3cret", "tenants": [tenant]},
                    {"clientId": CLIENT, "clientSecret": "open-for-all"},
                ]
            }
        )
    )
    settings = Settings(data_dir=tmp_path / "data", auth=AuthSettings(clients_file=clients))
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime)) as client:
            yield client, tenant
    finally:
        runtime.close()


def _post(client: TestClient, tenant: str, **fields: str) -> Any:
    return client.post(f"/{tenant}/oauth2/v2.0/token", data=form(**fields))


def test_registered_client_with_its_secret_gets_a_token(
    strict_client: tuple[TestClient, str],
) -> None:
    client, tenant = strict_client
    response = _post(client, tenant, client_id=REGISTERED, client_secret="s3cret")
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert client.get("/v1/customers", headers=bearer(token)).status_code == 200


def test_registered_client_with_a_wrong_secret_is_refused(
    strict_client: tuple[TestClient, str],
) -> None:
    client, tenant = strict_client
    response = _post(client, tenant, client_id=REGISTERED, client_secret="guess")
    assert "Invalid client secret" in assert_oauth_error(response, 401, "invalid_client", 7000215)


def test_unregistered_client_is_refused(strict_client: tuple[TestClient, str]) -> None:
    client, tenant = strict_client
    response = _post(client, tenant, client_id=str(uuid.uuid4()), client_secret="s3cret")
    assert_oauth_error(response, 400, "unauthorized_client", 700016)


def test_registered_client_only_for_its_tenants(strict_client: tuple[TestClient, str]) -> None:
    client, _tenant = strict_client
    elsewhere = str(uuid.uuid4())
    refused = _post(client, elsewhere, client_id=REGISTERED, client_secret="s3cret")
    assert elsewhere in assert_oauth_error(refused, 400, "unauthorized_client", 700016)
    anywhere = _post(client, elsewhere, client_id=CLIENT, client_secret="open-for-all")
    assert anywhere.status_code == 200, anywhere.text


def test_bad_clients_file_fails_the_start(tmp_path: Path) -> None:
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps({"clients": [{"clientId": "nope", "clientSecret": "x"}]}))
    settings = Settings(data_dir=tmp_path / "data", auth=AuthSettings(clients_file=clients))
    with pytest.raises(ValueError, match=r"clientId must be a GUID"):
        build_runtime(settings)


def test_external_mode_issues_no_tokens(tmp_path: Path) -> None:
    from partnercart.testing.identity import TestIdentityProvider

    idp = TestIdentityProvider()
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    auth = AuthSettings(mode="external", issuer=idp.issuer, jwks=str(jwks))
    runtime = build_runtime(Settings(data_dir=tmp_path / "data", auth=auth))
    try:
        with TestClient(create_app(runtime)) as client:
            response = client.post(f"/{uuid.uuid4()}/oauth2/v2.0/token", data=form())
            assert response.status_code == 404
            assert response.json()["code"] == 1000
            assert client.get("/discovery/v2.0/keys").status_code == 404
    finally:
        runtime.close()
