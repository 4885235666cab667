"""Order, OrderLineItem, CartCheckoutResult, provisioning status and Subscription on the wire.

Field names follow the Partner Center models (reference §3.4-3.10); :class:`Pricing` is the one
defined with the cart. Every field is optional so that the same models read a partial ``PATCH``
body; the server always fills what the published samples show.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

import msgspec

from partnercart.schema.cart import BillingCycle, Pricing, PurchaseCommitment, RenewsTo
from partnercart.schema.common import Attributes, CollectionLinks, Link, Wire

__all__ = [
    "CartCheckoutResult",
    "Order",
    "OrderCollection",
    "OrderError",
    "OrderLineItem",
    "OrderLineItemLinks",
    "OrderLineItemProvisioningStatus",
    "OrderLinks",
    "OrderStatus",
    "Pricing",
    "ProvisioningStatus",
    "ProvisioningStatusCollection",
    "QuantityProvisioningStatus",
    "Subscription",
    "SubscriptionCollection",
    "SubscriptionLinks",
    "SubscriptionStatus",
]


class OrderStatus(StrEnum):
    """Order status; definition order is the numeric value (reference §4.4)."""

    UNKNOWN = "unknown"
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    PENDING_REVIEW = "pending_review"
    PENDING_PO_UPLOAD = "pending_po_upload"
    PO_UPLOAD_COMPLETE = "po_upload_complete"
    PO_REVIEW_REJECTED = "po_review_rejected"
    PARTIAL_SUCCESS = "partial_success"
    ERROR = "error"


class ProvisioningStatus(StrEnum):
    """Provisioning status of an order line: the published sample writes ``fulfilled``."""

    FULFILLED = "fulfilled"
    UNFULFILLED = "unfulfilled"
    PREFULFILLMENT_PENDING = "prefulfillment_pending"
    #: Never sent by this server: what a client reads for a status it does not know (the
    #: wire text of newer statuses is not published, reference §12).
    UNKNOWN = "unknown"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"
    EXPIRED = "expired"
    PENDING = "pending"
    #: Never sent by this server: what a client reads for a status it does not know
    #: (``disabled``, the ``none`` of some published samples).
    UNKNOWN = "unknown"


class OrderLineItemLinks(Wire, kw_only=True):
    subscription: Link | None = None
    product: Link | None = None
    sku: Link | None = None
    availability: Link | None = None
    provisioning_status: Link | None = None
    activation_links: Link | None = None


class OrderLineItem(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset({"subscriptionId", "pricing", "links"})

    line_item_number: int | None = None
    offer_id: str | None = None
    subscription_id: str | None = None
    parent_subscription_id: str | None = None
    term_duration: str | None = None
    renews_to: RenewsTo | None = None
    transaction_type: str | None = None
    promotion_id: str | None = None
    custom_term_end_date: dt.datetime | None = None
    friendly_name: str | None = None
    quantity: int | None = None
    pricing: Pricing | None = None
    partner_id_on_record: str | None = None
    additional_partner_ids_on_record: list[str] | None = None
    provisioning_context: dict[str, str | None] | None = None
    attestation_accepted: bool | None = None
    purchase_commitment: PurchaseCommitment | None = None
    links: OrderLineItemLinks | None = None


class OrderLinks(Wire, kw_only=True):
    self: Link | None = None
    provisioning_status: Link | None = None
    patch_operation: Link | None = None


class Order(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset(
        {
            "alternateId",
            "currencyCode",
            "currencySymbol",
            "creationDate",
            "transactionType",
            "links",
            "totalPrice",
            "client",
            "attributes",
        }
    )

    id: str | None = None
    alternate_id: str | None = None
    reference_customer_id: str | None = None
    billing_cycle: BillingCycle | None = None
    currency_code: str | None = None
    currency_symbol: str | None = None
    line_items: list[OrderLineItem] | None = None
    creation_date: str | None = None
    status: OrderStatus | None = None
    transaction_type: str | None = None
    total_price: float | None = None
    partner_on_record_attestation_accepted: bool | None = None
    links: OrderLinks | None = None
    client: dict[str, Any] | None = None
    attributes: Attributes | None = None


class OrderError(Wire, kw_only=True):
    order_group_id: str
    code: int
    description: str


class CartCheckoutResult(Wire, kw_only=True):
    """``orders`` is always written (possibly empty); ``orderErrors`` only when a group failed,
    as in the published sample."""

    orders: list[Order]
    order_errors: list[OrderError] = msgspec.field(default_factory=list)
    attributes: Attributes | None = None


class OrderCollection(Wire, kw_only=True):
    total_count: int
    items: list[Order]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None


class QuantityProvisioningStatus(Wire, kw_only=True):
    quantity: int
    status: ProvisioningStatus


class OrderLineItemProvisioningStatus(Wire, kw_only=True):
    order_line_item_id: int | None = None
    line_item_number: int
    status: ProvisioningStatus
    quantity_provisioning_information: list[QuantityProvisioningStatus]


class ProvisioningStatusCollection(Wire, kw_only=True):
    total_count: int
    items: list[OrderLineItemProvisioningStatus]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None


class SubscriptionLinks(Wire, kw_only=True):
    self: Link | None = None
    product: Link | None = None
    sku: Link | None = None
    availability: Link | None = None
    order: Link | None = None


class Subscription(Wire, kw_only=True):
    """The Partner Center subscription, limited to what an order can tell (see
    ``docs/decisions.md`` for how each field is filled)."""

    id: str
    offer_id: str | None = None
    offer_name: str | None = None
    friendly_name: str | None = None
    quantity: int | None = None
    unit_type: str | None = None
    creation_date: str | None = None
    effective_start_date: str | None = None
    commitment_end_date: str | None = None
    status: SubscriptionStatus | None = None
    auto_renew_enabled: bool | None = None
    is_trial: bool | None = None
    billing_type: str | None = None
    billing_cycle: BillingCycle | None = None
    term_duration: str | None = None
    contract_type: str | None = None
    order_id: str | None = None
    partner_id: str | None = None
    promotion_id: str | None = None
    links: SubscriptionLinks | None = None
    attributes: Attributes | None = None


class SubscriptionCollection(Wire, kw_only=True):
    total_count: int
    items: list[Subscription]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None
