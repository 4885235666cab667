"""Cart line validation against the catalog and the customer, and the prices of valid lines.

Pure: given the lines, the catalog, the customer's market and the time, it sets each line's
``error`` (at most one, the first rule that fails, in the order below) and ``pricing``. A line
with an error has no pricing. The HTTP call that carries the cart still succeeds; checkout
refuses a cart with line errors. Each rule and its code is written down in
``docs/decisions.md``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from partnercart.schema.cart import (
    BillingCycle,
    CartError,
    CartLineItem,
    ParticipantType,
    Pricing,
)
from partnercart.schema.catalog import Term
from partnercart.schema.timefmt import calendar_day
from partnercart.server.catalog.files import LegacyOffer
from partnercart.server.catalog.index import Catalog, Offer, term_cycle_text
from partnercart.server.domain.markets import EU_EFTA

# CartErrorCode values (reference §4.2) and the Partner Center codes used where the enum has none.
CURRENCY_NOT_SUPPORTED = 10000
CATALOG_ITEM_INVALID = 10001
PARTICIPANTS_NOT_SUPPORTED = 10004
INVALID_INPUT = 10010
ATTESTATION_NOT_ACCEPTED = 10012
BILLING_PLAN_NOT_SUPPORTED = 10013
INVALID_PROMOTION = 10014
CUSTOM_TERM_END_DATE_PRODUCT = 10016
CUSTOM_TERM_END_DATE = 10017
BASE_OFFER_SEATS_NOT_MET = 10018
MINIMUM_ADDON_SEATS_NOT_MET = 10019
PARTNER_ATTESTATION_MISSING = 900206
SCOPE_NOT_SUPPORTED = 900312
ENTITLEMENT_ID_REQUIRED = 900313
AZURE_PLAN_ID_REQUIRED = 900317

MAX_ADDITIONAL_RESELLERS = 5
LICENSE_BASED = "OnlineServicesNCE"
SCOPES = ("shared", "single")
HOURS_PER_MONTH = 730  # the Azure convention for monthly hours
#: The largest purchase commitment (per grain) a line may name. Far above any real purchase, and
#: low enough that every price worked out from it is a finite number (JSON has no infinity).
MAX_PURCHASE_COMMITMENT = 1e9
_CATALOG_ITEM = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9]+:[A-Za-z0-9]+$")
_DURATION = re.compile(r"^P(\d+)([MY])$")


@dataclass(frozen=True, slots=True)
class Market:
    """What validation needs to know about the buyer."""

    country: str
    currency: str
    segment: str = "commercial"


@dataclass(frozen=True, slots=True)
class CartContext:
    """The cart-wide facts every line is checked against."""

    catalog: Catalog
    market: Market
    now: dt.datetime
    #: the cart's ``partnerOnRecordAttestationAccepted``.
    partner_attestation: bool = False
    #: end dates of the customer's active non-trial subscriptions a line may coterminate with.
    coterm_end_dates: frozenset[dt.date] = field(default_factory=frozenset)
    #: seats the customer already owns, by ``PRODUCT:SKU`` (live subscriptions): an add-on may
    #: build on these instead of on a base line in the same cart.
    owned_seats: Mapping[str, int] = field(default_factory=dict)


class LineProblem(Exception):
    """Raised inside the checks; becomes the line's ``error``."""

    def __init__(self, code: int, description: str, info: Mapping[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error = CartError(
            error_code=code,
            error_description=description,
            additional_information=dict(info) if info else None,
        )


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@functools.lru_cache(maxsize=256)
def _months(duration: str | None) -> int | None:
    """Months in an ISO 8601 term (``P1M``, ``P1Y``, ``P3Y``); a catalog has a handful."""
    match = _DURATION.match(duration or "")
    if match is None:
        return None
    n = int(match.group(1))
    return n * 12 if match.group(2) == "Y" else n


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


# The rules for one modern (P:S:A) line, in the order they are applied.


def _resolve(line: CartLineItem, ctx: CartContext) -> Offer:
    item = line.catalog_item_id.strip()
    if not _CATALOG_ITEM.match(item):
        raise LineProblem(
            CATALOG_ITEM_INVALID,
            f"Catalog item ID {item!r} is not valid: expected productId:skuId:availabilityId.",
        )
    offer = ctx.catalog.offer(item)
    if offer is None:
        raise LineProblem(CATALOG_ITEM_INVALID, f"Catalog item ID {item} was not found.")
    country = ctx.market.country
    if not offer.sold_in(country):
        raise LineProblem(
            CATALOG_ITEM_INVALID,
            f"Catalog item ID {item} is not available in country {country}.",
            {"country": country},
        )
    segment = offer.availability.segment.lower()
    if segment != ctx.market.segment:
        raise LineProblem(
            CATALOG_ITEM_INVALID,
            f"Catalog item ID {item} is for the {segment} segment; the customer buys in the "
            f"{ctx.market.segment} segment.",
            {"segment": segment},
        )
    if not offer.availability.is_purchasable:
        raise LineProblem(CATALOG_ITEM_INVALID, f"Catalog item ID {item} is not purchasable.")
    if line.addon_items:
        raise LineProblem(
            INVALID_INPUT,
            "addonItems is only for legacy offers; put a new-commerce add-on on its own line.",
        )
    return offer


def _offered_plans(offer: Offer) -> list[dict[str, str]]:
    if offer.availability.terms:
        return [
            {"termDuration": t.duration or "", "billingCycle": t.billing_cycle}
            for t in offer.availability.terms
        ]
    return [{"billingCycle": term_cycle_text(c)} for c in offer.sku.supported_billing_cycles]


def _plan(line: CartLineItem, offer: Offer) -> Term | None:
    cycle = line.billing_cycle
    duration = (line.term_duration or "").strip().upper() or None
    shown = f"term {duration or 'none'} with billing cycle {cycle.value if cycle else 'unknown'}"
    if offer.availability.terms:
        term = offer.term(duration, cycle)
        if term is None:
            raise LineProblem(
                BILLING_PLAN_NOT_SUPPORTED,
                f"Catalog item ID {offer.catalog_item_id} does not offer {shown}.",
                {"supportedTerms": _offered_plans(offer)},
            )
    else:
        term = None
        if duration is not None or cycle not in offer.sku.supported_billing_cycles:
            raise LineProblem(
                BILLING_PLAN_NOT_SUPPORTED,
                f"Catalog item ID {offer.catalog_item_id} does not offer {shown}.",
                {"supportedTerms": _offered_plans(offer)},
            )
    renews = (line.renews_to.term_duration or "").strip().upper() if line.renews_to else ""
    if renews:
        options = [o.term_duration for o in (term.renewal_options or [])] if term else []
        if renews not in options:
            raise LineProblem(
                BILLING_PLAN_NOT_SUPPORTED,
                f"Catalog item ID {offer.catalog_item_id} cannot renew to term {renews}.",
                {"renewalTermDurations": options},
            )
    return term


def _quantity(line: CartLineItem, offer: Offer) -> None:
    sku = offer.sku
    low, high = sku.minimum_quantity, sku.maximum_quantity
    info = {"minimumQuantity": low, "maximumQuantity": high, "requestedQuantity": line.quantity}
    if offer.is_addon and line.quantity < low:
        raise LineProblem(
            MINIMUM_ADDON_SEATS_NOT_MET,
            f"Add-on {offer.catalog_item_id} needs at least {low} seat(s); "
            f"{line.quantity} requested.",
            info,
        )
    if not low <= line.quantity <= high:
        raise LineProblem(
            INVALID_INPUT,
            f"Quantity {line.quantity} of catalog item ID {offer.catalog_item_id} is outside "
            f"the allowed range {low}..{high}.",
            info,
        )


def _attestation(line: CartLineItem, offer: Offer) -> None:
    properties = offer.sku.attestation_properties
    if properties is not None and properties.enforce_attestation and not line.attestation_accepted:
        raise LineProblem(
            ATTESTATION_NOT_ACCEPTED,
            f"Catalog item ID {offer.catalog_item_id} requires attestation acceptance: "
            "set attestationAccepted to true.",
            {"attestationType": properties.attestation_type or ""},
        )


def _promotion(line: CartLineItem, offer: Offer) -> None:
    wanted = (line.promotion_id or "").strip().upper()
    if not wanted:
        return
    duration = (line.term_duration or "").strip().upper()
    for promotion in offer.availability.promotions:
        if promotion.id.upper() == wanted and (
            promotion.term_durations is None
            or duration in (d.upper() for d in promotion.term_durations)
        ):
            return
    raise LineProblem(
        INVALID_PROMOTION,
        f"Promotion {line.promotion_id} does not apply to catalog item ID "
        f"{offer.catalog_item_id} with term {duration or 'none'}.",
    )


def _custom_term_end(line: CartLineItem, offer: Offer, term: Term | None, ctx: CartContext) -> None:
    wanted = line.custom_term_end_date
    if wanted is None:
        return
    months = _months(term.duration if term else None)
    if (
        offer.product.product_type.id != LICENSE_BASED
        or offer.sku.is_trial
        or months is None
        or line.billing_cycle in (BillingCycle.NONE, BillingCycle.ONE_TIME)
    ):
        raise LineProblem(
            CUSTOM_TERM_END_DATE_PRODUCT,
            "customTermEndDate is only for non-trial license-based new-commerce products "
            f"with a term; catalog item ID {offer.catalog_item_id} is not one.",
        )
    # Outside the calendar in UTC (before 0001-01-01 or after 9999-12-31), its own day is
    # outside any first term all the same.
    day = calendar_day(wanted)
    start = ctx.now.astimezone(dt.UTC).date()
    first_term_end = _add_months(start, months) - dt.timedelta(days=1)
    info = {"termStartDate": _stamp(start), "termEndDate": _stamp(first_term_end)}
    if not start < day <= first_term_end:
        raise LineProblem(
            CUSTOM_TERM_END_DATE,
            f"customTermEndDate {_stamp(day)} must fall after {_stamp(start)} and within the "
            f"first term, which ends {_stamp(first_term_end)}.",
            info,
        )
    if _is_month_end(day):
        return
    if day in ctx.coterm_end_dates and not (months == 1 and day.day in (28, 29, 30)):
        return
    raise LineProblem(
        CUSTOM_TERM_END_DATE,
        f"customTermEndDate {_stamp(day)} is neither the end of a calendar month nor the end "
        "date of an active subscription of the customer.",
        info,
    )


def _context_value(context: Mapping[str, str | None], key: str) -> str | None:
    for name, value in context.items():
        if name.lower() == key.lower() and value is not None and value.strip():
            return value.strip()
    return None


def _provisioning(line: CartLineItem, offer: Offer) -> None:
    context = line.provisioning_context or {}
    required = offer.sku.provisioning_variables
    missing = [v for v in required if _context_value(context, v) is None]
    if missing:
        raise LineProblem(
            INVALID_INPUT,
            f"Catalog item ID {offer.catalog_item_id} needs provisioningContext keys: "
            f"{', '.join(missing)}.",
            {"missingProvisioningContextKeys": missing},
        )
    if not any(v.lower() == "scope" for v in required):
        return
    scope = (_context_value(context, "scope") or "").lower()
    if scope not in SCOPES:
        raise LineProblem(
            SCOPE_NOT_SUPPORTED,
            f"Scope '{_context_value(context, 'scope')}' in provisioning context is not "
            "supported; use shared or single.",
        )
    by_scope = (offer.sku.dynamic_attributes or {}).get("scopeProvisioningVariables") or {}
    for key in by_scope.get(scope, ()):
        if _context_value(context, key) is None:
            code = {
                "subscriptionid": AZURE_PLAN_ID_REQUIRED,
                "entitlementid": ENTITLEMENT_ID_REQUIRED,
            }
            raise LineProblem(
                code.get(key.lower(), INVALID_INPUT),
                f"The {scope} scope needs provisioningContext key {key[:1].lower()}{key[1:]}.",
                {"missingProvisioningContextKeys": [key]},
            )


def _commitment(line: CartLineItem, offer: Offer, ctx: CartContext) -> None:
    minimum = offer.sku.minimum_purchase_commitment
    if not minimum:
        return
    commitment = line.purchase_commitment
    floor = float(minimum.get("amount") or 0)
    grain = str(minimum.get("grain") or "hourly")
    if commitment is None or commitment.amount is None or commitment.amount < floor:
        raise LineProblem(
            INVALID_INPUT,
            f"Catalog item ID {offer.catalog_item_id} needs purchaseCommitment.amount of at "
            f"least {floor} ({grain}).",
            {"minimumPurchaseCommitment": floor, "grain": grain},
        )
    if commitment.amount > MAX_PURCHASE_COMMITMENT:
        raise LineProblem(
            INVALID_INPUT,
            f"purchaseCommitment.amount may be at most {MAX_PURCHASE_COMMITMENT:.0f} ({grain}).",
            {"maximumPurchaseCommitment": MAX_PURCHASE_COMMITMENT, "grain": grain},
        )
    if commitment.grain is not None and commitment.grain.lower() != grain.lower():
        raise LineProblem(
            INVALID_INPUT,
            f"purchaseCommitment.grain must be {grain!r}.",
            {"grain": grain},
        )
    if commitment.currency is not None and commitment.currency.upper() != ctx.market.currency:
        raise LineProblem(
            CURRENCY_NOT_SUPPORTED,
            f"purchaseCommitment.currency {commitment.currency!r} is not the customer's market "
            f"currency {ctx.market.currency}.",
            {"currency": ctx.market.currency},
        )


def _participants(line: CartLineItem, ctx: CartContext) -> None:
    participants = line.participants
    if not participants:  # most lines name none, and every rule below is about those named
        return
    kinds = [p.key for p in participants]
    if ParticipantType.UNKNOWN in kinds or any(not p.value.strip() for p in participants):
        raise LineProblem(
            INVALID_INPUT,
            "Each participant needs a known key (transaction_reseller, "
            "additional_transaction_reseller, consumption_reseller) and a partner ID value.",
        )
    if kinds.count(ParticipantType.TRANSACTION_RESELLER) > 1:
        raise LineProblem(INVALID_INPUT, "A line names at most one transaction_reseller.")
    additional = kinds.count(ParticipantType.ADDITIONAL_TRANSACTION_RESELLER)
    if additional > MAX_ADDITIONAL_RESELLERS:
        raise LineProblem(
            INVALID_INPUT,
            f"A line names at most {MAX_ADDITIONAL_RESELLERS} additional_transaction_reseller "
            f"participants; this one names {additional}.",
            {"maximumAdditionalTransactionResellers": MAX_ADDITIONAL_RESELLERS},
        )
    if additional and ctx.market.country not in EU_EFTA:
        raise LineProblem(
            PARTICIPANTS_NOT_SUPPORTED,
            "additional_transaction_reseller is only for purchases in EU/EFTA markets; the "
            f"customer's country is {ctx.market.country}.",
            {"country": ctx.market.country},
        )
    if participants and not ctx.partner_attestation:
        raise LineProblem(
            PARTNER_ATTESTATION_MISSING,
            "Partner attestation is missing: a cart that names resellers needs "
            "partnerOnRecordAttestationAccepted set to true.",
        )


def _unit_price(
    line: CartLineItem, offer: Offer, months: int | None, ctx: CartContext
) -> float | None:
    entry = offer.price(line.term_duration and line.term_duration.upper(), line.billing_cycle)
    if entry is not None:
        return entry.list_price.get(ctx.market.currency)
    commitment = line.purchase_commitment
    if offer.sku.minimum_purchase_commitment and commitment and commitment.amount is not None:
        hours = HOURS_PER_MONTH * (
            months if line.billing_cycle == BillingCycle.ONE_TIME and months else 1
        )
        return commitment.amount * hours
    return None


_MONTHS_PER_PERIOD = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.ANNUAL: 12,
    BillingCycle.BIENNIAL: 24,
    BillingCycle.TRIENNIAL: 36,
}


def _periods(cycle: BillingCycle | None, months: int | None) -> int:
    """How many times a unit price is charged over the term."""
    if months is None or cycle is None or cycle not in _MONTHS_PER_PERIOD:
        return 1
    return max(1, months // _MONTHS_PER_PERIOD[cycle])


def _pricing(
    line: CartLineItem, offer: Offer, term: Term | None, ctx: CartContext
) -> Pricing | None:
    months = _months(term.duration if term else None)
    unit = _unit_price(line, offer, months, ctx)
    if unit is None:
        return None
    unit = round(unit, 2)
    return Pricing(
        list_price=unit,
        discounted_price=unit,
        prorated_price=unit,
        price=unit,
        extended_price=round(unit * _periods(line.billing_cycle, months) * line.quantity, 2),
    )


def _check_modern(line: CartLineItem, ctx: CartContext) -> tuple[Offer, Pricing | None]:
    offer = _resolve(line, ctx)
    term = _plan(line, offer)
    _quantity(line, offer)
    _attestation(line, offer)
    _promotion(line, offer)
    _custom_term_end(line, offer, term, ctx)
    _provisioning(line, offer)
    _commitment(line, offer, ctx)
    _participants(line, ctx)
    return offer, _pricing(line, offer, term, ctx)


# Legacy (OMS) lines: the offer must be in the legacy table; add-ons may nest.


def _legacy_offer(line: CartLineItem, ctx: CartContext) -> LegacyOffer:
    offer = ctx.catalog.legacy_offer(line.catalog_item_id)
    if offer is None:
        raise LineProblem(
            CATALOG_ITEM_INVALID, f"Catalog item ID {line.catalog_item_id.strip()!r} was not found."
        )
    if line.billing_cycle not in offer.billing_cycles:
        cycle = line.billing_cycle.value if line.billing_cycle else "unknown"
        raise LineProblem(
            BILLING_PLAN_NOT_SUPPORTED,
            f"Offer {offer.id} does not support billing cycle {cycle}.",
            {"supportedBillingCycles": [c.value for c in offer.billing_cycles]},
        )
    if not offer.minimum_quantity <= line.quantity <= offer.maximum_quantity:
        raise LineProblem(
            INVALID_INPUT,
            f"Quantity {line.quantity} of offer {offer.id} is outside the allowed range "
            f"{offer.minimum_quantity}..{offer.maximum_quantity}.",
            {
                "minimumQuantity": offer.minimum_quantity,
                "maximumQuantity": offer.maximum_quantity,
                "requestedQuantity": line.quantity,
            },
        )
    return offer


def _check_legacy(line: CartLineItem, ctx: CartContext, *, nested: bool) -> None:
    offer = _legacy_offer(line, ctx)
    if nested and not offer.is_addon:
        raise LineProblem(
            CATALOG_ITEM_INVALID, f"Offer {offer.id} is not an add-on and cannot be nested."
        )
    if (
        not nested
        and offer.is_addon
        and _context_value(line.provisioning_context or {}, "parentSubscriptionId") is None
    ):
        raise LineProblem(
            INVALID_INPUT,
            f"Add-on offer {offer.id} needs a base line (nest it in addonItems) or "
            "provisioningContext.parentSubscriptionId.",
            {"missingProvisioningContextKeys": ["parentSubscriptionId"]},
        )
    if line.addon_items and nested:
        raise LineProblem(INVALID_INPUT, "Add-ons cannot have add-ons of their own.")
    _participants(line, ctx)


# The cart-wide add-on rule, then the entry point.


def _addon_seats(lines: Iterable[tuple[CartLineItem, Offer]], owned: Mapping[str, int]) -> None:
    resolved = list(lines)
    seats_of: dict[str, int] = {k.upper(): v for k, v in owned.items()}
    for base, base_offer in resolved:
        key = f"{base_offer.product.id}:{base_offer.sku.id}".upper()
        seats_of[key] = seats_of.get(key, 0) + base.quantity
    for line, offer in resolved:
        if not offer.is_addon or line.error is not None:
            continue
        seats = sum(seats_of.get(sku, 0) for sku in offer.prerequisite_skus)
        capped = bool((offer.sku.dynamic_attributes or {}).get("addonSeatsLimitedByBase"))
        # The add-on's own seats in all: its lines in this cart and the customer's live
        # subscriptions of it (counted into seats_of above), so splitting a purchase over
        # two lines, or over two carts, does not get past the cap.
        wanted = seats_of.get(f"{offer.product.id}:{offer.sku.id}".upper(), line.quantity)
        info = {
            "prerequisiteSkus": list(offer.prerequisite_skus),
            "availableQuantity": seats,
            "purchasedQuantity": line.quantity,
        }
        if seats == 0:
            line.error = CartError(
                error_code=BASE_OFFER_SEATS_NOT_MET,
                error_description=(
                    f"Add-on {offer.catalog_item_id} needs one of its base offers "
                    f"({', '.join(offer.prerequisite_skus)}) in the same cart or among the "
                    "customer's subscriptions."
                ),
                additional_information=info,
            )
        elif capped and wanted > seats:
            info["addonQuantityInAll"] = wanted
            line.error = CartError(
                error_code=BASE_OFFER_SEATS_NOT_MET,
                error_description=(
                    f"Add-on {offer.catalog_item_id} asks for {wanted} seat(s) in all (this "
                    "cart's lines of it and the customer's subscriptions of it) but its base "
                    f"offers in the cart and the customer's subscriptions have {seats}."
                ),
                additional_information=info,
            )
        if line.error is not None:
            line.pricing = None


def is_legacy(catalog_item_id: str) -> bool:
    return ":" not in catalog_item_id


def validate_lines(lines: list[CartLineItem], ctx: CartContext) -> None:
    """Set ``error`` and ``pricing`` on every line (and nested legacy add-on) of a cart."""
    resolved: list[tuple[CartLineItem, Offer]] = []
    for line in lines:
        line.error, line.pricing = None, None
        try:
            if is_legacy(line.catalog_item_id):
                _check_legacy(line, ctx, nested=False)
            else:
                offer, line.pricing = _check_modern(line, ctx)
                resolved.append((line, offer))
        except LineProblem as problem:
            line.error = problem.error
            offer_found = (
                None if is_legacy(line.catalog_item_id) else ctx.catalog.offer(line.catalog_item_id)
            )
            if offer_found is not None and offer_found.sold_in(ctx.market.country):
                # A base line with its own problem still counts as the base of its add-ons,
                # so the add-on is not blamed for the base line's mistake.
                resolved.append((line, offer_found))
        if is_legacy(line.catalog_item_id):
            for addon in line.addon_items or ():
                addon.error, addon.pricing = None, None
                try:
                    _check_legacy(addon, ctx, nested=True)
                except LineProblem as problem:
                    addon.error = problem.error
    _addon_seats(resolved, ctx.owned_seats)
