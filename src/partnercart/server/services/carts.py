"""Cart use cases. Each runs inside the one unit of work its caller opened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from partnercart.schema import codec
from partnercart.schema.cart import Cart, CartStatus
from partnercart.server.domain import carts as rules
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Conflict, cart_not_found, no_relationship
from partnercart.server.domain.ids import is_guid
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.services.context import Context, owned_customer
from partnercart.server.storage.ports import UnitOfWork


class _Seats(msgspec.Struct, rename="camel"):
    """The two fields of a stored Subscription that seat counting needs."""

    offer_id: str | None = None
    quantity: int | None = None


_seats_decoder = msgspec.json.Decoder(_Seats)


def owned_seats(ctx: Context, customer_id: str, request: Cart) -> dict[str, int]:
    """Seats of the customer's live subscriptions by ``PRODUCT:SKU``: the bases an add-on line
    may build on without a base line in the same cart. Read only when the cart has an add-on."""
    has_addon = False
    for line in request.line_items:
        offer = ctx.catalog.offer(line.catalog_item_id)
        if offer is not None and offer.is_addon:
            has_addon = True
            break
    seats: dict[str, int] = {}
    if not has_addon:
        return seats
    for record in ctx.uow.subscriptions.for_customer(customer_id):
        if record.cancelled_at is not None:
            continue
        subscription = _seats_decoder.decode(record.body)
        product, _, rest = (subscription.offer_id or "").partition(":")
        sku = rest.partition(":")[0]
        if product and sku:
            key = f"{product}:{sku}".upper()
            seats[key] = seats.get(key, 0) + (subscription.quantity or 0)
    return seats


def create_cart(ctx: Context, *, actor: Actor, customer_id: str, request: Cart) -> CartRecord:
    now = ctx.clock.now()
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    cart_id = ctx.ids.uuid()
    cart, expires = rules.new_cart(
        request,
        cart_id=cart_id,
        customer=customer,
        actor=actor,
        now=now,
        catalog=ctx.catalog,
        owned_seats=owned_seats(ctx, customer.id, request),
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
    """The same answers as :func:`load_cart`, from one joined read (the hot path)."""
    if not (is_guid(customer_id) and is_guid(cart_id)):
        return load_cart(ctx, actor=actor, customer_id=customer_id, cart_id=cart_id)[1]
    owned, found = ctx.uow.carts.get_owned(*owned_cart_key(actor, customer_id, cart_id))
    return cart_seen(actor, customer_id, cart_id, owned, found, ctx.clock.now())


def owned_cart_key(actor: Actor, customer_id: str, cart_id: str) -> tuple[str, str, str]:
    """The key of :func:`get_cart`'s joined read, for ids that are GUIDs."""
    return actor.partner_id, customer_id.lower(), cart_id.lower()


def find_owned_cart(uow: UnitOfWork, key: tuple[str, str, str]) -> tuple[bool, CartRecord | None]:
    """The joined read of one :func:`get_cart` (its key from :func:`owned_cart_key`): whether
    the partner has the customer, and the customer's cart if it has one."""
    return uow.carts.get_owned(*key)


def find_owned_carts(
    uow: UnitOfWork, keys: Sequence[tuple[str, str, str]]
) -> list[tuple[bool, CartRecord | None]]:
    """The joined reads of several :func:`get_cart` calls at once (keys from
    :func:`owned_cart_key`), for the GETs that arrive together on PostgreSQL."""
    return uow.carts.get_owned_many(keys)


def cart_seen(
    actor: Actor,
    customer_id: str,
    cart_id: str,
    owned: bool,
    found: CartRecord | None,
    now: dt.datetime,
) -> CartRecord:
    """:func:`get_cart`'s answer from its joined read: 403 when the partner does not have the
    customer, 404 when the customer has no such live cart."""
    if not owned:
        raise no_relationship(actor.partner_id, customer_id)
    return rules.require_live(found, cart_id, now)


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
        catalog=ctx.catalog,
        version=current.version + 1,
        owned_seats=owned_seats(ctx, customer.id, request),
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
