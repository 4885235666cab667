"""Checking a cart out: one order per order group, exactly once per cart."""

from __future__ import annotations

import msgspec

from partnercart.schema import codec
from partnercart.schema.cart import CartLineItem, CartStatus
from partnercart.schema.common import Attributes
from partnercart.schema.order import CartCheckoutResult, Order, OrderError
from partnercart.schema.timefmt import format_timestamp
from partnercart.server.catalog import Catalog
from partnercart.server.domain import carts as cart_rules
from partnercart.server.domain import orders as rules
from partnercart.server.domain.carts import Actor, make_etag
from partnercart.server.domain.errors import BadRequest, Conflict
from partnercart.server.domain.order_records import CheckoutRecord
from partnercart.server.domain.records import CartRecord
from partnercart.server.services.carts import load_cart, owned_seats
from partnercart.server.services.context import Context


def _named(line: CartLineItem, catalog: Catalog) -> CartLineItem:
    """A line without a friendly name takes its product's title (the published orders show
    product titles there), or a legacy offer's name."""
    if line.friendly_name:
        return line
    offer = catalog.offer(line.catalog_item_id)
    if offer is not None:
        title: str | None = offer.product.title
    else:
        legacy = catalog.legacy_offer(line.catalog_item_id)
        title = legacy.name if legacy is not None else None
    return msgspec.structs.replace(line, friendly_name=title) if title else line


def checkout_cart(ctx: Context, *, actor: Actor, customer_id: str, cart_id: str) -> bytes:
    """The CartCheckoutResult of the cart, as JSON.

    An active cart's row is locked for the whole transaction, so concurrent checkouts of one
    cart run one after the other: the first makes the orders and stores its answer; every later
    one (concurrent or not) finds the cart ``Ordered`` and gets that stored answer back
    unchanged, without taking the lock.
    """
    customer, record = load_cart(ctx, actor=actor, customer_id=customer_id, cart_id=cart_id)
    if record.status != CartStatus.ORDERED.value:
        # Ordered is final, so only a cart still active needs the lock (a row lock is a write
        # on PostgreSQL); read it again under the lock, as another checkout may have won.
        locked = ctx.uow.carts.get(customer.id, record.id, for_update=True)
        record = cart_rules.require_live(locked, cart_id, ctx.clock.now())
    if record.status == CartStatus.ORDERED.value:
        stored = ctx.uow.checkouts.get(customer.id, record.id)
        if stored is None:
            raise BadRequest(f"Can't check out an already submitted cart {cart_id}.", code=800065)
        return stored.body

    now = ctx.clock.now()
    written = record.document()
    cart = cart_rules.revalidated(
        written,
        customer=customer,
        now=now,
        catalog=ctx.catalog,
        owned_seats=owned_seats(ctx, customer.id, written),
    )
    rules.require_checkout_ready(cart)
    policy = ctx.orders
    limit = policy.max_subscriptions_per_customer
    live = ctx.uow.subscriptions.count_live(customer.id) if limit is not None else 0

    orders: list[Order] = []
    errors: list[OrderError] = []
    for group, lines in rules.order_groups(cart):
        if limit is not None and live + len(lines) > limit:
            errors.append(
                OrderError(
                    order_group_id=group,
                    code=800066,
                    description=(
                        f"The order for group {group} would take customer {customer.id} past "
                        f"the maximum of {limit} subscriptions."
                    ),
                )
            )
            continue
        order_id = ctx.ids.uuid() if rules.is_legacy_group(group) else ctx.ids.hex12()
        planned = rules.plan_order(
            group,
            [_named(line, ctx.catalog) for line in lines],
            order_id=order_id,
            subscription_ids=[ctx.ids.uuid() for _ in lines],
            partner_id=actor.partner_id,
            customer_id=customer.id,
            country=customer.country,
            cart_id=record.id,
            now=now,
            policy=policy,
        )
        ctx.uow.orders.add(planned.record)
        for subscription in planned.subscriptions:
            ctx.uow.subscriptions.add(subscription)
        live += len(lines)
        orders.append(
            rules.order_view(planned.record, planned.subscriptions, now=now, include_price=True)
        )

    body = codec.encode(
        CartCheckoutResult(
            orders=orders,
            order_errors=errors,
            attributes=Attributes(object_type="CartCheckoutResult"),
        )
    )
    if orders:
        _mark_ordered(ctx, actor, record, now_stamp=format_timestamp(now))
        ctx.uow.checkouts.add(
            CheckoutRecord(
                cart_id=record.id,
                partner_id=actor.partner_id,
                customer_id=customer.id,
                created_at=now,
                body=body,
            )
        )
    return body


def _mark_ordered(ctx: Context, actor: Actor, record: CartRecord, *, now_stamp: str) -> None:
    version = record.version + 1
    cart = msgspec.structs.replace(
        record.document(),
        attributes=Attributes(object_type="Cart", etag=make_etag(record.id, version)),
        status=CartStatus.ORDERED,
        last_modified_timestamp=now_stamp,
        last_modified_user=actor.user_id,
    )
    updated = CartRecord(
        id=record.id,
        partner_id=record.partner_id,
        customer_id=record.customer_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        status=CartStatus.ORDERED.value,
        version=version,
        body=codec.encode(cart),
    )
    if not ctx.uow.carts.update(updated, expected_version=record.version):
        raise Conflict(f"Cart {record.id} is being processed by another request.", code=800064)
