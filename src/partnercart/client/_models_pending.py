"""Wire models for resources the server does not serve yet on this branch: orders, checkout
results, subscriptions and the catalog. Field names follow the reference (§3) exactly; they
will be replaced by the server's own schema modules when those exist.

Timestamps stay strings: published order samples mix ``Z`` and offsets (and one has spaces)."""

from __future__ import annotations

from typing import Any

from partnercart.schema.cart import BillingCycle, Pricing, PurchaseCommitment, RenewsTo
from partnercart.schema.common import Attributes, Link, SelfLinks, Wire

__all__ = [
    "Availability",
    "CartCheckoutResult",
    "Currency",
    "ItemType",
    "Order",
    "OrderError",
    "OrderLineItem",
    "OrderLineItemLinks",
    "OrderLineItemProvisioningStatus",
    "OrderLinks",
    "Product",
    "ProductLinks",
    "QuantityProvisioningStatus",
    "Sku",
    "SkuLinks",
    "Subscription",
    "SubscriptionLinks",
    "Term",
]


class OrderLineItemLinks(Wire, kw_only=True):
    subscription: Link | None = None
    product: Link | None = None
    sku: Link | None = None
    availability: Link | None = None
    provisioning_status: Link | None = None
    activation_links: Link | None = None


class OrderLineItem(Wire, kw_only=True):
    line_item_number: int | None = None
    offer_id: str | None = None
    subscription_id: str | None = None
    parent_subscription_id: str | None = None
    term_duration: str | None = None
    renews_to: RenewsTo | None = None
    transaction_type: str | None = None
    promotion_id: str | None = None
    custom_term_end_date: str | None = None
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
    id: str | None = None
    alternate_id: str | None = None
    reference_customer_id: str | None = None
    billing_cycle: BillingCycle | None = None
    currency_code: str | None = None
    currency_symbol: str | None = None
    line_items: list[OrderLineItem] | None = None
    creation_date: str | None = None
    #: ``pending``, ``completed``, ``cancelled``, ... (kept as text: samples also show ``none``).
    status: str | None = None
    transaction_type: str | None = None
    links: OrderLinks | None = None
    total_price: float | None = None
    partner_on_record_attestation_accepted: bool | None = None
    client: dict[str, Any] | None = None
    attributes: Attributes | None = None


class OrderError(Wire, kw_only=True):
    order_group_id: str | None = None
    code: int | None = None
    description: str | None = None
    attributes: Attributes | None = None


class CartCheckoutResult(Wire, kw_only=True):
    orders: list[Order] = []
    order_errors: list[OrderError] = []
    attributes: Attributes | None = None


class QuantityProvisioningStatus(Wire, kw_only=True):
    quantity: int | None = None
    status: str | None = None


class OrderLineItemProvisioningStatus(Wire, kw_only=True):
    order_line_item_id: int | None = None
    line_item_number: int | None = None
    status: str | None = None
    quantity_provisioning_information: list[QuantityProvisioningStatus] | None = None


class SubscriptionLinks(Wire, kw_only=True):
    offer: Link | None = None
    product: Link | None = None
    sku: Link | None = None
    availability: Link | None = None
    entitlement: Link | None = None
    parent: Link | None = None
    self: Link | None = None


class Subscription(Wire, kw_only=True):
    id: str | None = None
    entitlement_id: str | None = None
    offer_id: str | None = None
    offer_name: str | None = None
    friendly_name: str | None = None
    quantity: int | None = None
    unit_type: str | None = None
    parent_subscription_id: str | None = None
    creation_date: str | None = None
    effective_start_date: str | None = None
    commitment_end_date: str | None = None
    status: str | None = None
    auto_renew_enabled: bool | None = None
    billing_type: str | None = None
    billing_cycle: BillingCycle | None = None
    term_duration: str | None = None
    contract_type: str | None = None
    order_id: str | None = None
    links: SubscriptionLinks | None = None
    attributes: Attributes | None = None


class ItemType(Wire, kw_only=True):
    id: str | None = None
    display_name: str | None = None
    sub_type: ItemType | None = None


class ProductLinks(Wire, kw_only=True):
    skus: Link | None = None
    self: Link | None = None


class Product(Wire, kw_only=True):
    id: str
    title: str | None = None
    description: str | None = None
    product_type: ItemType | None = None
    is_microsoft_product: bool | None = None
    publisher_name: str | None = None
    links: ProductLinks | None = None
    attributes: Attributes | None = None


class SkuLinks(Wire, kw_only=True):
    availabilities: Link | None = None
    self: Link | None = None


class Sku(Wire, kw_only=True):
    id: str
    product_id: str | None = None
    title: str | None = None
    description: str | None = None
    minimum_quantity: int | None = None
    maximum_quantity: int | None = None
    is_trial: bool | None = None
    terms_of_use_uri: str | None = None
    supported_billing_cycles: list[BillingCycle] | None = None
    purchase_prerequisites: list[str] | None = None
    inventory_variables: list[str] | None = None
    provisioning_variables: list[str] | None = None
    constraints: list[dict[str, Any]] | None = None
    dynamic_attributes: dict[str, Any] | None = None
    attestation_properties: dict[str, Any] | None = None
    consumption_type: str | None = None
    actions: list[str] | None = None
    links: SkuLinks | None = None
    attributes: Attributes | None = None


class Currency(Wire, kw_only=True):
    code: str | None = None
    symbol: str | None = None


class Term(Wire, kw_only=True):
    id: str | None = None
    duration: str | None = None
    description: str | None = None
    #: PascalCase plain text in the samples (``"Annual"``), unlike the enum elsewhere.
    billing_cycle: str | None = None
    renewal_options: list[dict[str, Any]] | None = None
    cancellation_policies: list[dict[str, Any]] | None = None


class Availability(Wire, kw_only=True):
    id: str
    product_id: str | None = None
    sku_id: str | None = None
    catalog_item_id: str | None = None
    default_currency: Currency | None = None
    segment: str | None = None
    country: str | None = None
    is_purchasable: bool | None = None
    is_renewable: bool | None = None
    terms: list[Term] | None = None
    links: SelfLinks | None = None
    attributes: Attributes | None = None
