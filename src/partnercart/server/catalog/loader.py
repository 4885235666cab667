"""Reading catalog files: the default one shipped in the package and the user's own."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import msgspec

from partnercart.server.catalog.files import CatalogFile, LegacyOffer, ProductEntry
from partnercart.server.catalog.index import Catalog, term_cycle

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DURATION = re.compile(r"^P\d+[DWMY]$")


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and the place."""


def _check_product(product: ProductEntry, where: str) -> ProductEntry:
    place = f"{where}: product {product.id!r}"
    if not _ID.match(product.id):
        raise CatalogError(f"{place}: a product id is letters and digits without ':'")
    sku_ids: set[str] = set()
    for sku in product.skus:
        here = f"{place}, sku {sku.id!r}"
        if not _ID.match(sku.id):
            raise CatalogError(f"{here}: a SKU id is letters and digits without ':'")
        if sku.id.upper() in sku_ids:
            raise CatalogError(f"{here}: the SKU id appears twice")
        sku_ids.add(sku.id.upper())
        if not 0 <= sku.minimum_quantity <= sku.maximum_quantity:
            raise CatalogError(f"{here}: need 0 <= minimumQuantity <= maximumQuantity")
        availability_ids: set[str] = set()
        for availability in sku.availabilities:
            there = f"{here}, availability {availability.id!r}"
            if not _ID.match(availability.id):
                raise CatalogError(f"{there}: an availability id is letters and digits")
            if availability.id.upper() in availability_ids:
                raise CatalogError(f"{there}: the availability id appears twice")
            availability_ids.add(availability.id.upper())
            availability.countries = [c.upper() for c in availability.countries]
            for country in availability.countries:
                if not _COUNTRY.match(country):
                    raise CatalogError(f"{there}: {country!r} is not a two-letter country code")
            for term in availability.terms:
                if term_cycle(term.billing_cycle) is None:
                    raise CatalogError(
                        f"{there}: term billingCycle {term.billing_cycle!r} is not a known cycle"
                    )
                if term.duration is not None and not _DURATION.match(term.duration):
                    raise CatalogError(f"{there}: term duration {term.duration!r} is not P<n>M/Y")
                if term_cycle(term.billing_cycle) not in sku.supported_billing_cycles:
                    raise CatalogError(
                        f"{there}: term billingCycle {term.billing_cycle!r} is not in the SKU's "
                        "supportedBillingCycles"
                    )
    return product


def _read(source: bytes, where: str) -> CatalogFile:
    try:
        return msgspec.json.decode(source, type=CatalogFile)
    except msgspec.DecodeError as exc:
        raise CatalogError(f"{where}: {exc}") from None


def parse_catalog_file(source: bytes, where: str = "<catalog>") -> CatalogFile:
    """One catalog file, decoded and checked."""
    document = _read(source, where)
    seen: set[str] = set()
    for product in document.products:
        if product.id.upper() in seen:
            raise CatalogError(f"{where}: product {product.id!r} appears twice")
        seen.add(product.id.upper())
        _check_product(product, where)
    legacy: set[str] = set()
    for offer in document.legacy_offers:
        if offer.id.upper() in legacy:
            raise CatalogError(f"{where}: legacy offer {offer.id!r} appears twice")
        if ":" in offer.id:
            raise CatalogError(f"{where}: legacy offer {offer.id!r} must not contain ':'")
        legacy.add(offer.id.upper())
    return document


@functools.cache
def _default_document() -> CatalogFile:
    data = resources.files("partnercart.server.catalog").joinpath("data/default.json")
    return parse_catalog_file(data.read_bytes(), "default catalog")


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package (read once; a catalog never changes)."""
    return load_catalog(())


def load_catalog(paths: Sequence[Path] = (), *, replace: bool = False) -> Catalog:
    """The default catalog with ``paths`` laid over it, in order, or (``replace``) only them.

    A product or legacy offer in a later file replaces the one with the same id, whole (with
    all its SKUs and availabilities); everything else is kept.
    """
    if replace and not paths:
        raise CatalogError("replacing the default catalog needs at least one catalog file")
    products: dict[str, ProductEntry] = {}
    legacy: dict[str, LegacyOffer] = {}
    documents: list[CatalogFile] = [] if replace else [_default_document()]
    for path in paths:
        try:
            source = Path(path).read_bytes()
        except OSError as exc:
            raise CatalogError(f"{path}: cannot read the catalog file ({exc.strerror})") from None
        documents.append(parse_catalog_file(source, str(path)))
    for document in documents:
        for product in document.products:
            products[product.id.upper()] = product
        for offer in document.legacy_offers:
            legacy[offer.id.upper()] = offer
    return Catalog.build(products.values(), legacy.values())
