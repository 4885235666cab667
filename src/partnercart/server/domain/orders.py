"""Order rules: how a checked-out cart becomes orders, how an order looks at a given instant,
and when it may be cancelled.

An order is stored once, as created. Its later states are computed when it is read: it is
``pending`` until ``provision_at`` (creation + the provisioning delay) and ``completed`` from
then on, its lines carrying the subscription ids chosen at checkout. Nothing runs in the
background, and a manual clock moves every order forward when it is advanced.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from partnercart.schema.cart import BillingCycle, Cart, CartLineItem, ParticipantType
from partnercart.schema.common import Attributes, Link, link
from partnercart.schema.order import (
    Order,
    OrderLineItem,
    OrderLineItemLinks,
    OrderLineItemProvisioningStatus,
    OrderLinks,
    OrderStatus,
    ProvisioningStatus,
    QuantityProvisioningStatus,
    Subscription,
    SubscriptionLinks,
    SubscriptionStatus,
)
from partnercart.schema.timefmt import calendar_day, format_timestamp
from partnercart.server.domain.errors import BadRequest, NotFound
from partnercart.server.domain.markets import currency_for
from partnercart.server.domain.order_records import OrderRecord, SubscriptionRecord

DEFAULT_PROVISIONING_DELAY = dt.timedelta(seconds=30)
DEFAULT_CANCELLATION_WINDOW = dt.timedelta(days=30)
LEGACY_GROUP_PREFIX = "OMS-"


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    """The emulator's knobs for orders (from :class:`~partnercart.server.settings.Settings`)."""

    provisioning_delay: dt.timedelta = DEFAULT_PROVISIONING_DELAY
    cancellation_window: dt.timedelta = DEFAULT_CANCELLATION_WINDOW
    #: the most live subscriptions a customer may hold; a group past it fails (800066)
    max_subscriptions_per_customer: int | None = None


# Errors of the order rules.


def order_not_found(order_id: str) -> NotFound:
    return NotFound(f"Order ID {order_id} was not found.", code=20000)


def subscription_not_found(subscription_id: str) -> NotFound:
    return NotFound(f"Subscription {subscription_id} was not found.", code=1000)


# Checking a cart out.


def lines_with_errors(cart: Cart) -> list[str]:
    """Where the cart's line errors are, as ``$.lineItems[i]`` paths."""
    paths: list[str] = []
    for i, line in enumerate(cart.line_items):
        if line.error is not None:
            paths.append(f"$.lineItems[{i}]")
        for j, addon in enumerate(line.addon_items or ()):
            if addon.error is not None:
                paths.append(f"$.lineItems[{i}].addonItems[{j}]")
    return paths


def require_checkout_ready(cart: Cart) -> None:
    """A cart with no lines, or with a line that carries an error, cannot be checked out."""
    if not cart.line_items:
        raise BadRequest(f"Cart {cart.id} has no line items to check out.", code=800002)
    bad = lines_with_errors(cart)
    if bad:
        first = _first_error(cart)
        raise BadRequest(
            f"Error in cart item(s): {len(bad)} line item(s) of cart {cart.id} have errors; "
            f"fix or remove them and check out again. First: {first}",
            code=800009,
            data=bad,
        )


def _first_error(cart: Cart) -> str:
    """The first line error's code and description (a checkout re-checks the lines, so it may
    find one the stored cart does not show yet)."""
    for line in cart.line_items:
        for item in (line, *(line.addon_items or ())):
            if item.error is not None:
                return f"{item.error.error_code}: {item.error.error_description}"
    return ""


def order_groups(cart: Cart) -> list[tuple[str, list[CartLineItem]]]:
    """The cart's lines by order group, groups in order of first appearance; legacy add-ons
    follow their base line."""
    groups: dict[str, list[CartLineItem]] = {}
    for line in cart.line_items:
        label = line.order_group or "0"
        members = groups.setdefault(label, [])
        members.append(line)
        members.extend(line.addon_items or ())
    return list(groups.items())


def is_legacy_group(label: str) -> bool:
    return label.startswith(LEGACY_GROUP_PREFIX)


def partners_on_record(line: CartLineItem) -> tuple[str | None, list[str]]:
    """``partnerIdOnRecord`` from the ``transaction_reseller`` participant and
    ``additionalPartnerIdsOnRecord`` from the ``additional_transaction_reseller`` ones."""
    on_record: str | None = None
    additional: list[str] = []
    for participant in line.participants or ():
        if participant.key == ParticipantType.TRANSACTION_RESELLER and on_record is None:
            on_record = participant.value
        elif participant.key == ParticipantType.ADDITIONAL_TRANSACTION_RESELLER:
            additional.append(participant.value)
    return on_record, additional


