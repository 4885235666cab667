"""Cart rules: what the server fills in, how lines are grouped, when a cart expires."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from partnercart.schema.cart import BillingCycle, Cart, CartLineItem, CartStatus
from partnercart.schema.common import Attributes, SelfLinks, link
from partnercart.schema.timefmt import format_timestamp
from partnercart.server.catalog.index import Catalog
from partnercart.server.domain.errors import BadRequest, PreconditionFailed, cart_not_found
from partnercart.server.domain.markets import currency_for
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.domain.validation import CartContext, Market, validate_lines

CART_LIFETIME = dt.timedelta(days=7)
MAX_LINE_ITEMS = 100  # chosen limit; see docs/decisions.md


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the partner tenant and the user (or app) id recorded on writes."""

    partner_id: str
    user_id: str


def is_legacy_catalog_item(catalog_item_id: str) -> bool:
    """Legacy (OMS) offers are GUIDs or ``MS-AZR-…`` ids; modern ones are ``P:S:A`` triples."""
    return ":" not in catalog_item_id


def assign_order_groups(lines: list[CartLineItem]) -> None:
    """Give each line its order group: lines that one order can hold share a group.

    An order has one billing cycle and one purchase system, so lines are grouped by (purchase
    system, billing cycle); labels count up in order of first appearance, legacy groups as
    ``OMS-n``. Add-ons of a legacy line share its group.
    """
    labels: dict[tuple[bool, BillingCycle | None], str] = {}
    counters = {True: 0, False: 0}
    for line in lines:
        legacy = is_legacy_catalog_item(line.catalog_item_id)
        key = (legacy, None if legacy else line.billing_cycle)
        label = labels.get(key)
        if label is None:
            n = counters[legacy]
            counters[legacy] += 1
            label = f"OMS-{n}" if legacy else str(n)
            labels[key] = label
        line.order_group = label
        for addon in line.addon_items or ():
            addon.order_group = label


def _prepare_lines(
    request: Cart,
    customer: CustomerRecord,
    *,
    catalog: Catalog,
    now: dt.datetime,
    owned_seats: Mapping[str, int],
) -> list[CartLineItem]:
    """The request's lines as the server keeps them: ids, currency, errors, prices, groups."""
    if len(request.line_items) > MAX_LINE_ITEMS:
        raise BadRequest(
            f"A cart holds at most {MAX_LINE_ITEMS} line items; "
            f"this one has {len(request.line_items)}.",
            data=["$.lineItems"],
        )
    currency = currency_for(customer.country).code
    lines: list[CartLineItem] = []
    seen: set[int] = set()
    for index, item in enumerate(request.line_items):
        line = msgspec.structs.replace(item, currency_code=currency, error=None, pricing=None)
        if line.id is None or line.id in seen:
            line.id = index if index not in seen else max(seen) + 1
        seen.add(line.id)
        # New-commerce lines echo an empty context (the 2021 sample); legacy lines sent
        # without one have none (the 2018 and 2019 legacy samples).
        if line.provisioning_context is None and not is_legacy_catalog_item(line.catalog_item_id):
            line.provisioning_context = {}
        if line.addon_items:
            line.addon_items = [
                msgspec.structs.replace(a, currency_code=currency, error=None, pricing=None)
                for a in line.addon_items
            ]
        lines.append(line)
    check = CartContext(
        catalog=catalog,
        market=Market(country=customer.country.upper(), currency=currency),
        now=now,
        partner_attestation=request.partner_on_record_attestation_accepted is True,
        owned_seats=owned_seats,
    )
    validate_lines(lines, check)
    assign_order_groups(lines)
    return lines


def cart_uri(customer_id: str, cart_id: str) -> str:
    return f"/customers/{customer_id}/carts/{cart_id}"


@functools.lru_cache(maxsize=4096)
def make_etag(cart_id: str, version: int) -> str:
    """An opaque version tag, shaped like the one in Partner Center's samples (base64 JSON)."""
    # The compact JSON {"id":...,"version":...}; a GUID needs no escaping, so it is formatted
    # directly (this runs on every cart answer).
    quoted = f'"{cart_id}"' if _PLAIN_ID.fullmatch(cart_id) else json.dumps(cart_id)
    return base64.b64encode(f'{{"id":{quoted},"version":{int(version)}}}'.encode()).decode()


_PLAIN_ID = re.compile(r"[0-9A-Za-z-]*")


def _etag_values(header: str) -> list[str]:
    values = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        values.append(part.strip('"'))
    return values


