"""Cart, CartLineItem, CartError and CartCheckoutResult as they travel on the wire."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar

import msgspec

from partnercart.schema.common import Attributes, SelfLinks, Wire


class BillingCycle(StrEnum):
    """BillingCycleType; definition order is the numeric value the .NET SDK may send."""

    UNKNOWN = "unknown"
    MONTHLY = "monthly"
    ANNUAL = "annual"
    NONE = "none"
    ONE_TIME = "one_time"
    TRIENNIAL = "triennial"
    BIENNIAL = "biennial"


class ParticipantType(StrEnum):
    UNKNOWN = "unknown"
    TRANSACTION_RESELLER = "transaction_reseller"
    CONSUMPTION_RESELLER = "consumption_reseller"
    ADDITIONAL_TRANSACTION_RESELLER = "additional_transaction_reseller"


class CartStatus(StrEnum):
    # Cart status is PascalCase on the wire, unlike every other enum.
    ACTIVE = "Active"
    ORDERED = "Ordered"
    #: Never sent by this server: what a client reads for a status it does not know
    #: (Partner Center may add one, e.g. an ``Expired`` the docs do not list).
    UNKNOWN = "Unknown"


class Participant(Wire, kw_only=True):
    key: ParticipantType
    value: str


class RenewsTo(Wire, kw_only=True):
    term_duration: str | None = None


class PurchaseCommitment(Wire, kw_only=True):
    amount: float | None = None
    grain: str | None = None
    currency: str | None = None


class Pricing(Wire, kw_only=True):
    list_price: float | None = None
    discounted_price: float | None = None
    prorated_price: float | None = None
    price: float | None = None
    extended_price: float | None = None


class CartError(Wire, kw_only=True):
    error_code: int
    error_description: str
    additional_information: dict[str, Any] | None = None


Quantity = Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)]
LineId = Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)]
ShortText = Annotated[str, msgspec.Meta(max_length=1024)]


class CartLineItem(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset(
        {"currencyCode", "orderGroup", "error", "pricing"}
    )

    id: LineId | None = None
    catalog_item_id: ShortText
    friendly_name: ShortText | None = None
    quantity: Quantity
    currency_code: str | None = None
    billing_cycle: BillingCycle | None = None
    term_duration: ShortText | None = None
    promotion_id: ShortText | None = None
    participants: list[Participant] | None = None
    provisioning_context: dict[str, str | None] | None = None
    custom_term_end_date: dt.datetime | None = None
    attestation_accepted: bool | None = None
    renews_to: RenewsTo | None = None
    purchase_commitment: PurchaseCommitment | None = None
    order_group: str | None = None
    purchase_system: ShortText | None = None
    addon_items: list[CartLineItem] | None = None
    pricing: Pricing | None = None
    error: CartError | None = None


class Cart(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "creationTimestamp",
            "lastModifiedTimestamp",
            "expirationTimestamp",
            "lastModifiedUser",
            "status",
            "links",
        }
    )

    id: str | None = None
    creation_timestamp: str | None = None
    last_modified_timestamp: str | None = None
    expiration_timestamp: str | None = None
    last_modified_user: str | None = None
    status: CartStatus | None = None
    line_items: list[CartLineItem]
    partner_on_record_attestation_accepted: bool | None = None
    links: SelfLinks | None = None
    attributes: Attributes | None = None
