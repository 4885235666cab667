"""Checkout: cart -> orders, once per cart, on both databases."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from partnercart.schema.cart import CartError
from partnercart.schema.timefmt import format_timestamp
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.ids import SeededIds
from partnercart.server.http.app import create_app
from partnercart.server.runtime import Runtime, build_runtime
from partnercart.server.services.checkout import checkout_cart
from partnercart.server.services.context import Context
from partnercart.server.settings import Settings
from tests.conftest import Api, make_runtime
from tests.orders_helpers import (
    ADDON_BASE,
    ANNUAL,
    MONTHLY,
    ONE_TIME,
    PUBLISHED_LINES,
    SOFTWARE,
    checkout,
    line,
    new_cart,
    rewrite_cart_lines,
)

PUBLISHED = json.loads(
    (Path(__file__).parent / "data" / "published_checkout_843c92910439.json").read_text()
)
HEX12 = re.compile(r"^[0-9a-f]{12}$")


def _shape(value: Any, ignore: frozenset[str] = frozenset()) -> Any:
    """The keys of every object, recursively (list items by position)."""
    if isinstance(value, dict):
        return {k: _shape(v, ignore) for k, v in value.items() if k not in ignore}
    if isinstance(value, list):
        return [_shape(v, ignore) for v in value]
    return type(value).__name__


def test_published_checkout_shape_from_the_published_cart(api: Api, clock: ManualClock) -> None:
    # The published cart names additional transaction resellers, which Partner Center allows
    # only in EU/EFTA markets, and an add-on, which needs its base offer: so the customer is in
    # Germany and already owns the base (Power Apps Premium) from an earlier purchase.
    customer = api.new_customer("DE")
    base_cart = new_cart(api, customer, [ADDON_BASE])
    assert checkout(api, customer, base_cart).status_code == 201
    cart_id = new_cart(api, customer, PUBLISHED_LINES)
    response = checkout(api, customer, cart_id)
    assert response.status_code == 201, response.text
    ours = response.json()

    # Same keys everywhere, except the subscription ids, which the published answer shows
    # because its order had already been provisioned (ours are pending for the delay), and the
    # line prices and order total, which the 2023 version of the sample adds.
    assert _shape(ours, frozenset({"pricing", "totalPrice"})) == _shape(
        PUBLISHED, frozenset({"subscriptionId"})
    )
    priced = ours["orders"][0]
    assert priced["totalPrice"] == pytest.approx(
        sum(x["pricing"]["extendedPrice"] for x in priced["lineItems"])
    )

    order = ours["orders"][0]
    published = PUBLISHED["orders"][0]
    assert HEX12.match(order["id"]) and order["alternateId"] == order["id"]
    assert order["referenceCustomerId"] == customer
    assert order["creationDate"] == format_timestamp(clock.now())
    for key in ("billingCycle", "status", "transactionType", "client"):
        assert order[key] == published[key], key
    assert (order["currencyCode"], order["currencySymbol"]) == ("EUR", "€")  # the market's
    for ours_line, pub_line in zip(order["lineItems"], published["lineItems"], strict=True):
        for key in ("lineItemNumber", "offerId", "termDuration", "transactionType", "quantity"):
            assert ours_line[key] == pub_line[key], key
        assert ours_line["friendlyName"] == pub_line["friendlyName"]
        # The links are the published ones, for the customer's country.
        expected_links = json.loads(
            json.dumps(pub_line["links"]).replace("country=US", "country=DE")
        )
        assert ours_line["links"] == expected_links
    # The published sample swaps the partners of record; the participants say otherwise.
    assert order["lineItems"][1]["partnerIdOnRecord"] == "5357564"
    assert order["lineItems"][1]["additionalPartnerIdsOnRecord"] == ["517285", "5357563"]
    base = f"/customers/{customer}/orders/{order['id']}"
    assert order["links"] == {
        "self": {"uri": base, "method": "GET", "headers": []},
        "provisioningStatus": {"uri": f"{base}/provisioningstatus", "method": "GET", "headers": []},
        "patchOperation": {"uri": base, "method": "PATCH", "headers": []},
    }
    assert ours["attributes"] == {"objectType": "CartCheckoutResult"}
    assert "orderErrors" not in ours

    # Once provisioned, the order has exactly the published shape, subscription ids included.
    clock.advance(dt.timedelta(seconds=30))
    got = api.get(base.replace("/customers", "/v1/customers")).json()
    assert got["status"] == "completed"
    assert _shape(got) == _shape(published)


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (None, {}),
        (b"", {"Content-Type": "application/json"}),
        (b'"success"', {"Content-Type": "application/json"}),
        (b"null", {"Content-Type": "application/json"}),
        (b"{}", {}),
        (
            b'<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">success</string>',
            {"Content-Type": "application/xml"},
        ),
        (b"<string>success</string>", {"Content-Type": "text/xml; charset=utf-8"}),
    ],
    ids=["no-body", "empty", "success-string", "null", "empty-object", "xml-string", "text-xml"],
)
def test_checkout_body_is_optional(
    api: Api, content: bytes | None, headers: dict[str, str]
) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY])
    response = checkout(api, customer, cart_id, content=content, headers=headers)
    assert response.status_code == 201, response.text
    assert len(response.json()["orders"]) == 1


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"[1]", "application/json"),
        (b'{"lineItems": []}', "application/json"),
        (b"{nope", "application/json"),
        (b"<Cart><LineItems/></Cart>", "application/xml"),
        (b'"success"', "application/xml"),  # JSON labelled as XML is not read as JSON
    ],
)
def test_checkout_refuses_a_real_body(api: Api, content: bytes, content_type: str) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY])
    response = checkout(
        api, customer, cart_id, content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 800002
    assert api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()["status"] == "Active"


def test_mixed_billing_cycles_make_one_order_per_group(api: Api) -> None:
    customer = api.new_customer("GB")
    monthly_p1y = line("CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", "monthly", "P1Y", 2)
    cart_id = new_cart(api, customer, [MONTHLY, ANNUAL, ONE_TIME, monthly_p1y, SOFTWARE])
    result = checkout(api, customer, cart_id).json()
    orders = result["orders"]
    assert [o["billingCycle"] for o in orders] == ["monthly", "annual", "one_time"]
    assert len({o["id"] for o in orders}) == 3
    offers = [[ln["offerId"] for ln in o["lineItems"]] for o in orders]
    assert offers == [
        [MONTHLY["catalogItemId"], monthly_p1y["catalogItemId"]],
        [ANNUAL["catalogItemId"]],
        [ONE_TIME["catalogItemId"], SOFTWARE["catalogItemId"]],
    ]
    for order in orders:
        assert [ln["lineItemNumber"] for ln in order["lineItems"]] == list(
            range(len(order["lineItems"]))
        )
        assert order["currencyCode"] == "GBP" and order["currencySymbol"] == "£"
        assert order["status"] == "pending"
        assert "?country=GB" in order["lineItems"][0]["links"]["sku"]["uri"]
    # The provisioning context travels to the order line; an empty one does not.
    assert orders[2]["lineItems"][0]["provisioningContext"]["scope"] == "shared"
    assert "provisioningContext" not in orders[0]["lineItems"][0]
    assert "termDuration" not in orders[2]["lineItems"][1]


def test_checkout_twice_returns_the_same_result_and_one_set_of_orders(
    api: Api, clock: ManualClock
) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY, ANNUAL])
    first = checkout(api, customer, cart_id)
    assert first.status_code == 201
    clock.advance(dt.timedelta(days=30))  # even long after, and after provisioning
    second = checkout(api, customer, cart_id, content=b'"success"')
    assert second.status_code == 201
    assert second.content == first.content
    listed = api.get(f"/v1/customers/{customer}/orders").json()
    assert sorted(o["id"] for o in listed["items"]) == sorted(
        o["id"] for o in first.json()["orders"]
    )
    got = api.get(f"/v1/customers/{customer}/carts/{cart_id}")
    cart = got.json()
    assert cart["status"] == "Ordered"
    assert got.headers["etag"] == f'"{cart["attributes"]["etag"]}"'
    with api.runtime.services.store.unit_of_work(write=False) as uow:
        record = uow.carts.get(customer, cart_id)
        assert record is not None and record.status == "Ordered"
    # An ordered cart can no longer be changed.
    put = api.put(f"/v1/customers/{customer}/carts/{cart_id}", json={"lineItems": [MONTHLY]})
    assert put.status_code == 400 and put.json()["code"] == 800065


def test_line_errors_refuse_checkout_with_800009(api: Api) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY, ANNUAL])
    rewrite_cart_lines(
        api.runtime,
        customer,
        cart_id,
        errors={1: CartError(error_code=10001, error_description="Catalog item id is not valid.")},
    )
    response = checkout(api, customer, cart_id)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 800009
    assert body["data"] == ["$.lineItems[1]"]
    assert set(body) == {"code", "description", "data", "source"}
    assert api.get(f"/v1/customers/{customer}/orders").json()["totalCount"] == 0
    assert api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()["status"] == "Active"


def test_empty_cart_cannot_be_checked_out(api: Api) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [])
    response = checkout(api, customer, cart_id)
    assert response.status_code == 400 and response.json()["code"] == 800002


def test_expired_cart_is_not_found(api: Api, clock: ManualClock) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY])
    clock.advance(dt.timedelta(days=7))
    response = checkout(api, customer, cart_id)
    assert response.status_code == 404 and response.json()["code"] == 800008
    unknown = checkout(api, customer, str(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.json()["code"] == 800008


def test_an_ordered_cart_does_not_expire_for_replays(api: Api, clock: ManualClock) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY])
    first = checkout(api, customer, cart_id)
    clock.advance(dt.timedelta(days=8))
    assert checkout(api, customer, cart_id).content == first.content


def test_other_partner_cannot_check_out(api: Api) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY])
    other = api.as_partner(str(uuid.uuid4()))
    response = checkout(other, customer, cart_id)
    assert response.status_code == 403 and response.json()["code"] == 20002
    assert api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()["status"] == "Active"


def test_legacy_group_completes_at_once(api: Api) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [line("MS-AZR-0145P", "monthly", None), MONTHLY])
    orders = checkout(api, customer, cart_id).json()["orders"]
    legacy, modern = orders
    assert uuid.UUID(legacy["id"]) and legacy["status"] == "completed"
    assert uuid.UUID(legacy["lineItems"][0]["subscriptionId"])
    assert "links" not in legacy["lineItems"][0]
    assert modern["status"] == "pending" and "subscriptionId" not in modern["lineItems"][0]


def _runtime(tmp_path: Path, clock: ManualClock, **settings: Any) -> Runtime:
    return build_runtime(
        Settings(data_dir=tmp_path / "data", **settings), clock=clock, ids=SeededIds(7)
    )


def test_a_group_past_the_subscription_limit_fails_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    runtime = _runtime(tmp_path, clock, max_subscriptions_per_customer=2)
    try:
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, str(uuid.uuid4()))
            customer = api.new_customer()
            two_annual = [ANNUAL, line("CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", "annual", "P1Y")]
            cart_id = new_cart(api, customer, [MONTHLY, *two_annual])
            result = checkout(api, customer, cart_id).json()
            assert [o["billingCycle"] for o in result["orders"]] == ["monthly"]
            assert result["orderErrors"] == [
                {
                    "orderGroupId": "1",
                    "code": 800066,
                    "description": result["orderErrors"][0]["description"],
                }
            ]
            cart = api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()
            assert cart["status"] == "Ordered"

            # When every group fails nothing is bought: the cart stays active for a retry.
            again = new_cart(api, customer, two_annual)
            failed = checkout(api, customer, again)
            assert failed.status_code == 201
            assert failed.json()["orders"] == [] and len(failed.json()["orderErrors"]) == 1
            cart = api.get(f"/v1/customers/{customer}/carts/{again}").json()
            assert cart["status"] == "Active"
    finally:
        runtime.close()


def test_seeded_ids_make_checkout_repeatable(tmp_path: Path) -> None:
    answers = []
    for run in ("a", "b"):
        clock = ManualClock(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
        runtime = _runtime(tmp_path / run, clock)
        try:
            with TestClient(create_app(runtime)) as client:
                api = Api(client, runtime, "6d2a9f7c-0a43-4b3e-9a55-5f4f0e3c1a11")
                customer = api.new_customer(domain="seeded.onmicrosoft.com")
                cart_id = new_cart(api, customer, [MONTHLY, ONE_TIME])
                first = checkout(api, customer, cart_id).json()
                clock.advance(dt.timedelta(minutes=1))
                subs = api.get(f"/v1/customers/{customer}/subscriptions").json()
                answers.append((first, [s["id"] for s in subs["items"]]))
        finally:
            runtime.close()
    assert answers[0] == answers[1]
    assert len(answers[0][1]) == 2


def test_concurrent_checkouts_make_one_set_of_orders(
    tmp_path: Path, clock: ManualClock, database_url: str
) -> None:
    """20 threads check out one cart at once through the service layer, each in its own
    transaction: one makes the orders, the others wait on the cart's row lock and replay."""
    runtime = make_runtime(tmp_path, clock, database_url)
    try:
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, str(uuid.uuid4()))
            customer = api.new_customer()
            cart_id = new_cart(api, customer, [MONTHLY, ANNUAL, ONE_TIME])
        actor = Actor(partner_id=api.partner_id, user_id=str(uuid.uuid4()))
        services = runtime.services
        barrier = threading.Barrier(20)
        results: list[bytes] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            barrier.wait()
            try:
                with services.store.unit_of_work(write=True) as uow:
                    ctx = Context(
                        uow=uow,
                        clock=services.clock,
                        ids=services.ids,
                        catalog=services.catalog,
                        orders=services.orders,
                    )
                    body = checkout_cart(ctx, actor=actor, customer_id=customer, cart_id=cart_id)
                with lock:
                    results.append(body)
            except Exception as exc:  # recorded, asserted below
                with lock:
                    failures.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        assert len(results) == 20
        assert len(set(results)) == 1
        result = json.loads(results[0])
        assert len(result["orders"]) == 3
        with services.store.unit_of_work(write=False) as uow:
            stored = uow.orders.for_cart(cart_id)
            assert sorted(o.id for o in stored) == sorted(o["id"] for o in result["orders"])
            assert len(uow.orders.for_customer(customer)) == 3
            assert len(uow.subscriptions.for_customer(customer)) == 3
            record = uow.carts.get(customer, cart_id)
            assert record is not None and record.status == "Ordered"
    finally:
        runtime.close()


