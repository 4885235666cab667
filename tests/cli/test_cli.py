"""The CLI with click's CliRunner against a real partnercart server process (and, for routes
the server does not serve yet, a mock transport with published sample bodies)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from partnercart.cli.main import main
from partnercart.testing._server import RunningServer, free_port
from tests.client.fakes import Script, json_response, sample
from tests.conftest import Api


@pytest.fixture
def env(partnercart_server: RunningServer) -> dict[str, str]:
    return {
        "PARTNERCART_URL": partnercart_server.url,
        "PARTNERCART_TENANT": str(uuid.uuid4()),
        "PARTNERCART_TOKEN": "",
    }


def run(env: dict[str, str], *args: str, obj: Any = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, obj=obj)


def ok_json(env: dict[str, str], *args: str) -> Any:
    result = run(env, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def new_customer(env: dict[str, str]) -> str:
    return str(ok_json(env, "customers", "create", "--company", "Fabrikam")["id"])


def test_customers_create_list_get(env: dict[str, str]) -> None:
    customer = ok_json(env, "customers", "create", "--company", "Fabrikam", "--country", "DE")
    assert customer["billingProfile"]["companyName"] == "Fabrikam"
    listed = ok_json(env, "customers", "list")
    assert [c["id"] for c in listed] == [customer["id"]]
    table = run(env, "customers", "list")
    assert table.exit_code == 0
    assert customer["id"] in table.stdout and "Fabrikam" in table.stdout
    shown = run(env, "customers", "get", customer["id"])
    assert shown.exit_code == 0 and "DE" in shown.stdout


def test_carts_create_from_flags_get_and_update_from_a_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    customer = new_customer(env)
    cart = ok_json(
        env,
        "carts",
        "create",
        customer,
        "--catalog-item",
        "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
        "--catalog-item",
        "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
        "--quantity",
        "3",
        "--term",
        "P1Y",
        "--billing",
        "annual",
    )
    assert [li["quantity"] for li in cart["lineItems"]] == [3, 3]
    assert cart["lineItems"][0]["billingCycle"] == "annual"

    # the documented round trip: get --json, edit, update --file
    fetched = ok_json(env, "carts", "get", customer, cart["id"])
    fetched["lineItems"] = fetched["lineItems"][:1]
    fetched["lineItems"][0]["quantity"] = 9
    path = tmp_path / "cart.json"
    path.write_text(json.dumps(fetched))
    updated = ok_json(env, "carts", "update", customer, cart["id"], "--file", str(path))
    assert [li["quantity"] for li in updated["lineItems"]] == [9]

    table = run(env, "carts", "get", customer, cart["id"])
    assert table.exit_code == 0
    assert "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS" in table.stdout and "Active" in table.stdout


def test_carts_create_from_a_yaml_file_in_pascal_case(env: dict[str, str], tmp_path: Path) -> None:
    customer = new_customer(env)
    path = tmp_path / "cart.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "PartnerOnRecordAttestationAccepted": True,
                "LineItems": [
                    {
                        "Id": 0,
                        "CatalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
                        "Quantity": 4,
                        "TermDuration": "P1M",
                        "BillingCycle": "Monthly",
                    }
                ],
            }
        )
    )
    cart = ok_json(env, "carts", "create", customer, "--file", str(path))
    assert cart["lineItems"][0]["quantity"] == 4
    assert cart["lineItems"][0]["billingCycle"] == "monthly"


def test_carts_seed_creates_n_carts_with_a_progress_bar(env: dict[str, str]) -> None:
    customer = new_customer(env)
    result = run(env, "carts", "seed", customer, "--count", "6", "--json")
    assert result.exit_code == 0, result.output
    ids = json.loads(result.stdout)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert "creating carts" in result.stderr and "6/6" in result.stderr
    for cart_id in ids[:2]:
        assert ok_json(env, "carts", "get", customer, cart_id)["id"] == cart_id


def test_exit_code_4_for_not_found(env: dict[str, str]) -> None:
    customer = new_customer(env)
    result = run(env, "carts", "get", customer, str(uuid.uuid4()))
    assert result.exit_code == 4
    assert "800008" in result.stderr and "MS-RequestId" in result.stderr


def test_exit_code_6_for_bad_input(env: dict[str, str], tmp_path: Path) -> None:
    customer = new_customer(env)
    broken = tmp_path / "broken.json"
    broken.write_text('{"lineItems": [')
    assert run(env, "carts", "create", customer, "--file", str(broken)).exit_code == 6
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("lineItems:\n  - quantity: two\n")
    result = run(env, "carts", "create", customer, "--file", str(wrong))
    assert result.exit_code == 6
    assert "lineItems[0]" in result.stderr
    # the server's own 400
    negative = run(env, "carts", "create", customer, "--catalog-item", "A:B:C", "--quantity", "1")
    assert negative.exit_code == 0
    server_side = tmp_path / "negative.json"
    server_side.write_text('{"lineItems": [{"catalogItemId": "A:B:C", "quantity": -5}]}')
    assert run(env, "carts", "create", customer, "--file", str(server_side)).exit_code == 6


def test_exit_code_3_for_a_bad_token(env: dict[str, str]) -> None:
    bad = dict(env, PARTNERCART_TENANT="", PARTNERCART_TOKEN="not-a-token")
    result = run(bad, "customers", "list")
    assert result.exit_code == 3
    assert "401" in result.stderr


def test_exit_code_2_without_identity(env: dict[str, str]) -> None:
    result = run(dict(env, PARTNERCART_TENANT="", PARTNERCART_TOKEN=""), "customers", "list")
    assert result.exit_code == 2
    assert "--tenant" in result.output


def test_exit_code_7_when_the_server_is_unreachable(env: dict[str, str]) -> None:
    down = dict(env, PARTNERCART_URL=f"http://127.0.0.1:{free_port()}", PARTNERCART_TENANT="")
    result = run(down, "customers", "list", "--token", "t", "--retries", "0")
    assert result.exit_code == 7
    assert "ConnectError" in result.stderr


def test_help_explains_commands_and_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for word in ("customers", "carts", "orders", "catalog", "serve", "token", "Exit codes"):
        assert word in result.output
    for group in ("customers", "carts", "orders", "catalog"):
        sub = CliRunner().invoke(main, [group, "--help"])
        assert sub.exit_code == 0 and "Examples:" in sub.output


# --- routes the server does not serve yet: a mock transport with published samples --------


def mocked(script: Script, *args: str) -> Result:
    env = {"PARTNERCART_URL": "https://pc.example", "PARTNERCART_TOKEN": "t"}
    return CliRunner().invoke(main, list(args), env=env, obj={"transport": script.transport()})


def test_checkout_prints_the_orders() -> None:
    script = Script([json_response(201, sample("checkout-a-cart.json"))])
    result = mocked(script, "carts", "checkout", "c1", "k1")
    assert result.exit_code == 0, result.output
    assert "VulAvcXKPvZqsyAAaahiT7Ii0QEJuReH1" in result.stdout
    assert script.requests[0].content == b'"success"'


def test_orders_list_get_status_cancel() -> None:
    script = Script(
        [
            json_response(200, sample("get-orders-by-billing-cycle.json")),
            json_response(200, sample("get-an-order-by-id.json")),
            json_response(200, sample("provisioning-status.json")),
            json_response(200, sample("get-an-order-by-id.json") | {"status": "cancelled"}),
        ]
    )
    listed = mocked(script, "orders", "list", "c1", "--billing-type", "one_time", "--json")
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 2
    assert script.requests[0].url.params["billingType"] == "OneTime"
    got = mocked(script, "orders", "get", "c1", "o1", "--include-price")
    assert got.exit_code == 0 and "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1" in got.stdout
    assert script.requests[1].url.params["include_price"] == "True"
    status = mocked(script, "orders", "status", "c1", "o1")
    assert status.exit_code == 0 and "fulfilled" in status.stdout
    cancelled = mocked(script, "orders", "cancel", "c1", "o1", "--json")
    assert cancelled.exit_code == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    assert script.requests[3].method == "PATCH"


def test_catalog_commands() -> None:
    script = Script(
        [
            json_response(200, {"totalCount": 1, "items": [sample("product.json")]}),
            json_response(200, sample("skus.json")),
            json_response(200, sample("availabilities.json")),
        ]
    )
    products = mocked(script, "catalog", "products", "--target-view", "Azure")
    assert products.exit_code == 0 and "DZH318Z0BQ3Q" in products.stdout
    skus = mocked(script, "catalog", "skus", "DZH318Z0BQ5S")
    assert skus.exit_code == 0 and "one_time" in skus.stdout
    avail = mocked(script, "catalog", "availabilities", "DZH318Z0BQ3Q", "0001", "--json")
    assert avail.exit_code == 0
    assert json.loads(avail.stdout)[0]["catalogItemId"] == "DZH318Z0BQ3Q:0001:DZH318Z0HMKQ"
    assert [r.url.params["country"] for r in script.requests] == ["US", "US", "US"]


def test_a_conflict_exits_5() -> None:
    # (800064, "being processed by another request", is retried by the client; 800060 is not.)
    body = {"code": 800060, "description": "Order in progress: check the order history later"}
    script = Script([json_response(409, body)])
    result = mocked(script, "carts", "checkout", "c1", "k1")
    assert result.exit_code == 5
    assert "800060" in result.stderr


def test_customers_list_reads_partner_centers_list_without_billing_profiles() -> None:
    item = {
        "id": "c575d54b-9cfa-4c8f-8b51-dd5fe3b1a5f0",
        "companyProfile": {"domain": "contoso190.onmicrosoft.com", "companyName": "Contoso190"},
        "relationshipToPartner": "reseller",
    }
    script = Script([json_response(200, {"totalCount": 1, "items": [item]})])
    result = mocked(script, "customers", "list")
    assert result.exit_code == 0, result.stderr
    assert "Contoso190" in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--port", "70000", "70000 is not in the range 0<=x<=65535"),
        ("--frozen-at", "9999-12-31T00:00:00Z", "outside the instants a clock may show"),
    ],
)
def test_serve_refuses_an_impossible_port_or_frozen_instant_before_starting(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), option, value])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert not (tmp_path / "partnercart.db").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("customers", "get", ""),
        ("catalog", "products", "--country", "USA", "--target-view", "Azure"),
        ("customers", "list", "--timeout", "-1"),
    ],
    ids=["empty-id", "three-letter-country", "negative-timeout"],
)
def test_input_the_client_refuses_is_a_usage_error_not_a_traceback(args: tuple[str, ...]) -> None:
    script = Script([])
    result = mocked(script, *args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an exception escaping the command
    assert "rror" in result.output  # "error: ..." or click's "Error: ..."
    assert script.requests == []


def test_a_request_file_in_utf16_is_read_and_one_that_is_not_text_is_bad_input(
    tmp_path: Path,
) -> None:
    cart = {
        "lineItems": [{"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 2, "id": 0}]
    }
    utf16 = tmp_path / "cart16.json"
    utf16.write_bytes(json.dumps(cart).encode("utf-16"))  # with its byte order mark
    script = Script([lambda request: httpx.Response(201, content=request.content)])
    result = mocked(script, "carts", "update", "c1", "k1", "--file", str(utf16))
    assert result.exit_code == 0, result.output
    assert json.loads(script.requests[0].content)["lineItems"][0]["quantity"] == 2
    latin = tmp_path / "cart-latin1.json"
    latin.write_bytes('{"lineItems": [], "note": "Caf\u00e9"}'.encode("latin-1"))
    result = mocked(Script([]), "carts", "update", "c1", "k1", "--file", str(latin))
    assert result.exit_code == 6, result.output
    assert "is not UTF-8 text" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("reset", "--partner", ""),
        ("faults", "clear", "--partner", " "),
        ("faults", "list", "--partner", ""),
    ],
)
def test_an_empty_partner_is_refused_not_read_as_every_partner(args: tuple[str, ...]) -> None:
    """Left out, --partner means every partner; "$(...)" of a failed step gives "" instead."""
    result = CliRunner().invoke(
        main, ["control", "--url", "http://127.0.0.1:9", "--admin-key", "k", *args]
    )
    assert result.exit_code == 2, result.output
    assert "--partner" in result.output and "is empty" in result.output


def test_control_lists_say_when_they_are_empty(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """``control requests`` printed nothing at all for an empty log; now one line says so,
    while ``--json`` and the commands that print JSON stay JSON (an empty ``items``)."""

    def through_the_app(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)  # the test client refuses one
        response: httpx.Response = api.client.request(method, httpx.URL(url).path, **kwargs)
        return response

    monkeypatch.setattr(httpx, "request", through_the_app)
    base = ["control", "--url", "http://127.0.0.1:9", "--admin-key", api.runtime.admin_key]

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, [*base, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert run("requests") == "no requests logged\n"
    partner = api.partner_id
    assert run("requests", "--partner", partner) == f"no requests logged for partner {partner}\n"
    assert json.loads(run("requests", "--json"))["items"] == []
    assert json.loads(run("partners"))["items"] == []
    assert json.loads(run("faults", "list"))["items"] == []
    assert api.get("/v1/customers").status_code == 200
    [logged] = run("requests", "--partner", partner).splitlines()
    assert "GET" in logged and "/v1/customers  200" in logged
    assert run("requests", "--partner", str(uuid.uuid4())).startswith("no requests logged for")


def test_carts_seed_prints_the_carts_it_made_when_some_fail() -> None:
    """Four carts made, one refused: the four ids still reach stdout, and the exit code and
    stderr say what failed."""
    made: list[str] = []

    def created(request: httpx.Request) -> httpx.Response:
        cart = json.loads(request.content) | {"id": f"cart-{len(made)}"}
        made.append(cart["id"])
        return httpx.Response(201, json=cart)

    refused = json_response(400, {"code": 800002, "description": "no", "data": []})
    script = Script([created, created, refused, created, created])
    result = mocked(script, "carts", "seed", "c1", "--count", "5", "--concurrency", "1", "--json")
    assert result.exit_code == 6, result.output
    assert sorted(json.loads(result.stdout)) == sorted(made) and len(made) == 4
    assert "4 of 5 carts created; 1 failed" in result.stderr
