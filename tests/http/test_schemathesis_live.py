"""schemathesis against a live server process: no 5xx, and every response matches the OpenAPI
document the server publishes. Bounded (25 examples per operation, derandomized)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import partnercart
from partnercart.schema import xmlcodec
from partnercart.schema.common import ErrorBody, ThrottleBody
from partnercart.server.http.operations import OPERATIONS

SRC = Path(partnercart.__file__).resolve().parents[1]
LINE = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"
EXAMPLES = 25
XML_ONLY = ("application/xml", "text/xml")
#: No 5xx; every status, media type, header and body as documented; a token is required.
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    ignored_auth,
]
#: Responses are asked for in every produced media type, and in some that cannot be produced.
ACCEPT = st.sampled_from(
    [
        None,
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
        "application/xml;q=0.5, application/json;q=0.9",
        "image/png",
    ]
)
PARTNER = "6a4b2d1e-0c3f-4e5a-9b8c-7d6e5f4a3b2c"


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str
    customer_id: str
    cart_id: str
    order_id: str
    subscription_id: str

    @property
    def ids(self) -> dict[str, str]:
        product, sku, availability = LINE.split(":")
        return {
            "customer_id": self.customer_id,
            "cart_id": self.cart_id,
            "order_id": self.order_id,
            "subscription_id": self.subscription_id,
            "product_id": product,
            "sku_id": sku,
            "availability_id": availability,
        }

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLI = (sys.executable, "-m", "partnercart")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    env = dict(os.environ, PYTHONPATH=str(SRC))
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--provisioning-delay",
            "0",
            "--no-access-log",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/_partnercart/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(data_dir / 'server.log')}")
            time.sleep(0.1)
        token = subprocess.run(
            [*CLI, "token", "--tenant", PARTNER, "--data-dir", str(data_dir)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        customer = httpx.post(
            f"{url}/v1/customers",
            headers=headers,
            json={
                "companyProfile": {"domain": f"s{uuid.uuid4().hex[:8]}.onmicrosoft.com"},
                "billingProfile": {
                    "email": "a@contoso.example",
                    "culture": "en-US",
                    "language": "en",
                    "companyName": "Contoso",
                    "defaultAddress": {"country": "US"},
                },
            },
        )
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        cart = httpx.post(
            f"{url}/v1/customers/{customer_id}/carts",
            headers=headers,
            json={"lineItems": [{"catalogItemId": LINE, "quantity": 1}]},
        )
        assert cart.status_code == 201, cart.text
        # A second cart checked out, so the order and subscription routes have real ids too.
        bought = httpx.post(
            f"{url}/v1/customers/{customer_id}/carts",
            headers=headers,
            json={
                "lineItems": [
                    {
                        "catalogItemId": LINE,
                        "quantity": 2,
                        "termDuration": "P1M",
                        "billingCycle": "monthly",
                    }
                ]
            },
        ).json()["id"]
        done = httpx.post(
            f"{url}/v1/customers/{customer_id}/carts/{bought}/checkout", headers=headers
        )
        assert done.status_code == 201, done.text
        order_id = done.json()["orders"][0]["id"]
        subscriptions = httpx.get(
            f"{url}/v1/customers/{customer_id}/subscriptions", headers=headers
        ).json()["items"]
        yield LiveServer(
            url, token, customer_id, cart.json()["id"], order_id, subscriptions[0]["id"]
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _strings(value: Any) -> Iterator[str]:
    """Every string (keys too) in a JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


RESPONSE_TYPES = {(op.method.lower(), op.path): op.response for op in OPERATIONS}


@schemathesis.deserializer("application/xml", "text/xml")
def _xml_document(ctx: Any, response: Any) -> Any:
    """XML answers are checked against the same schemas: read into the document shape JSON
    gives (by the XML codec, so the element names, nesting, types and root are checked)."""
    if response.status_code == 429:
        type_: type = ThrottleBody
    elif response.status_code >= 400:
        type_ = ErrorBody
    else:
        type_ = RESPONSE_TYPES[(ctx.operation.method.lower(), ctx.operation.path)]
    return xmlcodec.parse(response.content, type_, max_elements=None)


@pytest.fixture(scope="module")
def live_schema(live_server: LiveServer) -> Any:
    config = SchemathesisConfig.from_dict({"generation": {"deterministic": True}})
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi.json", config=config)


@pytest.mark.parametrize("operation_id", [op.operation_id for op in OPERATIONS])
def test_live_server_conforms(live_server: LiveServer, live_schema: Any, operation_id: str) -> None:
    operation = live_schema.find_operation_by_id(operation_id)
    names = re.findall(r"{([^}]+)}", operation.path)
    # Valid and invalid requests; for routes with ids, half address the seeded customer and cart
    # (so the handlers past the ownership checks run too) and half keep the generated ids.
    variants: list[dict[str, Any]] = [{}]
    if names:
        variants.append({"path_parameters": {name: live_server.ids[name] for name in names}})
    strategy = st.one_of(
        [
            operation.as_strategy(generation_mode=mode, **variant)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for variant in variants
        ]
    )
    seen: list[int] = []

    @given(case=strategy, accept=ACCEPT)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, accept: str | None) -> None:
        headers = dict(live_server.headers)
        if accept is not None:
            headers["Accept"] = accept
        response = case.call(base_url=live_server.url, headers=headers, timeout=30)
        seen.append(response.status_code)
        if accept in XML_ONLY and response.status_code < 300:
            # Every resource is served in XML when only XML is acceptable, unless it holds a
            # character XML 1.0 cannot carry (then JSON, see docs/wire-format.md).
            content_type = response.headers["content-type"]  # a list of values here
            if content_type != [f"{accept}; charset=utf-8"]:
                assert content_type == ["application/json; charset=utf-8"]
                assert any(xmlcodec.unrepresentable(text) for text in _strings(response.json()))
        case.validate_response(response, checks=CHECKS)

    run()
    print(f"{operation_id}: {len(seen)} calls, statuses {sorted(set(seen))}")
    assert seen
