"""Product, Sku and Availability as the catalog routes send them (reference §3.12).

``terms[].billingCycle`` is a PascalCase plain string on the wire (``"Annual"``), unlike the
snake-case :class:`~partnercart.schema.cart.BillingCycle` used everywhere else.
"""

from __future__ import annotations

from typing import Any

import msgspec

from partnercart.schema.cart import BillingCycle
from partnercart.schema.common import Attributes, CollectionLinks, Link, Wire


class ItemType(Wire, kw_only=True):
    id: str
    display_name: str | None = None
    sub_type: ItemType | None = None


class RefundOption(Wire, kw_only=True):
    sequence_id: int | None = None
    type: str | None = None
    expires_after: str | None = None


class CancellationPolicy(Wire, kw_only=True):
    refund_options: list[RefundOption] = msgspec.field(default_factory=list)


class RenewalOption(Wire, kw_only=True):
    term_duration: str
    description: str | None = None


class Term(Wire, kw_only=True):
    id: str | None = None
    duration: str | None = None
    description: str | None = None
    billing_cycle: str
    renewal_options: list[RenewalOption] | None = None
    cancellation_policies: list[CancellationPolicy] | None = None


class DefaultCurrency(Wire, kw_only=True):
    code: str
    symbol: str


class AttestationProperties(Wire, kw_only=True):
    enforce_attestation: bool
    attestation_type: str | None = None


class Constraint(Wire, kw_only=True):
    constraint_name: str
    constraint_value: str | None = None
    constraint_type: str | None = None


class ProductLinks(Wire, kw_only=True):
    skus: Link | None = None
    self: Link | None = None


class SkuLinks(Wire, kw_only=True):
    availabilities: Link | None = None
    self: Link | None = None


class AvailabilityLinks(Wire, kw_only=True):
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
    purchase_prerequisites: list[str] = msgspec.field(default_factory=list)
    inventory_variables: list[str] = msgspec.field(default_factory=list)
    provisioning_variables: list[str] = msgspec.field(default_factory=list)
    constraints: list[Constraint] | None = None
    dynamic_attributes: dict[str, Any] | None = None
    attestation_properties: AttestationProperties | None = None
    consumption_type: str | None = None
    minimum_purchase_commitment: dict[str, Any] | None = None
    actions: list[str] | None = None
    links: SkuLinks | None = None
    attributes: Attributes | None = None


class Availability(Wire, kw_only=True):
    id: str
    product_id: str | None = None
    sku_id: str | None = None
    catalog_item_id: str | None = None
    default_currency: DefaultCurrency | None = None
    segment: str | None = None
    country: str | None = None
    is_purchasable: bool | None = None
    is_renewable: bool | None = None
    #: always on the wire, ``[]`` for an availability without terms (perpetual software).
    terms: list[Term] | None = None
    links: AvailabilityLinks | None = None
    attributes: Attributes | None = None


class ProductCollection(Wire, kw_only=True):
    total_count: int
    items: list[Product]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None


class SkuCollection(Wire, kw_only=True):
    total_count: int
    items: list[Sku]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None


class AvailabilityCollection(Wire, kw_only=True):
    total_count: int
    items: list[Availability]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None
