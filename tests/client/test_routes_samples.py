"""Routes the server does not serve yet (checkout, orders, subscriptions, catalog), checked
against the reference's routes and the published sample bodies through a mock transport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from partnercart.client import AsyncPartnerCenter, BillingCycle, PartnerCenter
from tests.client.fakes import Script, Sleeps, json_response, sample

BASE = "https://api.partnercenter.microsoft.com"
C = "b0d70a69-4c42-4b27-b17b-91a835d8686a"


def pc_for(script: Script) -> PartnerCenter:
    return PartnerCenter(BASE, "t", transport=script.transport(), sleep=Sleeps())


def only(script: Script) -> httpx.Request:
    assert len(script.requests) == 1
    return script.requests[0]


def test_checkout_posts_the_string_success_and_reads_the_result() -> None:
    script = Script([json_response(201, sample("checkout-a-cart.json"))])
    with pc_for(script) as pc:
        result = (
            pc.customers.by_id(C)
            .carts.by_id("65faf57b")
            .checkout(customer_user_upn="admin@contoso.example")
        )
    request = only(script)
    assert request.method == "POST"
    assert request.url.path == f"/v1/customers/{C}/carts/65faf57b/checkout"
    assert request.content == b'"success"'
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["x-ms-customeruser-upn"] == "admin@contoso.example"
    (order,) = result.orders
    assert order.id == "VulAvcXKPvZqsyAAaahiT7Ii0QEJuReH1"
    assert order.billing_cycle is BillingCycle.ONE_TIME
    assert order.status == "completed"
    assert order.line_items is not None and order.line_items[0].quantity == 2
    assert order.links is not None and order.links.provisioning_status is not None
    assert result.order_errors == []
    assert result.attributes is not None
    assert result.attributes.object_type == "CartCheckoutResult"


def test_orders_list_sends_billing_type_as_the_sdk_does_and_iterates_items() -> None:
    script = Script([json_response(200, sample("get-orders-by-billing-cycle.json"))])
    with pc_for(script) as pc:
        orders = pc.customers.by_id(C).orders.list(billing_type=BillingCycle.ONE_TIME).to_list()
    request = only(script)
    assert request.url.path == f"/v1/customers/{C}/orders"
    assert request.url.params["billingType"] == "OneTime"
    assert [o.id for o in orders] == [
        "9qg-ErcO-4MPbPqq_3MIQaS7bn8W6HfG1",
        "s-BZlr_TeGksPNT61SsWRL-sqMaKbyVa1",
    ]
    assert all(o.status == "pending" for o in orders)


def test_order_get_with_price_and_provisioning_status() -> None:
    script = Script(
        [
            json_response(200, sample("get-an-order-by-id.json")),
            json_response(200, sample("provisioning-status.json")),
        ]
    )
    with pc_for(script) as pc:
        order_ops = pc.customers.by_id(C).orders.by_id("YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1")
        order = order_ops.get(include_price=True)
        status = order_ops.provisioning_status().to_list()
    get, prov = script.requests
    assert get.url.params["include_price"] == "True"
    assert get.url.path.endswith("/orders/YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1")
    assert order.currency_symbol == "$"
    assert prov.url.path.endswith("/orders/YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1/provisioningstatus")
    assert [(s.line_item_number, s.status) for s in status] == [(0, "fulfilled")]
    assert status[0].quantity_provisioning_information is not None


def test_cancel_patches_the_order_with_status_cancelled() -> None:
    cancelled = sample("get-an-order-by-id.json") | {"status": "cancelled"}
    script = Script([json_response(200, cancelled)])
    with pc_for(script) as pc:
        order = pc.customers.by_id(C).orders.by_id("YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1").cancel()
    request = only(script)
    assert request.method == "PATCH"
    assert json.loads(request.content) == {
        "id": "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1",
        "status": "cancelled",
    }
    assert order.status == "cancelled"


def test_subscriptions_of_an_order() -> None:
    script = Script([json_response(200, sample("subscriptions-by-order.json"))])
    with pc_for(script) as pc:
        subs = pc.customers.by_id(C).subscriptions.list(order_id="abc").to_list()
    request = only(script)
    assert request.url.path == f"/v1/customers/{C}/subscriptions"
    assert request.url.params["order_id"] == "abc"
    assert subs[0].id == "83ef9d05-4169-4ef9-9657-0e86b1eab1de"
    assert subs[0].auto_renew_enabled is False


def test_catalog_product_skus_and_availabilities_carry_the_country() -> None:
    script = Script(
        [
            json_response(200, sample("product.json")),
            json_response(200, sample("skus.json")),
            json_response(200, sample("availabilities.json")),
        ]
    )
    with pc_for(script) as pc:
        product = pc.products(country="us").by_id("DZH318Z0BQ3Q")
        got = product.get()
        skus = product.skus.list().to_list()
        avail = product.skus.by_id("0001").availabilities.list(target_segment="commercial")
        availabilities = avail.to_list()
    p, s, a = script.requests
    assert p.url.path == "/v1/products/DZH318Z0BQ3Q" and p.url.params["country"] == "US"
    assert s.url.path == "/v1/products/DZH318Z0BQ3Q/skus" and s.url.params["country"] == "US"
    assert a.url.path == "/v1/products/DZH318Z0BQ3Q/skus/0001/availabilities"
    assert a.url.params["targetSegment"] == "commercial"
    assert got.product_type is not None and got.product_type.id == "Azure"
    assert skus[0].supported_billing_cycles == [BillingCycle.ONE_TIME]
    assert skus[0].maximum_quantity == 999999999
    assert availabilities[0].catalog_item_id == "DZH318Z0BQ3Q:0001:DZH318Z0HMKQ"
    assert availabilities[0].default_currency is not None


def test_products_list_sends_target_view() -> None:
    script = Script([json_response(200, {"totalCount": 0, "items": []})])
    with pc_for(script) as pc:
        assert pc.products(country="US").list(target_view="OnlineServices").to_list() == []
    assert only(script).url.params["targetView"] == "OnlineServices"


def test_a_country_must_be_two_letters() -> None:
    with PartnerCenter(BASE, "t") as pc, pytest.raises(ValueError):
        pc.products(country="USA")


def test_ids_are_escaped_in_paths() -> None:
    script = Script([json_response(200, sample("get-an-order-by-id.json"))])
    with pc_for(script) as pc:
        pc.customers.by_id(C).orders.by_id("a/b?c").get()
    assert only(script).url.raw_path.decode().endswith("/orders/a%2Fb%3Fc")
    with PartnerCenter(BASE, "t") as pc, pytest.raises(ValueError):
        pc.customers.by_id("")


def test_builders_are_immutable_values() -> None:
    import dataclasses

    with PartnerCenter(BASE, "t") as pc:
        carts = pc.customers.by_id(C).carts
        one, two = carts.by_id("1"), carts.by_id("2")
        assert one.path != two.path and carts.path == f"/customers/{C}/carts"
        with pytest.raises(dataclasses.FrozenInstanceError):
            one.path = "/elsewhere"  # type: ignore[misc]


def page(items: list[dict[str, object]], next_token: str | None) -> dict[str, object]:
    links: dict[str, object] = {"self": {"uri": f"/customers/{C}/orders", "method": "GET"}}
    if next_token:
        links["next"] = {
            "uri": f"/customers/{C}/orders",
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": next_token}],
        }
    return {"totalCount": len(items), "items": items, "links": links}


def test_collections_follow_next_links_with_their_headers() -> None:
    script = Script(
        [
            json_response(200, page([{"id": "o1"}, {"id": "o2"}], "tok-2")),
            json_response(200, page([{"id": "o3"}], "tok-3")),
            json_response(200, page([{"id": "o4"}], None)),
        ]
    )
    with pc_for(script) as pc:
        ids = [o.id for o in pc.customers.by_id(C).orders.list()]
    assert ids == ["o1", "o2", "o3", "o4"]
    assert script.header("MS-ContinuationToken") == [None, "tok-2", "tok-3"]
    assert [r.url.path for r in script.requests] == [f"/v1/customers/{C}/orders"] * 3
    # one listing: one correlation id, one request id per page
    assert len(set(script.header("MS-CorrelationId"))) == 1
    assert len(set(script.header("MS-RequestId"))) == 3


def test_a_next_link_that_repeats_itself_ends_the_iteration() -> None:
    script = Script(
        [
            json_response(200, page([{"id": "o1"}], "same")),
            json_response(200, page([{"id": "o2"}], "same")),
        ]
    )
    with pc_for(script) as pc:
        assert [o.id for o in pc.customers.by_id(C).orders.list()] == ["o1", "o2"]
    assert len(script.requests) == 2


def test_async_pager_iterates_across_pages() -> None:
    script = Script(
        [
            json_response(200, page([{"id": "o1"}], "tok-2")),
            json_response(200, page([{"id": "o2"}], None)),
        ]
    )

    async def main() -> list[str | None]:
        async with AsyncPartnerCenter(BASE, "t", transport=script.transport()) as pc:
            return [o.id async for o in pc.customers.by_id(C).orders.list()]

    assert asyncio.run(main()) == ["o1", "o2"]
    assert script.header("MS-ContinuationToken") == [None, "tok-2"]


def test_unknown_statuses_and_a_list_without_billing_profiles_decode() -> None:
    """Partner Center's status sets are open (reference §12) and its customer list carries no
    billing profiles: one odd item must not fail the whole answer."""
    from partnercart.schema.cart import CartStatus
    from partnercart.schema.order import ProvisioningStatus, SubscriptionStatus

    customers = {
        "totalCount": 1,
        "items": [
            {
                "id": C,
                "companyProfile": {
                    "tenantId": C,
                    "domain": "contoso190.onmicrosoft.com",
                    "companyName": "Contoso190",
                },
                "relationshipToPartner": "reseller",
            }
        ],
    }
    subscriptions = {"totalCount": 2, "items": [{"id": "s1", "status": "disabled"}, {"id": "s2"}]}
    provisioning = {
        "totalCount": 1,
        "items": [
            {
                "lineItemNumber": 0,
                "status": "pending",
                "quantityProvisioningInformation": [{"quantity": 1, "status": "Fulfilled"}],
            }
        ],
    }
    cart = {"id": "k1", "status": "Expired", "lineItems": []}
    script = Script(
        [
            json_response(200, customers),
            json_response(200, subscriptions),
            json_response(200, provisioning),
            json_response(200, cart),
        ]
    )
    with pc_for(script) as pc:
        listed = pc.customers.list().to_list()
        assert [c.company_profile.company_name for c in listed] == ["Contoso190"]
        assert listed[0].billing_profile is None
        customer = pc.customers.by_id(C)
        subs = customer.subscriptions.list().to_list()
        assert [s.status for s in subs] == [SubscriptionStatus.UNKNOWN, None]
        lines = customer.orders.by_id("o1").provisioning_status().to_list()
        assert lines[0].status is ProvisioningStatus.UNKNOWN
        assert lines[0].quantity_provisioning_information[0].status is ProvisioningStatus.FULFILLED
        assert customer.carts.by_id("k1").get().status is CartStatus.UNKNOWN
