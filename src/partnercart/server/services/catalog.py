"""Catalog use cases: browse products, SKUs and availabilities for a market.

The partner catalog reads only the in-memory catalog, so it needs no unit of work; the
customer-scoped catalog first loads the customer (ownership, country) in one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from partnercart.schema.catalog import (
    Availability,
    AvailabilityCollection,
    Product,
    ProductCollection,
    Sku,
    SkuCollection,
)
from partnercart.server.catalog import Catalog, render
from partnercart.server.catalog.files import AvailabilityEntry, ProductEntry, SkuEntry
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import (
    BadRequest,
    availability_not_found,
    product_not_found,
    sku_not_found,
)
from partnercart.server.services.context import Context, owned_customer

TARGET_VIEWS = (
    "Azure",
    "AzureReservations",
    "AzureReservationsVM",
    "AzureReservationsSQL",
    "AzureReservationsCosmosDb",
    "MicrosoftAzure",
    "OnlineServices",
    "Software",
    "SoftwareSUSELinux",
    "SoftwarePerpetual",
    "SoftwareSubscriptions",
    "SpecializedOffers",
    "MarketplaceSaaS",
)
R = TypeVar("R")
SEGMENTS = ("commercial", "education", "government", "nonprofit")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True, slots=True)
class Market:
    """Where a catalog request looks: the country, and the path prefix of the links."""

    country: str
    base: str = ""

    def uri(self, path: str, **query: str | None) -> str:
        """A link to ``path`` here: ``?country=`` on the partner catalog, then the query
        parameters given (those that are not ``None``), so a filtered list links to itself."""
        params = [] if self.base else [("country", self.country)]
        params += [(name, value) for name, value in query.items() if value is not None]
        text = "&".join(f"{name}={value}" for name, value in params)
        return f"{self.base}{path}?{text}" if text else f"{self.base}{path}"


def market(country: str | None) -> Market:
    """The partner catalog's market from the ``country`` query parameter; 400 if unusable."""
    if country is None or not country.strip():
        raise BadRequest("The country query parameter is required.", data=["country"])
    if not _COUNTRY.match(country.strip()):
        raise BadRequest(
            f"The country {country!r} is not a two-letter ISO 3166 code.", data=["country"]
        )
    return Market(country.strip().upper())


def customer_market(ctx: Context, *, actor: Actor, customer_id: str) -> Market:
    """The customer's market: its country, links under ``/customers/{id}``."""
    customer = owned_customer(ctx.uow, actor.partner_id, customer_id)
    return Market(customer.country.upper(), base=f"/customers/{customer.id}")


def target_view(value: str | None) -> str:
    if value is None or not value.strip():
        raise BadRequest("The targetView query parameter is required.", data=["targetView"])
    for known in TARGET_VIEWS:
        if known.lower() == value.strip().lower():
            return known
    raise BadRequest(
        f"The targetView {value!r} is not supported; use one of {', '.join(TARGET_VIEWS)}.",
        data=["targetView"],
    )


def target_segment(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if value.strip().lower() not in SEGMENTS:
        raise BadRequest(
            f"The targetSegment {value!r} is not supported; use one of {', '.join(SEGMENTS)}.",
            data=["targetSegment"],
        )
    return value.strip().lower()


def _product(catalog: Catalog, where: Market, product_id: str) -> ProductEntry:
    found = catalog.product_in(product_id, where.country)
    if found is None:
        raise product_not_found(product_id, where.country)
    return found


def _sku(
    catalog: Catalog, where: Market, product_id: str, sku_id: str
) -> tuple[ProductEntry, SkuEntry]:
    product = _product(catalog, where, product_id)
    for sku in catalog.skus_in(product, where.country):
        if sku.id.upper() == sku_id.upper():
            return product, sku
    raise sku_not_found(product_id, sku_id, where.country)


def list_products(
    catalog: Catalog, *, where: Market, view: str, segment: str | None = None
) -> ProductCollection:
    items = [
        render.product(p, where.country, where.base)
        for p in catalog.products_in(where.country)
        if view in p.target_views and catalog.skus_in(p, where.country, segment)
    ]
    # targetView comes first, then the country, as these links always were.
    uri = f"{where.base}/products?targetView={view}"
    if not where.base:
        uri += f"&country={where.country}"
    if segment is not None:
        uri += f"&targetSegment={segment}"
    return render.products(items, uri)


def get_product(catalog: Catalog, *, where: Market, product_id: str) -> Product:
    return render.product(_product(catalog, where, product_id), where.country, where.base)


def list_skus(
    catalog: Catalog, *, where: Market, product_id: str, segment: str | None = None
) -> SkuCollection:
    product = _product(catalog, where, product_id)
    items = [
        render.sku(product, s, where.country, where.base)
        for s in catalog.skus_in(product, where.country, segment)
    ]
    return render.skus(items, where.uri(f"/products/{product.id}/skus", targetSegment=segment))


def get_sku(catalog: Catalog, *, where: Market, product_id: str, sku_id: str) -> Sku:
    product, sku = _sku(catalog, where, product_id, sku_id)
    return render.sku(product, sku, where.country, where.base)


def list_availabilities(
    catalog: Catalog,
    *,
    where: Market,
    product_id: str,
    sku_id: str,
    segment: str | None = None,
) -> AvailabilityCollection:
    product, sku = _sku(catalog, where, product_id, sku_id)
    items = [
        render.availability(product, sku, a, where.country, where.base)
        for a in catalog.availabilities_in(sku, where.country, segment)
    ]
    return render.availabilities(
        items,
        where.uri(f"/products/{product.id}/skus/{sku.id}/availabilities", targetSegment=segment),
    )


def get_availability(
    catalog: Catalog, *, where: Market, product_id: str, sku_id: str, availability_id: str
) -> Availability:
    product, sku = _sku(catalog, where, product_id, sku_id)
    found: AvailabilityEntry | None = next(
        (
            a
            for a in catalog.availabilities_in(sku, where.country)
            if a.id.upper() == availability_id.upper()
        ),
        None,
    )
    if found is None:
        raise availability_not_found(availability_id, sku.id, where.country)
    return render.availability(product, sku, found, where.country, where.base)


def customer_catalog(
    ctx: Context, *, actor: Actor, customer_id: str, browse: Callable[..., R], **kwargs: Any
) -> R:
    """Run one of the browse functions above in the customer's market."""
    where = customer_market(ctx, actor=actor, customer_id=customer_id)
    return browse(ctx.catalog, where=where, **kwargs)