def catalog_parts(catalog_item_id: str) -> tuple[str, str, str] | None:
    parts = catalog_item_id.split(":")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _catalog_links(catalog_item_id: str, country: str) -> tuple[Link, Link, Link] | None:
    parts = catalog_parts(catalog_item_id)
    if parts is None:
        return None
    product, sku, availability = parts
    return (
        link(f"/products/{product}?country={country}"),
        link(f"/products/{product}/skus/{sku}?country={country}"),
        link(f"/products/{product}/skus/{sku}/availabilities/{availability}?country={country}"),
    )


def order_uri(customer_id: str, order_id: str) -> str:
    return f"/customers/{customer_id}/orders/{order_id}"


def subscription_uri(customer_id: str, subscription_id: str) -> str:
    return f"/customers/{customer_id}/subscriptions/{subscription_id}"


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$", re.IGNORECASE)


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def term_end(start: dt.datetime, term: str | None) -> dt.datetime | None:
    """The last day of a term that starts on ``start``'s date (``P1Y`` from 2026-03-01 ends on
    2027-02-28); ``None`` for no term or an unreadable one."""
    if not term:
        return None
    match = _DURATION.match(term.strip())
    if not match or not any(match.groups()):
        return None
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = _add_months(day0, years * 12 + months) + dt.timedelta(weeks=weeks, days=days)
    return end - dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order group turned into an order and the subscriptions of its lines."""

    group: str
    record: OrderRecord
    subscriptions: list[SubscriptionRecord]


def plan_order(
    group: str,
    lines: Sequence[CartLineItem],
    *,
    order_id: str,
    subscription_ids: Sequence[str],
    partner_id: str,
    customer_id: str,
    country: str,
    cart_id: str | None,
    now: dt.datetime,
    policy: OrderPolicy,
) -> PlannedOrder:
    """The order for one group: lines numbered from 0, each with the subscription it becomes.

    Legacy (``OMS-``) groups complete at once, as the published legacy orders do; modern ones
    stay ``pending`` for the provisioning delay.
    """
    provision_at = now if is_legacy_group(group) else now + policy.provisioning_delay
    currency = currency_for(country)
    cycle = next((ln.billing_cycle for ln in lines if ln.billing_cycle), BillingCycle.UNKNOWN)
    order_lines: list[OrderLineItem] = []
    subscriptions: list[SubscriptionRecord] = []
    dates = _Dates(provision_at)
    for number, (line, subscription_id) in enumerate(zip(lines, subscription_ids, strict=True)):
        on_record, additional = partners_on_record(line)
        links = _catalog_links(line.catalog_item_id, country)
        order_lines.append(
            OrderLineItem(
                line_item_number=number,
                offer_id=line.catalog_item_id,
                term_duration=line.term_duration,
                renews_to=line.renews_to,
                transaction_type="New",
                promotion_id=line.promotion_id,
                custom_term_end_date=line.custom_term_end_date,
                friendly_name=line.friendly_name,
                quantity=line.quantity,
                pricing=line.pricing,
                partner_id_on_record=on_record,
                additional_partner_ids_on_record=additional or None,
                provisioning_context=line.provisioning_context or None,
                attestation_accepted=line.attestation_accepted,
                purchase_commitment=line.purchase_commitment,
                links=None
                if links is None
                else OrderLineItemLinks(product=links[0], sku=links[1], availability=links[2]),
            )
        )
        subscriptions.append(
            SubscriptionRecord(
                id=subscription_id,
                partner_id=partner_id,
                customer_id=customer_id,
                order_id=order_id,
                line_item_number=number,
                provision_at=provision_at,
                cancelled_at=None,
                body=msgspec.json.encode(
                    _subscription(
                        line,
                        subscription_id=subscription_id,
                        order_id=order_id,
                        customer_id=customer_id,
                        partner_on_record=on_record,
                        links=links,
                        dates=dates,
                    )
                ),
            )
        )
    uri = order_uri(customer_id, order_id)
    order = Order(
        id=order_id,
        alternate_id=order_id,
        reference_customer_id=customer_id,
        billing_cycle=cycle,
        currency_code=currency.code,
        currency_symbol=currency.symbol,
        line_items=order_lines,
        creation_date=format_timestamp(now),
        status=OrderStatus.PENDING,
        transaction_type="UserPurchase",
        links=OrderLinks(
            self=link(uri),
            provisioning_status=link(f"{uri}/provisioningstatus"),
            patch_operation=link(uri, "PATCH"),
        ),
        client={},
        attributes=Attributes(object_type="Order"),
    )
    record = OrderRecord(
        id=order_id,
        partner_id=partner_id,
        customer_id=customer_id,
        cart_id=cart_id,
        created_at=now,
        status=OrderStatus.PENDING.value,
        provision_at=provision_at,
        billing_cycle=cycle.value,
        version=1,
        body=msgspec.json.encode(order),
    )
    return PlannedOrder(group=group, record=record, subscriptions=subscriptions)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class _Dates:
    """The dates every subscription of one order shares, each worked out and formatted once
    (a 10-line order had formatted 30 timestamps and worked out 10 term ends)."""

    __slots__ = ("_ends", "created", "effective", "start")

    def __init__(self, provision_at: dt.datetime) -> None:
        self.start = provision_at.replace(hour=0, minute=0, second=0, microsecond=0)
        self.created = format_timestamp(provision_at)
        self.effective = format_timestamp(self.start)
        self._ends: dict[str | None, str | None] = {}

    def commitment_end(self, line: CartLineItem) -> str | None:
        if line.custom_term_end_date is not None:
            # The day validation judged (the UTC calendar day of the date sent), at midnight
            # like every other term end: "2026-03-31T00:00:00-08:00" ends on 2026-03-31, not
            # at 08:00 that day.
            return format_timestamp(_midnight(calendar_day(line.custom_term_end_date)))
        term = line.term_duration
        if term not in self._ends:
            end = term_end(self.start, term)
            self._ends[term] = None if end is None else format_timestamp(end)
        return self._ends[term]


def _subscription(
    line: CartLineItem,
    *,
    subscription_id: str,
    order_id: str,
    customer_id: str,
    partner_on_record: str | None,
    links: tuple[Link, Link, Link] | None,
    dates: _Dates,
) -> Subscription:
    cycle = line.billing_cycle or BillingCycle.UNKNOWN
    trial = cycle == BillingCycle.NONE
    if trial:
        renews = line.renews_to is not None
    else:
        renews = cycle != BillingCycle.ONE_TIME and bool(line.term_duration)
    name = line.friendly_name or line.catalog_item_id
    return Subscription(
        id=subscription_id,
        offer_id=line.catalog_item_id,
        offer_name=name,
        friendly_name=name,
        quantity=line.quantity,
        unit_type="Licenses",
        creation_date=dates.created,
        effective_start_date=dates.effective,
        commitment_end_date=dates.commitment_end(line),
        auto_renew_enabled=renews,
        is_trial=trial,
        billing_type="license",
        billing_cycle=cycle,
        term_duration=line.term_duration,
        contract_type="subscription",
        order_id=order_id,
        partner_id=partner_on_record,
        promotion_id=line.promotion_id,
        links=SubscriptionLinks(
            self=link(subscription_uri(customer_id, subscription_id)),
            product=None if links is None else links[0],
            sku=None if links is None else links[1],
            availability=None if links is None else links[2],
        ),
        attributes=Attributes(object_type="Subscription"),
    )


# How an order looks at a given instant.


@dataclass(frozen=True, slots=True)
class LineState:
    provisioned: bool
    cancelled: bool

    @property
    def provisioning_status(self) -> ProvisioningStatus:
        if self.cancelled:
            return ProvisioningStatus.UNFULFILLED
        if self.provisioned:
            return ProvisioningStatus.FULFILLED
        return ProvisioningStatus.PREFULFILLMENT_PENDING


def line_state(subscription: SubscriptionRecord | None, now: dt.datetime) -> LineState:
    """A line is provisioned from ``provision_at`` on, unless it was cancelled before then."""
    if subscription is None:
        return LineState(provisioned=False, cancelled=False)
    cancelled_at = subscription.cancelled_at
    cancelled = cancelled_at is not None
    provisioned = now >= subscription.provision_at and (
        cancelled_at is None or cancelled_at >= subscription.provision_at
    )
    return LineState(provisioned=provisioned, cancelled=cancelled)


def order_status(record: OrderRecord, now: dt.datetime) -> OrderStatus:
    if record.status == OrderStatus.CANCELLED.value:
        return OrderStatus.CANCELLED
    if now >= record.provision_at:
        return OrderStatus.COMPLETED
    return OrderStatus.PENDING


def order_view(
    record: OrderRecord,
    subscriptions: Sequence[SubscriptionRecord],
    *,
    now: dt.datetime,
    include_price: bool,
) -> Order:
    """The order as a caller sees it at ``now``: status, subscription ids once provisioned,
    cancelled lines at quantity 0, and pricing with ``totalPrice`` only when asked for."""
    order = record.document()
    by_line = {s.line_item_number: s for s in subscriptions}
    lines: list[OrderLineItem] = []
    total = 0.0
    priced = False
    for line in order.line_items or ():
        sub = by_line.get(line.line_item_number or 0)
        state = line_state(sub, now)
        changes: dict[str, object] = {}
        if state.provisioned and sub is not None:
            changes["subscription_id"] = sub.id
        if state.cancelled:
            changes["quantity"] = 0
        if include_price and line.pricing is not None:
            priced = True
            if not state.cancelled:
                total += line.pricing.extended_price or 0.0
        else:
            changes["pricing"] = None
        lines.append(msgspec.structs.replace(line, **changes) if changes else line)
    return msgspec.structs.replace(
        order,
        line_items=lines,
        status=order_status(record, now),
        total_price=round(total, 2) if priced else None,
    )


def provisioning_view(
    record: OrderRecord, subscriptions: Sequence[SubscriptionRecord], *, now: dt.datetime
) -> list[OrderLineItemProvisioningStatus]:
    order = record.document()
    by_line = {s.line_item_number: s for s in subscriptions}
    items: list[OrderLineItemProvisioningStatus] = []
    for line in order.line_items or ():
        number = line.line_item_number or 0
        status = line_state(by_line.get(number), now).provisioning_status
        items.append(
            OrderLineItemProvisioningStatus(
                order_line_item_id=number,
                line_item_number=number,
                status=status,
                quantity_provisioning_information=[
                    QuantityProvisioningStatus(quantity=line.quantity or 0, status=status)
                ],
            )
        )
    return items


def subscription_view(record: SubscriptionRecord, *, now: dt.datetime) -> Subscription | None:
    """The subscription once provisioned (``deleted`` after its line was cancelled); ``None``
    before, or when its line was cancelled before it was provisioned."""
    state = line_state(record, now)
    if not state.provisioned:
        return None
    status = SubscriptionStatus.DELETED if state.cancelled else SubscriptionStatus.ACTIVE
    return msgspec.structs.replace(record.document(), status=status)


# Cancelling.


def cancellable_lines(
    record: OrderRecord,
    order: Order,
    requested: Sequence[OrderLineItem] | None,
    *,
    now: dt.datetime,
    policy: OrderPolicy,
) -> list[int]:
    """The line numbers a cancel request names (all lines when it names none), after checking
    that this order may be cancelled at ``now``.

    Only one-time purchases (perpetual software, reservations, as in the integration sandbox)
    can be cancelled through PATCH order, and only within the cancellation window.
    """
    if record.billing_cycle != BillingCycle.ONE_TIME.value:
        raise BadRequest(
            f"Order {record.id} can't be cancelled: only one-time purchases (perpetual software, "
            "reservations) are cancelled with PATCH order; cancel a subscription with PATCH "
            "subscription.",
            code=800061,
        )
    if now - record.created_at > policy.cancellation_window:
        days = policy.cancellation_window.days
        raise BadRequest(
            f"Order {record.id} can't be cancelled: it is past the {days}-day cancellation window.",
            code=900117,
        )
    offers = {line.line_item_number or 0: line.offer_id for line in order.line_items or ()}
    if not requested:
        return sorted(offers)
    numbers: list[int] = []
    for place, item in enumerate(requested):
        number = item.line_item_number
        if number is None:
            raise BadRequest(
                f"Line item {place} of the request names no lineItemNumber; name the line "
                f"items of order {record.id} to cancel (0 to {len(offers) - 1}), or none for all.",
                code=800071,
                data=[f"$.lineItems[{place}].lineItemNumber"],
            )
        if number not in offers:
            raise BadRequest(
                f"Line item number {number} is not in order {record.id}: it must be between 0 "
                f"and {len(offers) - 1}.",
                code=800071,
            )
        if item.offer_id is not None and item.offer_id.lower() != (offers[number] or "").lower():
            raise BadRequest(
                f"Offer {item.offer_id} is not the offer of line item {number} of order "
                f"{record.id}.",
                code=800004,
            )
        if number not in numbers:
            numbers.append(number)
    return numbers
