"""The SDK's checkout, order and subscription calls against the server's order routes: in
process on a manual clock (so provisioning can be watched), and against a real server process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from partnercart.client import BadRequestError, PartnerCenter
from partnercart.schema.cart import BillingCycle, CartLineItem, CartStatus
from partnercart.server.domain.clock import ManualClock
from partnercart.testing.factories import sample_cart, sample_customer
from tests.client.test_client_server import InProcessTransport

SOFTWARE = "DG7GMGF0DWM3:0002:DG7GMGF0DT1M"


@pytest.fixture
def pc(api: Any) -> Iterator[PartnerCenter]:
    transport = InProcessTransport(api.client)
    with PartnerCenter("http://testserver", api.token, transport=transport) as client:
        yield client


def test_checkout_and_follow_the_orders(pc: PartnerCenter, clock: ManualClock) -> None:
    customer = pc.customers.create(sample_customer())
    assert customer.id is not None
    scope = pc.customers.by_id(customer.id)
    cart = sample_cart(quantity=2)
    cart.line_items.append(
        CartLineItem(
            id=1, catalog_item_id=SOFTWARE, quantity=1, billing_cycle=BillingCycle.ONE_TIME
        )
    )
    created = scope.carts.create(cart)
    assert created.id is not None
    result = scope.carts.by_id(created.id).checkout()
    assert [o.billing_cycle for o in result.orders] == [BillingCycle.MONTHLY, BillingCycle.ONE_TIME]
    assert result.order_errors == []
    assert scope.carts.by_id(created.id).checkout() == result  # replayed
    monthly, one_time = (o.id for o in result.orders)
    assert monthly and one_time

    assert scope.orders.by_id(monthly).get().status == "pending"
    assert [s.status for s in scope.orders.by_id(monthly).provisioning_status()] == [
        "prefulfillment_pending"
    ]
    assert scope.subscriptions.list(order_id=monthly).to_list() == []

    clock.advance(dt.timedelta(seconds=30))
    order = scope.orders.by_id(monthly).get(include_price=True)
    assert order.status == "completed"
    sub_id = order.line_items[0].subscription_id if order.line_items else None
    assert sub_id
    subs = scope.subscriptions.list(order_id=monthly).to_list()
    assert [(s.id, s.status, s.quantity) for s in subs] == [(sub_id, "active", 2)]
    assert [o.id for o in scope.orders.list(billing_type="OneTime")] == [one_time]

    assert scope.orders.by_id(one_time).cancel().status == "cancelled"
    with pytest.raises(BadRequestError) as refused:
        scope.orders.by_id(monthly).cancel()
    assert refused.value.code == 800061


def test_checkout_against_a_server_process(partner_center: PartnerCenter) -> None:
    customer = partner_center.customers.create(sample_customer(country="DE"))
    assert customer.id is not None
    scope = partner_center.customers.by_id(customer.id)
    cart = scope.carts.create(sample_cart())
    assert cart.id is not None
    result = scope.carts.by_id(cart.id).checkout()
    (order,) = result.orders
    assert order.currency_code == "EUR" and order.status == "pending"
    assert order.id is not None
    assert scope.orders.by_id(order.id).get().id == order.id
    assert scope.carts.by_id(cart.id).get().status is CartStatus.ORDERED
    assert scope.carts.by_id(cart.id).checkout() == result
