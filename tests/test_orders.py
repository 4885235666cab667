"""Orders after checkout: reads at the clock's instant, provisioning, cancellation,
subscriptions, and who may see them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from partnercart.schema.cart import Pricing
from partnercart.server.domain.clock import ManualClock
from tests.conftest import Api
from tests.orders_helpers import (
    ANNUAL,
    MONTHLY,
    ONE_TIME,
    SOFTWARE,
    checkout,
    new_cart,
    rewrite_cart_lines,
)

DELAY = dt.timedelta(seconds=30)


def _checkout(api: Api, customer: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cart_id = new_cart(api, customer, lines)
    response = checkout(api, customer, cart_id)
    assert response.status_code == 201, response.text
    orders: list[dict[str, Any]] = response.json()["orders"]
    return orders


def _patch(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.request("PATCH", path, json=body)


def test_order_completes_only_after_its_delay(db_api: Api, clock: ManualClock) -> None:
    api = db_api
    customer = api.new_customer()
    (order,) = _checkout(api, customer, [MONTHLY, ANNUAL | {"billingCycle": "monthly"}])
    base = f"/v1/customers/{customer}/orders/{order['id']}"

    def state() -> tuple[str, list[str | None], list[str], list[str]]:
        got = api.get(base).json()
        prov = api.get(f"{base}/provisioningstatus").json()
        subs = api.get(f"/v1/customers/{customer}/subscriptions?order_id={order['id']}").json()
        assert subs["totalCount"] == len(subs["items"])
        return (
            got["status"],
            [ln.get("subscriptionId") for ln in got["lineItems"]],
            [item["status"] for item in prov["items"]],
            [s["id"] for s in subs["items"]],
        )

    assert state() == ("pending", [None, None], ["prefulfillment_pending"] * 2, [])
    clock.advance(DELAY - dt.timedelta(microseconds=1))
    assert state() == ("pending", [None, None], ["prefulfillment_pending"] * 2, [])
    clock.advance(dt.timedelta(microseconds=1))
    status, sub_ids, provisioning, listed = state()
    assert status == "completed"
    assert all(sub_ids) and len(set(sub_ids)) == 2
    assert provisioning == ["fulfilled", "fulfilled"]
    assert listed == sub_ids
    # Provisioning status in the published shape.
    prov = api.get(f"{base}/provisioningstatus").json()
    assert prov == {
        "totalCount": 2,
        "items": [
            {
                "orderLineItemId": n,
                "lineItemNumber": n,
                "status": "fulfilled",
                "quantityProvisioningInformation": [{"quantity": q, "status": "fulfilled"}],
            }
            for n, q in ((0, MONTHLY["quantity"]), (1, ANNUAL["quantity"]))
        ],
        "attributes": {"objectType": "Collection"},
    }
    # The subscriptions in the Partner Center shape, and each one by id.
    subs = api.get(f"/v1/customers/{customer}/subscriptions?order_id={order['id']}").json()
    assert subs["attributes"] == {"objectType": "Collection"}
    first = subs["items"][0]
    assert first["offerId"] == MONTHLY["catalogItemId"]
    assert first["quantity"] == MONTHLY["quantity"]
    assert first["status"] == "active" and first["orderId"] == order["id"]
    assert first["billingCycle"] == "monthly" and first["termDuration"] == "P1M"
    assert first["autoRenewEnabled"] is True and first["isTrial"] is False
    assert order["creationDate"] == "2026-03-01T12:00:00.1234560Z"
    assert first["creationDate"] == "2026-03-01T12:00:30.1234560Z"  # provisioned at
    assert first["effectiveStartDate"] == "2026-03-01T00:00:00.0000000Z"
    assert first["commitmentEndDate"] == "2026-03-31T00:00:00.0000000Z"
    assert subs["items"][1]["commitmentEndDate"] == "2027-02-28T00:00:00.0000000Z"
    assert first["attributes"] == {"objectType": "Subscription"}
    one = api.get(f"/v1/customers/{customer}/subscriptions/{first['id']}")
    assert one.status_code == 200 and one.json() == first
    # Later reads are stable.
    clock.advance(dt.timedelta(days=3))
    assert state() == (status, sub_ids, provisioning, listed)


def test_provisioning_delay_is_a_setting(tmp_path: Any, clock: ManualClock) -> None:
    from starlette.testclient import TestClient

    from partnercart.server.http.app import create_app
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import Settings

    settings = Settings(data_dir=tmp_path / "d", provisioning_delay=dt.timedelta(hours=2))
    runtime = build_runtime(settings, clock=clock)
    try:
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, str(uuid.uuid4()))
            customer = api.new_customer()
            (order,) = _checkout(api, customer, [MONTHLY])
            path = f"/v1/customers/{customer}/orders/{order['id']}"
            clock.advance(dt.timedelta(hours=1))
            assert api.get(path).json()["status"] == "pending"
            clock.advance(dt.timedelta(hours=1))
            assert api.get(path).json()["status"] == "completed"
    finally:
        runtime.close()


def test_include_price(db_api: Api) -> None:
    api = db_api
    customer = api.new_customer()
    cart_id = new_cart(api, customer, [MONTHLY, ANNUAL | {"billingCycle": "monthly"}])
    rewrite_cart_lines(
        api.runtime,
        customer,
        cart_id,
        pricing={
            0: Pricing(list_price=6.0, discounted_price=6.0, price=6.0, extended_price=18.0),
            1: Pricing(list_price=30.4, price=30.4, extended_price=364.8 * 5 / 5),
        },
    )
    result = checkout(api, customer, cart_id).json()
    # The checkout answer carries prices, as the 2023 sample does.
    assert result["orders"][0]["totalPrice"] == 382.8
    order_id = result["orders"][0]["id"]
    path = f"/v1/customers/{customer}/orders/{order_id}"
    for text in ("True", "true", "TRUE"):
        priced = api.get(path, params={"include_price": text}).json()
        assert priced["totalPrice"] == 382.8
        assert priced["lineItems"][0]["pricing"] == {
            "listPrice": 6.0,
            "discountedPrice": 6.0,
            "price": 6.0,
            "extendedPrice": 18.0,
        }
    for params in ({"include_price": "False"}, {"include_price": "false"}, {}):
        plain = api.get(path, params=params).json()
        assert "totalPrice" not in plain
        assert all("pricing" not in ln for ln in plain["lineItems"])
    listed = api.get(f"/v1/customers/{customer}/orders", params={"include_price": "True"}).json()
    assert listed["items"][0]["totalPrice"] == 382.8
    bad = api.get(path, params={"include_price": "maybe"})
    assert bad.status_code == 400 and bad.json()["code"] == 900126


def test_billing_type_filter(db_api: Api) -> None:
    api = db_api
    customer = api.new_customer()
    orders = _checkout(api, customer, [MONTHLY, ONE_TIME, ANNUAL])
    ids = {o["billingCycle"]: o["id"] for o in orders}
    path = f"/v1/customers/{customer}/orders"
    everything = api.get(path).json()
    assert everything["totalCount"] == 3
    assert everything["links"]["self"]["uri"] == f"/customers/{customer}/orders"
    assert everything["attributes"] == {"objectType": "Collection"}
    for text in ("onetime", "one_time", "OneTime", "ONE_TIME", "4"):
        got = api.get(path, params={"billingType": text}).json()
        assert [o["id"] for o in got["items"]] == [ids["one_time"]], text
    assert [o["id"] for o in api.get(path, params={"billingType": "Monthly"}).json()["items"]] == [
        ids["monthly"]
    ]
    assert api.get(path, params={"billingType": "triennial"}).json()["totalCount"] == 0
    bad = api.get(path, params={"billingType": "weekly"})
    assert bad.status_code == 400 and bad.json()["code"] == 900126
    # The enum's number is in ASCII digits, as .NET parses it: "٤" (Arabic-Indic four) is no
    # number (it was taken for 4, one_time).
    for text in ("\u0664", "\uff14", "99"):
        bad = api.get(path, params={"billingType": text})
        assert bad.status_code == 400 and bad.json()["code"] == 900126, text


def test_query_parameter_names_match_in_any_case(api: Api, clock: ManualClock) -> None:
    """As on the catalog routes (and in ASP.NET's model binding): ``billingtype=`` is
    ``billingType=``. They were matched exactly, so another casing was silently ignored and the
    answer was the unfiltered list, or the order without prices."""
    customer = api.new_customer()
    orders = _checkout(api, customer, [MONTHLY, ONE_TIME])
    ids = {o["billingCycle"]: o["id"] for o in orders}
    clock.advance(DELAY)  # provisioned: the subscriptions exist
    path = f"/v1/customers/{customer}/orders"
    for name in ("billingtype", "BillingType", "BILLINGTYPE"):
        got = api.get(path, params={name: "OneTime"}).json()
        assert [o["id"] for o in got["items"]] == [ids["one_time"]], name
    bad = api.get(path, params={"billingtype": "weekly"})
    assert bad.status_code == 400 and bad.json()["data"] == ["billingType"]
    for name in ("Include_Price", "INCLUDE_PRICE"):
        for target in (f"{path}/{ids['monthly']}", path):
            got = api.get(target, params={name: "True"}).json()
            order = got["items"][0] if "items" in got else got
            assert "totalPrice" in order, (name, target)
    subscriptions = f"/v1/customers/{customer}/subscriptions"
    for name in ("Order_Id", "ORDER_ID"):
        got = api.get(subscriptions, params={name: ids["monthly"]}).json()
        assert [s["orderId"] for s in got["items"]] == [ids["monthly"]], name
        assert got["links"]["self"]["uri"] == f"{subscriptions[3:]}?order_id={ids['monthly']}"
    # A repeated parameter: the first counts, in any casing.
    got = api.get(f"{path}?billingType=monthly&BILLINGTYPE=OneTime").json()
    assert [o["id"] for o in got["items"]] == [ids["monthly"]]


def test_cancel_a_one_time_order(db_api: Api, clock: ManualClock) -> None:
    api = db_api
    customer = api.new_customer()
    (order,) = _checkout(api, customer, [ONE_TIME, SOFTWARE])
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    clock.advance(DELAY)  # provisioned
    sub_ids = [ln["subscriptionId"] for ln in api.get(path).json()["lineItems"]]

    # One line: the order stays, that line drops to quantity 0 and its subscription is deleted.
    one = _patch(
        api,
        path,
        {
            "id": order["id"],
            "status": "Cancelled",
            "lineItems": [{"lineItemNumber": 1, "offerId": SOFTWARE["catalogItemId"]}],
        },
    )
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "completed"
    assert [ln["quantity"] for ln in one.json()["lineItems"]] == [1, 0]
    prov = api.get(f"{path}/provisioningstatus").json()
    assert [i["status"] for i in prov["items"]] == ["fulfilled", "unfulfilled"]
    subs = api.get(f"/v1/customers/{customer}/subscriptions?order_id={order['id']}").json()
    assert [(s["id"], s["status"]) for s in subs["items"]] == [
        (sub_ids[0], "active"),
        (sub_ids[1], "deleted"),
    ]

    # The rest: the whole order is cancelled; cancelling again changes nothing.
    rest = _patch(api, path, {"status": "cancelled"})
    assert rest.status_code == 200
    assert rest.json()["status"] == "cancelled"
    assert [ln["quantity"] for ln in rest.json()["lineItems"]] == [0, 0]
    assert api.get(path).json()["status"] == "cancelled"
    again = _patch(api, path, {"status": "cancelled"})
    assert again.status_code == 200 and again.json() == rest.json()


def test_cancel_before_provisioning_leaves_no_subscription(api: Api, clock: ManualClock) -> None:
    customer = api.new_customer()
    (order,) = _checkout(api, customer, [SOFTWARE])
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    assert _patch(api, path, {"status": "cancelled"}).json()["status"] == "cancelled"
    clock.advance(DELAY * 2)
    got = api.get(path).json()
    assert got["status"] == "cancelled" and "subscriptionId" not in got["lineItems"][0]
    prov = api.get(f"{path}/provisioningstatus").json()
    assert prov["items"][0]["status"] == "unfulfilled"
    subs = api.get(f"/v1/customers/{customer}/subscriptions?order_id={order['id']}").json()
    assert subs["totalCount"] == 0


def test_cancel_refusals(api: Api, clock: ManualClock) -> None:
    customer = api.new_customer()
    monthly, one_time = _checkout(api, customer, [MONTHLY, SOFTWARE])
    monthly_path = f"/v1/customers/{customer}/orders/{monthly['id']}"
    path = f"/v1/customers/{customer}/orders/{one_time['id']}"

    def refused(target: str, body: dict[str, Any]) -> tuple[int, int]:
        response = _patch(api, target, body)
        return response.status_code, response.json()["code"]

    assert refused(monthly_path, {"status": "cancelled"}) == (400, 800061)
    assert refused(path, {"status": "cancelled", "lineItems": [{"lineItemNumber": 5}]}) == (
        400,
        800071,
    )
    wrong_offer = {"status": "cancelled", "lineItems": [{"lineItemNumber": 0, "offerId": "X"}]}
    assert refused(path, wrong_offer) == (400, 800004)
    # A line without its number says so (the description read "Line item number None").
    unnumbered = _patch(api, path, {"status": "cancelled", "lineItems": [{"offerId": "X"}]})
    assert (unnumbered.status_code, unnumbered.json()["code"]) == (400, 800071)
    assert unnumbered.json()["data"] == ["$.lineItems[0].lineItemNumber"]
    assert "None" not in unnumbered.json()["description"]
    assert "lineItemNumber" in unnumbered.json()["description"]
    assert refused(path, {"billingCycle": "annual"}) == (400, 800002)
    assert refused(path, {"id": "000000000000", "status": "cancelled"}) == (400, 800002)
    clock.advance(dt.timedelta(days=30, seconds=1))
    assert refused(path, {"status": "cancelled"}) == (400, 900117)
    assert api.get(path).json()["status"] == "completed"


def test_unknown_order_is_404(api: Api) -> None:
    customer = api.new_customer()
    for path in (
        f"/v1/customers/{customer}/orders/abcdefabcdef",
        f"/v1/customers/{customer}/orders/abcdefabcdef/provisioningstatus",
        f"/v1/customers/{customer}/subscriptions?order_id=abcdefabcdef",
    ):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["code"] == 20000, path
    missing = api.get(f"/v1/customers/{customer}/subscriptions/{uuid.uuid4()}")
    assert missing.status_code == 404


def test_another_partner_is_refused_on_every_order_route(api: Api, clock: ManualClock) -> None:
    customer = api.new_customer()
    (order,) = _checkout(api, customer, [SOFTWARE])
    clock.advance(DELAY)
    sub_id = api.get(f"/v1/customers/{customer}/orders/{order['id']}").json()["lineItems"][0][
        "subscriptionId"
    ]
    other = api.as_partner(str(uuid.uuid4()))
    other.new_customer()  # the other partner has customers of its own
    base = f"/v1/customers/{customer}"
    calls = [
        ("GET", f"{base}/orders/{order['id']}", None),
        ("GET", f"{base}/orders", None),
        ("GET", f"{base}/orders?billingType=OneTime", None),
        ("GET", f"{base}/orders/{order['id']}/provisioningstatus", None),
        ("PATCH", f"{base}/orders/{order['id']}", {"status": "cancelled"}),
        ("GET", f"{base}/subscriptions?order_id={order['id']}", None),
        ("GET", f"{base}/subscriptions", None),
        ("GET", f"{base}/subscriptions/{sub_id}", None),
        ("POST", f"{base}/carts/{uuid.uuid4()}/checkout", None),
    ]
    for method, path, body in calls:
        response = other.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == 20002, (method, path)
    # Nothing changed for the owner.
    assert api.get(f"{base}/orders/{order['id']}").json()["status"] == "completed"


@pytest.mark.parametrize("path", ["/orders", "/subscriptions"])
def test_order_routes_need_a_token(api: Api, path: str) -> None:
    customer = api.new_customer()
    response = api.client.get(f"/v1/customers/{customer}{path}")
    assert response.status_code == 401


def test_migration_0002_goes_down_to_0001_and_back(database_url: str) -> None:
    from partnercart.server.storage import DatabaseUrl, migrate, open_store

    url = DatabaseUrl.parse(database_url)
    # 0004 joins 0002 (orders) and 0003 (idempotency); later revisions follow it.
    assert migrate.head() >= "0004"
    # A database made on the idempotency branch alone gains the order tables.
    migrate.upgrade(url, "0003")
    assert migrate.current(url) == "0003"
    migrate.upgrade(url, "0004")
    assert migrate.current(url) == "0004"
    store = open_store(url)
    try:
        with store.unit_of_work(write=False) as uow:
            assert uow.orders.for_customer(str(uuid.uuid4())) == []
            assert uow.subscriptions.count_live(str(uuid.uuid4())) == 0
    finally:
        store.close()
    migrate.downgrade(url, "0001")
    assert migrate.current(url) == "0001"
    migrate.upgrade(url, "0002")
    assert migrate.current(url) == "0002"
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()


def test_operations_not_served_answer_as_documented(api: Api) -> None:
    """docs/coverage.md: no direct order creation, activation links or attachments."""
    customer = api.new_customer()
    (order,) = _checkout(api, customer, [SOFTWARE])
    base = f"/v1/customers/{customer}/orders"
    direct = api.post(base, json={"lineItems": [{"lineItemNumber": 0, "offerId": "X"}]})
    assert direct.status_code == 405 and direct.json()["code"] == 1000
    assert "GET" in direct.headers["allow"]
    for path in (
        f"{base}/{order['id']}/activationlinks",
        f"{base}/{order['id']}/lineitems/0/activationlinks",
        f"{base}/{order['id']}/attachments",
    ):
        missing = api.get(path)
        assert missing.status_code == 404 and missing.json()["code"] == 1000, path


@pytest.mark.parametrize(
    ("start", "term", "end"),
    [
        (
            dt.datetime(2026, 3, 1, 17, 5, tzinfo=dt.UTC),
            "P1M",
            dt.datetime(2026, 3, 31, tzinfo=dt.UTC),
        ),
        (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "P1Y", dt.datetime(2027, 2, 28, tzinfo=dt.UTC)),
        (dt.datetime(2028, 2, 29, tzinfo=dt.UTC), "P1Y", dt.datetime(2029, 2, 27, tzinfo=dt.UTC)),
        (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), "p3y", dt.datetime(2029, 1, 14, tzinfo=dt.UTC)),
        (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), None, None),
        (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), "P", None),
        (dt.datetime(2026, 1, 15, tzinfo=dt.UTC), "1Year", None),
    ],
)
def test_term_end(start: dt.datetime, term: str | None, end: dt.datetime | None) -> None:
    from partnercart.server.domain.orders import term_end

    assert term_end(start, term) == end


def test_each_subscription_of_an_order_gets_its_own_commitment_end() -> None:
    """The dates an order's subscriptions share are worked out once per order; each line
    still ends by its own term, or on its own custom end date."""
    import msgspec

    from partnercart.schema.cart import BillingCycle, CartLineItem
    from partnercart.server.domain.orders import OrderPolicy, plan_order

    custom = dt.datetime(2026, 9, 30, tzinfo=dt.UTC)
    terms: list[tuple[str | None, dt.datetime | None]] = [
        ("P1M", None),
        ("P1Y", None),
        ("P1M", None),
        ("P1Y", custom),
        (None, None),
        ("P3Y", None),
    ]
    lines = [
        CartLineItem(
            id=n,
            catalog_item_id="CFQ7TTC0LH18:0001:CFQ7TTC0K5DM",
            quantity=1,
            billing_cycle=BillingCycle.MONTHLY,
            term_duration=term,
            custom_term_end_date=end,
        )
        for n, (term, end) in enumerate(terms)
    ]
    planned = plan_order(
        "g",
        lines,
        order_id="0123456789ab",
        subscription_ids=[str(uuid.UUID(int=n + 1)) for n in range(len(lines))],
        partner_id="p",
        customer_id="c",
        country="US",
        cart_id=None,
        now=dt.datetime(2026, 3, 1, 23, 59, 45, 123456, tzinfo=dt.UTC),
        policy=OrderPolicy(),
    )
    bodies = [msgspec.json.decode(s.body) for s in planned.subscriptions]
    assert [b.get("commitmentEndDate") for b in bodies] == [
        "2026-04-01T00:00:00.0000000Z",
        "2027-03-01T00:00:00.0000000Z",
        "2026-04-01T00:00:00.0000000Z",
        "2026-09-30T00:00:00.0000000Z",
        None,
        "2029-03-01T00:00:00.0000000Z",
    ]
    # Provisioned 30 s later, past midnight: the term starts on the day it is provisioned.
    assert {b["creationDate"] for b in bodies} == {"2026-03-02T00:00:15.1234560Z"}
    assert {b["effectiveStartDate"] for b in bodies} == {"2026-03-02T00:00:00.0000000Z"}


def test_a_custom_end_date_with_an_offset_ends_at_midnight_of_its_utc_day() -> None:
    """``commitmentEndDate`` is midnight UTC of the day validation judged (the UTC calendar day
    of ``customTermEndDate``), whatever time of day and offset the client sent; it kept the
    time (``2026-09-30T08:00:00Z`` for ``2026-09-30T00:00:00-08:00``)."""
    import msgspec

    from partnercart.schema.cart import BillingCycle, CartLineItem
    from partnercart.server.domain.orders import OrderPolicy, plan_order

    def zone(hours: int) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=hours))

    ends = [
        dt.datetime(2026, 9, 30, tzinfo=zone(-8)),  # 08:00 UTC that day
        dt.datetime(2026, 10, 1, 2, 0, tzinfo=zone(8)),  # 18:00 UTC the day before
        dt.datetime(2026, 9, 30, 23, 59, 59),  # no zone: UTC
    ]
    lines = [
        CartLineItem(
            id=n,
            catalog_item_id="CFQ7TTC0LH18:0001:CFQ7TTC0K5DM",
            quantity=1,
            billing_cycle=BillingCycle.MONTHLY,
            term_duration="P1Y",
            custom_term_end_date=end,
        )
        for n, end in enumerate(ends)
    ]
    planned = plan_order(
        "g",
        lines,
        order_id="0123456789ab",
        subscription_ids=[str(uuid.UUID(int=n + 1)) for n in range(len(lines))],
        partner_id="p",
        customer_id="c",
        country="US",
        cart_id=None,
        now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
        policy=OrderPolicy(),
    )
    bodies = [msgspec.json.decode(s.body) for s in planned.subscriptions]
    assert [b["commitmentEndDate"] for b in bodies] == ["2026-09-30T00:00:00.0000000Z"] * 3


def test_checkout_and_cancel_honour_ms_request_id(api: Api) -> None:
    from partnercart.server.domain.idempotency import REPLAY_HEADER

    customer = api.new_customer()
    cart_id = new_cart(api, customer, [SOFTWARE])
    key = {"MS-RequestId": str(uuid.uuid4())}
    first = checkout(api, customer, cart_id, headers=key)
    again = checkout(api, customer, cart_id, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers[REPLAY_HEADER] == "true"
    path = f"/v1/customers/{customer}/orders/{first.json()['orders'][0]['id']}"
    cancel_key = {"MS-RequestId": str(uuid.uuid4())}
    cancelled = api.request("PATCH", path, json={"status": "cancelled"}, headers=cancel_key)
    replayed = api.request("PATCH", path, json={"status": "cancelled"}, headers=cancel_key)
    assert cancelled.status_code == replayed.status_code == 200
    assert replayed.content == cancelled.content and replayed.headers[REPLAY_HEADER] == "true"
    reused = api.request("PATCH", path, json={"status": "completed"}, headers=cancel_key)
    assert reused.status_code == 422


def test_order_schema_public_surface() -> None:
    from partnercart.schema import order

    assert sorted(order.__all__) == [
        "CartCheckoutResult",
        "Order",
        "OrderCollection",
        "OrderError",
        "OrderLineItem",
        "OrderLineItemLinks",
        "OrderLineItemProvisioningStatus",
        "OrderLinks",
        "OrderStatus",
        "Pricing",
        "ProvisioningStatus",
        "ProvisioningStatusCollection",
        "QuantityProvisioningStatus",
        "Subscription",
        "SubscriptionCollection",
        "SubscriptionLinks",
        "SubscriptionStatus",
    ]
    assert all(hasattr(order, name) for name in order.__all__)
