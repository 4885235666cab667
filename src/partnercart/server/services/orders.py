"""Order and subscription use cases: reads that show the order at the clock's instant, and
cancellation."""

from __future__ import annotations

from dataclasses import dataclass

from partnercart.schema.cart import BillingCycle
from partnercart.schema.order import (
    Order,
    OrderLineItemProvisioningStatus,
    OrderStatus,
    Subscription,
)
from partnercart.server.domain import orders as rules
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import BadRequest, Conflict
from partnercart.server.domain.order_records import OrderRecord, SubscriptionRecord
from partnercart.server.domain.records import CustomerRecord
from partnercart.server.services.context import Context, owned_customer


@dataclass(frozen=True, slots=True)
class CustomerOrders:
    customer: CustomerRecord
    orders: list[Order]


def _load_order(
    ctx: Context, actor: Actor, customer_id: str, order_id: str, *, for_update: bool = False
) -> tuple[CustomerRecord, OrderRecord]:
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    record = ctx.uow.orders.get(customer.id, order_id.lower(), for_update=for_update)
    if record is None:
        raise rules.order_not_found(order_id)
    return customer, record


def get_order(
    ctx: Context, *, actor: Actor, customer_id: str, order_id: str, include_price: bool
) -> Order:
    customer, record = _load_order(ctx, actor, customer_id, order_id)
    subscriptions = ctx.uow.subscriptions.for_order(customer.id, record.id)
    return rules.order_view(record, subscriptions, now=ctx.clock.now(), include_price=include_price)


def list_orders(
    ctx: Context,
    *,
    actor: Actor,
    customer_id: str,
    billing_cycle: BillingCycle | None,
    include_price: bool,
) -> CustomerOrders:
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    records = ctx.uow.orders.for_customer(
        customer.id, billing_cycle=None if billing_cycle is None else billing_cycle.value
    )
    by_order: dict[str, list[SubscriptionRecord]] = {}
    for sub in ctx.uow.subscriptions.for_customer(customer.id):
        by_order.setdefault(sub.order_id, []).append(sub)
    now = ctx.clock.now()
    return CustomerOrders(
        customer=customer,
        orders=[
            rules.order_view(r, by_order.get(r.id, []), now=now, include_price=include_price)
            for r in records
        ],
    )


def provisioning_status(
    ctx: Context, *, actor: Actor, customer_id: str, order_id: str
) -> list[OrderLineItemProvisioningStatus]:
    customer, record = _load_order(ctx, actor, customer_id, order_id)
    subscriptions = ctx.uow.subscriptions.for_order(customer.id, record.id)
    return rules.provisioning_view(record, subscriptions, now=ctx.clock.now())


def patch_order(
    ctx: Context, *, actor: Actor, customer_id: str, order_id: str, request: Order
) -> Order:
    """PATCH order: cancellation of a whole order or of some of its lines (the only use the
    emulator supports)."""
    customer, record = _load_order(ctx, actor, customer_id, order_id, for_update=True)
    if request.id is not None and request.id.lower() != record.id.lower():
        raise BadRequest(
            f"The order id {request.id} in the body does not match {record.id} in the path.",
            data=["$.id"],
        )
    if request.status != OrderStatus.CANCELLED:
        raise BadRequest(
            "PATCH order supports only cancellation: send "
            '{"status": "cancelled"} with the line items to cancel (none for all).',
            data=["$.status"],
        )
    now = ctx.clock.now()
    subscriptions = ctx.uow.subscriptions.for_order(customer.id, record.id)
    if record.status != OrderStatus.CANCELLED.value:
        order = record.document()
        numbers = rules.cancellable_lines(
            record, order, request.line_items, now=now, policy=ctx.orders
        )
        ctx.uow.subscriptions.cancel(record.id, numbers, now)
        subscriptions = ctx.uow.subscriptions.for_order(customer.id, record.id)
        if all(s.cancelled_at is not None for s in subscriptions):
            if not ctx.uow.orders.set_status(record, OrderStatus.CANCELLED.value):
                raise Conflict(f"Order {record.id} is being changed by another request.")
            record = ctx.uow.orders.get(customer.id, record.id) or record
    return rules.order_view(record, subscriptions, now=now, include_price=False)


def list_subscriptions(
    ctx: Context, *, actor: Actor, customer_id: str, order_id: str | None
) -> list[Subscription]:
    """The customer's provisioned subscriptions, or those an order created."""
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    if order_id is None:
        records = ctx.uow.subscriptions.for_customer(customer.id)
    else:
        order = ctx.uow.orders.get(customer.id, order_id.lower())
        if order is None:
            raise rules.order_not_found(order_id)
        records = ctx.uow.subscriptions.for_order(customer.id, order.id)
    now = ctx.clock.now()
    views = (rules.subscription_view(r, now=now) for r in records)
    return [v for v in views if v is not None]


def get_subscription(
    ctx: Context, *, actor: Actor, customer_id: str, subscription_id: str
) -> Subscription:
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    record = ctx.uow.subscriptions.get(customer.id, subscription_id.lower())
    view = None if record is None else rules.subscription_view(record, now=ctx.clock.now())
    if view is None:
        raise rules.subscription_not_found(subscription_id)
    return view
