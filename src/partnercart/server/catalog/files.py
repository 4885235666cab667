"""The catalog file format: products with their SKUs and availabilities nested, plus the
prices, promotions and legacy offers that the wire models do not carry.

A file is strict (unknown keys are errors) so a typo in a user's catalog is reported rather
than silently ignored. README.md documents the format; ``docs/decisions.md`` the choices.
"""

from __future__ import annotations

from typing import Any

import msgspec

from partnercart.schema.cart import BillingCycle
from partnercart.schema.catalog import AttestationProperties, Constraint, ItemType, Term


class _Entry(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    pass


class PriceEntry(_Entry, kw_only=True):
    """The list price of one unit for one billing period, per currency code."""

    term_duration: str | None = None
    billing_cycle: BillingCycle
    list_price: dict[str, float]


class PromotionEntry(_Entry, kw_only=True):
    id: str
    #: the term durations the promotion applies to; absent means every term.
    term_durations: list[str] | None = None


class AvailabilityEntry(_Entry, kw_only=True):
    id: str
    segment: str = "commercial"
    countries: list[str]
    is_purchasable: bool = True
    is_renewable: bool = True
    terms: list[Term] = msgspec.field(default_factory=list)
    prices: list[PriceEntry] = msgspec.field(default_factory=list)
    promotions: list[PromotionEntry] = msgspec.field(default_factory=list)


class SkuEntry(_Entry, kw_only=True):
    id: str
    title: str
    description: str | None = None
    minimum_quantity: int = 1
    maximum_quantity: int = 300
    is_trial: bool = False
    terms_of_use_uri: str | None = None
    supported_billing_cycles: list[BillingCycle]
    purchase_prerequisites: list[str] = msgspec.field(default_factory=list)
    inventory_variables: list[str] = msgspec.field(default_factory=list)
    provisioning_variables: list[str] = msgspec.field(default_factory=list)
    constraints: list[Constraint] | None = None
    dynamic_attributes: dict[str, Any] | None = None
    attestation_properties: AttestationProperties | None = None
    consumption_type: str | None = None
    minimum_purchase_commitment: dict[str, Any] | None = None
    actions: list[str] | None = None
    availabilities: list[AvailabilityEntry]


class ProductEntry(_Entry, kw_only=True):
    id: str
    title: str
    description: str | None = None
    product_type: ItemType
    is_microsoft_product: bool = True
    publisher_name: str | None = "Microsoft Corporation"
    #: the ``targetView`` values under which ``GET /v1/products`` lists the product.
    target_views: list[str]
    skus: list[SkuEntry]


class LegacyOffer(_Entry, kw_only=True):
    """A legacy (OMS) offer: a GUID or ``MS-AZR-…`` id, bought without the modern catalog."""

    id: str
    name: str
    billing_cycles: list[BillingCycle]
    is_addon: bool = False
    minimum_quantity: int = 1
    maximum_quantity: int = 10000


class CatalogFile(_Entry, kw_only=True):
    #: documentation only; ignored by the loader.
    description: str | None = None
    version: int = 1
    products: list[ProductEntry] = msgspec.field(default_factory=list)
    legacy_offers: list[LegacyOffer] = msgspec.field(default_factory=list)
