"""Cart use cases. Each runs inside the one unit of work its caller opened."""

from __future__ import annotations

from partnercart.schema import codec
from partnercart.schema.cart import Cart, CartStatus
from partnercart.server.domain import carts as rules
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Conflict, cart_not_found
from partnercart.server.domain.ids import is_guid
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.services.context import Context, owned_customer


def create_cart(ctx: Context, *, actor: Actor, customer_id: str, request: Cart) -> CartRecord:
    now = ctx.clock.now()
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    cart_id = ctx.ids.uuid()
    cart, expires = rules.new_cart(
        request, cart_id=cart_id, customer=customer, actor=actor, now=now
    )
    record = CartRecord(
        id=cart_id,
        partner_id=actor.partner_id,
        customer_id=customer.id,
        created_at=now,
        expires_at=expires,
        status=CartStatus.ACTIVE.value,
        version=1,
        body=codec.encode(cart),
    )
    ctx.uow.carts.add(record)
    return record


def load_cart(
    ctx: Context, *, actor: Actor, customer_id: str, cart_id: str, for_update: bool = False
) -> tuple[CustomerRecord, CartRecord]:
    """The caller's customer and its live cart, loaded and authorised once."""
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    if not is_guid(cart_id):
        raise cart_not_found(cart_id)
    found = ctx.uow.carts.get(customer.id, cart_id.lower(), for_update=for_update)
    return customer, rules.require_live(found, cart_id, ctx.clock.now())


def get_cart(ctx: Context, *, actor: Actor, customer_id: str, cart_id: str) -> CartRecord:
    return load_cart(ctx, actor=actor, customer_id=customer_id, cart_id=cart_id)[1]


def update_cart(
    ctx: Context,
    *,
    actor: Actor,
    customer_id: str,
    cart_id: str,
    request: Cart,
    if_match: str | None = None,
) -> CartRecord:
    """Replace the whole cart. The row is locked for the transaction, so two PUTs never mix;
    ``If-Match`` (or the body's ``attributes.etag``) makes the write conditional."""
    customer, current = load_cart(
        ctx, actor=actor, customer_id=customer_id, cart_id=cart_id, for_update=True
    )
    rules.check_precondition(
        current,
        if_match=if_match,
        body_etag=request.attributes.etag if request.attributes else None,
    )
    rules.require_active(current)
    cart = rules.replaced_cart(
        current.document(),
        request,
        customer=customer,
        actor=actor,
        now=ctx.clock.now(),
        version=current.version + 1,
    )
    record = CartRecord(
        id=current.id,
        partner_id=current.partner_id,
        customer_id=current.customer_id,
        created_at=current.created_at,
        expires_at=current.expires_at,
        status=current.status,
        version=current.version + 1,
        body=codec.encode(cart),
    )
    if not ctx.uow.carts.update(record, expected_version=current.version):
        raise Conflict(f"Cart {cart_id} is being processed by another request.", code=800064)
    return record