RACERS = 50


@pytest.mark.postgres
def test_concurrent_checkouts_over_two_server_processes(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race over real HTTP: two server processes on one PostgreSQL database, 50
    checkouts of one cart at once, half through each process."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.servers import Partner, ServerProcess, running

    # The server processes run this checkout's code.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1] / "src"))
    data = tmp_path / "data"
    servers = [ServerProcess(data, pg_url), ServerProcess(data, pg_url, extra=("--no-migrate",))]
    with running(servers[0]), running(servers[1]):
        partner = Partner(data)
        customer = partner.new_customer(servers[0].url)
        cart = partner.new_cart(servers[0].url, customer, [MONTHLY, ANNUAL, ONE_TIME])
        path = f"/v1/customers/{customer}/carts/{cart['id']}/checkout"
        barrier = threading.Barrier(RACERS)

        def one(n: int) -> httpx.Response:
            barrier.wait()
            return httpx.post(
                servers[n % 2].url + path, headers=partner.headers, content=b"", timeout=60
            )

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            responses = list(pool.map(one, range(RACERS)))
        assert [r.status_code for r in responses] == [201] * RACERS
        assert len({r.content for r in responses}) == 1
        orders = httpx.get(
            f"{servers[1].url}/v1/customers/{customer}/orders", headers=partner.headers
        ).json()
        assert orders["totalCount"] == 3
        assert sorted(o["id"] for o in orders["items"]) == sorted(
            o["id"] for o in responses[0].json()["orders"]
        )


def test_order_lines_without_a_friendly_name_take_the_product_title(api: Api) -> None:
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY, SOFTWARE])
    order_lines = [
        line
        for order in checkout(api, customer, cart_id).json()["orders"]
        for line in order["lineItems"]
    ]
    titles = {x["offerId"]: x["friendlyName"] for x in order_lines}
    assert titles[MONTHLY["catalogItemId"]].startswith("Microsoft 365 Business Standard")
    assert titles[SOFTWARE["catalogItemId"]].startswith("Windows Server 2019")


def test_checkout_checks_the_lines_again_at_its_own_instant(api: Api) -> None:
    """A custom term end date that was valid when the cart was written can have fallen behind
    the clock by the time of checkout: the subscription would end before it starts."""
    from tests.control_helpers import Admin

    admin = Admin(api)
    clock_path = f"/partners/{api.partner_id}/clock"
    admin.ok("PUT", clock_path, json={"now": "2026-12-28T10:00:00Z", "frozen": True})
    customer = api.new_customer()
    line = MONTHLY | {"customTermEndDate": "2026-12-31T00:00:00Z"}
    cart_id = new_cart(api, customer, [line])
    stored = api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()
    assert stored["lineItems"][0].get("error") is None
    admin.ok("POST", f"{clock_path}/advance", json={"duration": "P5D"})
    response = checkout(api, customer, cart_id)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 800009
    assert body["data"] == ["$.lineItems[0]"]
    assert "10017" in body["description"] and "customTermEndDate" in body["description"]
    assert api.get(f"/v1/customers/{customer}/orders").json()["totalCount"] == 0
    assert api.get(f"/v1/customers/{customer}/carts/{cart_id}").json()["status"] == "Active"
