"""Catalog entries as the wire models the catalog routes send, for one country.

``base`` is the path prefix of the links: ``""`` for the partner catalog
(``/products/…?country=US``, as in the published samples) or ``/customers/{id}`` for the
customer-scoped one.
"""

from __future__ import annotations

from partnercart.schema.catalog import (
    Availability,
    AvailabilityCollection,
    AvailabilityLinks,
    DefaultCurrency,
    Product,
    ProductCollection,
    ProductLinks,
    Sku,
    SkuCollection,
    SkuLinks,
)
from partnercart.schema.common import Attributes, CollectionLinks, link
from partnercart.server.catalog.files import AvailabilityEntry, ProductEntry, SkuEntry
from partnercart.server.domain.markets import currency_for


def _query(country: str, base: str) -> str:
    return "" if base else f"?country={country}"


def product_uri(product_id: str, country: str, base: str = "") -> str:
    return f"{base}/products/{product_id}{_query(country, base)}"


def sku_uri(product_id: str, sku_id: str, country: str, base: str = "") -> str:
    return f"{base}/products/{product_id}/skus/{sku_id}{_query(country, base)}"


def availability_uri(
    product_id: str, sku_id: str, availability_id: str, country: str, base: str = ""
) -> str:
    return (
        f"{base}/products/{product_id}/skus/{sku_id}/availabilities/{availability_id}"
        f"{_query(country, base)}"
    )


def product(entry: ProductEntry, country: str, base: str = "") -> Product:
    query = _query(country, base)
    return Product(
        id=entry.id,
        title=entry.title,
        description=entry.description,
        product_type=entry.product_type,
        is_microsoft_product=entry.is_microsoft_product,
        publisher_name=entry.publisher_name,
        links=ProductLinks(
            skus=link(f"{base}/products/{entry.id}/skus{query}"),
            self=link(product_uri(entry.id, country, base)),
        ),
        attributes=Attributes(object_type="Product"),
    )


def sku(product_entry: ProductEntry, entry: SkuEntry, country: str, base: str = "") -> Sku:
    query = _query(country, base)
    return Sku(
        id=entry.id,
        product_id=product_entry.id,
        title=entry.title,
        description=entry.description,
        minimum_quantity=entry.minimum_quantity,
        maximum_quantity=entry.maximum_quantity,
        is_trial=entry.is_trial,
        terms_of_use_uri=entry.terms_of_use_uri,
        supported_billing_cycles=list(entry.supported_billing_cycles),
        purchase_prerequisites=list(entry.purchase_prerequisites),
        inventory_variables=list(entry.inventory_variables),
        provisioning_variables=list(entry.provisioning_variables),
        constraints=entry.constraints,
        dynamic_attributes=entry.dynamic_attributes,
        attestation_properties=entry.attestation_properties,
        consumption_type=entry.consumption_type,
        minimum_purchase_commitment=entry.minimum_purchase_commitment,
        actions=entry.actions,
        links=SkuLinks(
            availabilities=link(
                f"{base}/products/{product_entry.id}/skus/{entry.id}/availabilities{query}"
            ),
            self=link(sku_uri(product_entry.id, entry.id, country, base)),
        ),
        attributes=Attributes(object_type="Sku"),
    )


def availability(
    product_entry: ProductEntry,
    sku_entry: SkuEntry,
    entry: AvailabilityEntry,
    country: str,
    base: str = "",
) -> Availability:
    currency = currency_for(country)
    return Availability(
        id=entry.id,
        product_id=product_entry.id,
        sku_id=sku_entry.id,
        catalog_item_id=f"{product_entry.id}:{sku_entry.id}:{entry.id}",
        default_currency=DefaultCurrency(code=currency.code, symbol=currency.symbol),
        segment=entry.segment,
        country=country.upper(),
        is_purchasable=entry.is_purchasable,
        is_renewable=entry.is_renewable,
        terms=list(entry.terms),
        links=AvailabilityLinks(
            self=link(availability_uri(product_entry.id, sku_entry.id, entry.id, country, base))
        ),
        attributes=Attributes(object_type="Availability"),
    )


def _collection_links(uri: str) -> CollectionLinks:
    return CollectionLinks(self=link(uri))


def products(items: list[Product], self_uri: str) -> ProductCollection:
    return ProductCollection(
        total_count=len(items),
        items=items,
        links=_collection_links(self_uri),
        attributes=Attributes(object_type="Collection"),
    )


def skus(items: list[Sku], self_uri: str) -> SkuCollection:
    return SkuCollection(
        total_count=len(items),
        items=items,
        links=_collection_links(self_uri),
        attributes=Attributes(object_type="Collection"),
    )


def availabilities(items: list[Availability], self_uri: str) -> AvailabilityCollection:
    return AvailabilityCollection(
        total_count=len(items),
        items=items,
        links=_collection_links(self_uri),
        attributes=Attributes(object_type="Collection"),
    )
