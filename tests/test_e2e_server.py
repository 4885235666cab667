"""End to end against a real server process: a plain OAuth2 client-credentials form POST to the
token endpoint, then the API with that token. Nothing of partnercart's is imported to call it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import partnercart
from partnercart.testing.identity import TestIdentityProvider

pytestmark = pytest.mark.slow

SRC = Path(partnercart.__file__).resolve().parent.parent
CUSTOMER = {
    "companyProfile": {"domain": "northwind.onmicrosoft.com"},
    "billingProfile": {
        "email": "admin@northwind.example",
        "culture": "en-US",
        "language": "en",
        "companyName": "Northwind",
        "defaultAddress": {
            "country": "US",
            "city": "Redmond",
            "state": "WA",
            "addressLine1": "One Microsoft Way",
            "postalCode": "98052",
        },
    },
}
CART = {
    "lineItems": [
        {
            "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
            "quantity": 3,
            "billingCycle": "Monthly",
            "termDuration": "P1M",
        }
    ]
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(data_dir: Path, *options: str) -> Iterator[str]:
    """``python -m partnercart serve`` in a child process; its base URL once it answers."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    log = data_dir.parent / f"server-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "partnercart",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *options,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()}")
                try:
                    if httpx.get(f"{base}/_partnercart/ping", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_client_credentials_then_the_api(tmp_path: Path) -> None:
    partner = str(uuid.uuid4())
    other = str(uuid.uuid4())
    with server(tmp_path / "data") as base:
        issued = httpx.post(
            f"{base}/{partner}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "3a1f6c2d-7b8e-4d90-a5f1-2c3b4d5e6f70",
                "client_secret": "local-secret",
                "scope": "https://api.partnercenter.microsoft.com/.default",
            },
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()
        assert token["token_type"] == "Bearer"
        headers = {"Authorization": f"{token['token_type']} {token['access_token']}"}

        customer = httpx.post(f"{base}/v1/customers", json=CUSTOMER, headers=headers)
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        cart = httpx.post(f"{base}/v1/customers/{customer_id}/carts", json=CART, headers=headers)
        assert cart.status_code == 201, cart.text
        assert cart.json()["lastModifiedUser"] == "3a1f6c2d-7b8e-4d90-a5f1-2c3b4d5e6f70"
        read = httpx.get(
            f"{base}/v1/customers/{customer_id}/carts/{cart.json()['id']}", headers=headers
        )
        assert read.status_code == 200
        assert read.json()["lineItems"][0]["quantity"] == 3

        # another partner's token, got the same way, is refused that customer
        theirs = httpx.post(
            f"{base}/{other}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "3a1f6c2d-7b8e-4d90-a5f1-2c3b4d5e6f70",
                "client_secret": "local-secret",
                "scope": "https://api.partnercenter.microsoft.com/.default",
            },
        ).json()["access_token"]
        refused = httpx.get(
            f"{base}/v1/customers/{customer_id}", headers={"Authorization": f"Bearer {theirs}"}
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == 20002

        # no token, no service
        bare = httpx.get(f"{base}/v1/customers")
        assert bare.status_code == 401
        assert bare.headers["www-authenticate"].startswith("Bearer")

        # the control plane takes the admin key made in the data dir, not the partner token
        admin_key = (tmp_path / "data" / "admin-key").read_text().strip()
        partners = httpx.get(
            f"{base}/_partnercart/partners", headers={"X-Partnercart-Admin-Key": admin_key}
        )
        assert partners.status_code == 200
        owners = {p["id"]: p["customers"] for p in partners.json()["items"]}
        # Every partner seen (the refused one appears through the request log) but only one
        # owns a customer.
        assert owners[partner] == 1
        assert sum(owners.values()) == 1
        assert httpx.get(f"{base}/_partnercart/partners", headers=headers).status_code == 401


def test_external_mode_from_the_command_line(tmp_path: Path) -> None:
    idp = TestIdentityProvider(issuer="https://login.idp.test/{tenantid}/v2.0")
    jwks = idp.write_jwks(tmp_path / "jwks.json")
    partner = str(uuid.uuid4())
    options = ["--auth", "external", "--issuer", idp.issuer, "--jwks", str(jwks)]
    with server(tmp_path / "data", *options) as base:
        headers = {"Authorization": f"Bearer {idp.token(partner)}"}
        assert httpx.get(f"{base}/v1/customers", headers=headers).status_code == 200
        new_kid = idp.add_key()
        idp.write_jwks(jwks)  # rotated while the server runs
        rotated = {"Authorization": f"Bearer {idp.token(partner, kid=new_kid)}"}
        assert httpx.get(f"{base}/v1/customers", headers=rotated).status_code == 200
        # the emulator's own token endpoint is off in external mode
        assert httpx.post(f"{base}/{partner}/oauth2/v2.0/token", data={}).status_code == 404