def check_precondition(record: CartRecord, *, if_match: str | None, body_etag: str | None) -> None:
    """``If-Match`` (or the etag of the cart sent back) must name the stored version.

    Without either, the write is unconditional (and still atomic)."""
    current = make_etag(record.id, record.version)
    if if_match is not None:
        values = _etag_values(if_match)
        if "*" in values or current in values:
            return
        stale = True
    elif body_etag:
        stale = body_etag != current
    else:
        return
    if stale:
        raise PreconditionFailed(
            f"The cart {record.id} was changed since the version you sent (If-Match or "
            f"attributes.etag); GET it again and reapply your change.",
            code=800036,
        )


def new_cart(
    request: Cart,
    *,
    cart_id: str,
    customer: CustomerRecord,
    actor: Actor,
    now: dt.datetime,
    catalog: Catalog,
    owned_seats: Mapping[str, int] | None = None,
) -> tuple[Cart, dt.datetime]:
    """The Cart a create request makes, and when it expires."""
    expires = now + CART_LIFETIME
    stamp = format_timestamp(now)
    cart = Cart(
        id=cart_id,
        creation_timestamp=stamp,
        last_modified_timestamp=stamp,
        expiration_timestamp=format_timestamp(expires),
        last_modified_user=actor.user_id,
        status=CartStatus.ACTIVE,
        line_items=_prepare_lines(
            request, customer, catalog=catalog, now=now, owned_seats=owned_seats or {}
        ),
        partner_on_record_attestation_accepted=request.partner_on_record_attestation_accepted,
        links=SelfLinks(self=link(cart_uri(customer.id, cart_id))),
        attributes=Attributes(object_type="Cart", etag=make_etag(cart_id, 1)),
    )
    return cart, expires


def replaced_cart(
    current: Cart,
    request: Cart,
    *,
    customer: CustomerRecord,
    actor: Actor,
    now: dt.datetime,
    catalog: Catalog,
    version: int,
    owned_seats: Mapping[str, int] | None = None,
) -> Cart:
    """The whole cart replaced by ``request``; identity, creation and expiry are kept."""
    assert current.id is not None
    return msgspec.structs.replace(
        current,
        attributes=Attributes(object_type="Cart", etag=make_etag(current.id, version)),
        last_modified_timestamp=format_timestamp(now),
        last_modified_user=actor.user_id,
        line_items=_prepare_lines(
            request, customer, catalog=catalog, now=now, owned_seats=owned_seats or {}
        ),
        partner_on_record_attestation_accepted=request.partner_on_record_attestation_accepted,
    )


def revalidated(
    cart: Cart,
    *,
    customer: CustomerRecord,
    now: dt.datetime,
    catalog: Catalog,
    owned_seats: Mapping[str, int] | None = None,
) -> Cart:
    """The cart with its lines checked again at ``now``, for checkout: a line the rules refuse
    at that instant carries that error, though it had none when the cart was last written (a
    custom term end date the clock has passed since, seats the customer no longer has, an
    offer gone from a reloaded catalog). What the cart was written with stays: its errors, its
    prices (the ones the partner saw), ids and groups."""
    fresh = _prepare_lines(cart, customer, catalog=catalog, now=now, owned_seats=owned_seats or {})
    lines = [
        msgspec.structs.replace(
            line,
            error=line.error or checked.error,
            addon_items=(
                [
                    msgspec.structs.replace(addon, error=addon.error or again.error)
                    for addon, again in zip(
                        line.addon_items, checked.addon_items or (), strict=False
                    )
                ]
                if line.addon_items
                else line.addon_items
            ),
        )
        for line, checked in zip(cart.line_items, fresh, strict=True)
    ]
    return msgspec.structs.replace(cart, line_items=lines)


def is_expired(record: CartRecord, now: dt.datetime) -> bool:
    """An active cart lives seven days from creation: expired from that instant on.

    An ordered cart is the record of a purchase and does not expire.
    """
    return record.status == CartStatus.ACTIVE.value and now >= record.expires_at


def require_live(record: CartRecord | None, cart_id: str, now: dt.datetime) -> CartRecord:
    """The cart, or the 404 (800008) that an unknown or expired cart gets."""
    if record is None or is_expired(record, now):
        raise cart_not_found(cart_id)
    return record


def require_active(record: CartRecord) -> None:
    if record.status != CartStatus.ACTIVE.value:
        raise BadRequest(
            f"Cart {record.id} was already submitted and can't be changed.", code=800065
        )
