"""``partnercart token``: a token for scripts, usable against a server on the same data dir."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import jwt
from click.testing import CliRunner
from starlette.testclient import TestClient

from partnercart.cli.main import main as cli
from partnercart.server.http.app import create_app
from partnercart.server.identity.tokens import user_object_id
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings

CART = {
    "lineItems": [
        {
            "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
            "quantity": 1,
            "billingCycle": "Monthly",
            "termDuration": "P1M",
        }
    ]
}


def cli_token(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["token", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.count(".") == 2 and "\n" not in token  # one line, nothing else: script-ready
    return token


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_cli_token_works_against_the_server(tmp_path: Path) -> None:
    from tests.conftest import customer_body

    data_dir = tmp_path / "data"
    partner = str(uuid.uuid4())
    token = cli_token(data_dir, "--tenant", partner)  # makes the key on first use
    runtime = build_runtime(Settings(data_dir=data_dir))
    try:
        with TestClient(create_app(runtime)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            created = client.post("/v1/customers", json=customer_body(), headers=headers)
            assert created.status_code == 201, created.text
            listed = client.get("/v1/customers", headers=headers).json()
            assert listed["totalCount"] == 1

            user = str(uuid.uuid4())
            app_user = cli_token(data_dir, "--tenant", partner, "--user", user)
            customer = created.json()["id"]
            cart = client.post(
                f"/v1/customers/{customer}/carts",
                json=CART,
                headers={"Authorization": f"Bearer {app_user}"},
            )
            assert cart.status_code == 201, cart.text
            assert cart.json()["lastModifiedUser"] == user

            # a token for another partner gets nothing of this one's
            other = cli_token(data_dir, "--tenant", str(uuid.uuid4()))
            response = client.get(
                f"/v1/customers/{customer}", headers={"Authorization": f"Bearer {other}"}
            )
            assert response.status_code == 403
    finally:
        runtime.close()


def test_cli_token_from_another_data_dir_is_refused(tmp_path: Path) -> None:
    foreign = cli_token(tmp_path / "elsewhere", "--tenant", str(uuid.uuid4()))
    runtime = build_runtime(Settings(data_dir=tmp_path / "data"))
    try:
        with TestClient(create_app(runtime)) as client:
            response = client.get("/v1/customers", headers={"Authorization": f"Bearer {foreign}"})
            assert response.status_code == 401
            assert "not one of the trusted keys" in response.json()["description"]
    finally:
        runtime.close()


def test_cli_token_options(tmp_path: Path) -> None:
    partner = str(uuid.uuid4())
    app = cli_token(tmp_path, "--tenant", partner.upper(), "--lifetime", "600")
    claims = claims_of(app)
    assert claims["tid"] == partner
    assert claims["exp"] - claims["iat"] == 600
    assert "scp" not in claims

    custom = claims_of(
        cli_token(
            tmp_path,
            "--tenant",
            partner,
            "--issuer",
            "https://issuer.test/{tenantid}/",
            "--audience",
            "api://partnercart",
        )
    )
    assert custom["iss"] == f"https://issuer.test/{partner}/"
    assert custom["aud"] == "api://partnercart"

    by_upn = claims_of(cli_token(tmp_path, "--tenant", partner, "--upn", "ada@contoso.example"))
    assert by_upn["oid"] == user_object_id(partner, "ada@contoso.example")
    assert by_upn["upn"] == "ada@contoso.example"
    assert by_upn["scp"] == "user_impersonation"


def test_cli_token_refuses_bad_ids(tmp_path: Path) -> None:
    runner = CliRunner()
    for args, hint in [
        (["--tenant", "contoso"], "--tenant"),
        (["--tenant", str(uuid.uuid4()), "--client-id", "app"], "--client-id"),
        (["--tenant", str(uuid.uuid4()), "--user", "ada"], "--user"),
        (["--tenant", str(uuid.uuid4()), "--lifetime", "0"], "--lifetime"),
    ]:
        result = runner.invoke(cli, ["token", "--data-dir", str(tmp_path), *args])
        assert result.exit_code == 2, result.output
        assert hint in result.output
