"""The in-memory catalog: products, SKUs and availabilities indexed by id and by country.

Built once from the catalog files and never changed afterwards, so one instance is shared by
every request. Ids are matched case-insensitively (Partner Center ids are upper case).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from partnercart.schema.cart import BillingCycle
from partnercart.schema.catalog import Term
from partnercart.server.catalog.files import (
    AvailabilityEntry,
    LegacyOffer,
    PriceEntry,
    ProductEntry,
    SkuEntry,
)

_CYCLES = {c.value.replace("_", ""): c for c in BillingCycle}


def term_cycle(text: str | None) -> BillingCycle | None:
    """A term's billing cycle (``"Annual"``, ``"OneTime"``, ``"one_time"``) as the enum."""
    if text is None:
        return None
    return _CYCLES.get(text.replace("_", "").replace(" ", "").lower())


def term_cycle_text(cycle: BillingCycle) -> str:
    """The PascalCase text terms carry on the wire: ``one_time`` -> ``OneTime``."""
    return "".join(part.capitalize() for part in cycle.value.split("_"))


@dataclass(frozen=True, slots=True)
class Offer:
    """One availability of one SKU of one product: what a catalog item id names."""

    product: ProductEntry
    sku: SkuEntry
    availability: AvailabilityEntry
    #: The availability's terms by ``(duration, cycle)``, the first of each kept, made from
    #: ``availability`` when the offer is: validation looks one up for every line.
    terms: Mapping[tuple[str | None, BillingCycle | None], Term] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        terms: dict[tuple[str | None, BillingCycle | None], Term] = {}
        for term in self.availability.terms:
            terms.setdefault((term.duration or None, term_cycle(term.billing_cycle)), term)
        object.__setattr__(self, "terms", MappingProxyType(terms))  # a frozen dataclass

    @property
    def catalog_item_id(self) -> str:
        return f"{self.product.id}:{self.sku.id}:{self.availability.id}"

    @property
    def is_addon(self) -> bool:
        return bool((self.sku.dynamic_attributes or {}).get("isAddon"))

    @property
    def prerequisite_skus(self) -> tuple[str, ...]:
        found = (self.sku.dynamic_attributes or {}).get("prerequisiteSkus") or ()
        return tuple(str(s).upper() for s in found)

    def sold_in(self, country: str) -> bool:
        return country.upper() in self.availability.countries

    def term(self, duration: str | None, cycle: BillingCycle | None) -> Term | None:
        """The availability's term for ``duration`` billed ``cycle``, if it offers one."""
        return self.terms.get((duration or None, cycle))

    def price(self, duration: str | None, cycle: BillingCycle | None) -> PriceEntry | None:
        for entry in self.availability.prices:
            if (entry.term_duration or None) == (duration or None) and entry.billing_cycle == cycle:
                return entry
        return None


@dataclass(frozen=True)
class Catalog:
    """Lookups over the loaded catalog; build one with :func:`Catalog.build`."""

    products: Mapping[str, ProductEntry]
    legacy_offers: Mapping[str, LegacyOffer]
    _offers: Mapping[str, Offer] = field(repr=False)
    _by_country: Mapping[str, tuple[str, ...]] = field(repr=False)

    @classmethod
    def build(
        cls, products: Iterable[ProductEntry], legacy_offers: Iterable[LegacyOffer] = ()
    ) -> Catalog:
        by_id = {p.id.upper(): p for p in products}
        offers: dict[str, Offer] = {}
        by_country: dict[str, list[str]] = {}
        for product in by_id.values():
            for sku in product.skus:
                for availability in sku.availabilities:
                    offer = Offer(product, sku, availability)
                    offers[offer.catalog_item_id.upper()] = offer
                    for country in availability.countries:
                        ids = by_country.setdefault(country.upper(), [])
                        if product.id.upper() not in ids:
                            ids.append(product.id.upper())
        return cls(
            products=MappingProxyType(by_id),
            legacy_offers=MappingProxyType({o.id.upper(): o for o in legacy_offers}),
            _offers=MappingProxyType(offers),
            _by_country=MappingProxyType({k: tuple(v) for k, v in by_country.items()}),
        )

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(self._by_country)

    def offer(self, catalog_item_id: str) -> Offer | None:
        """The offer a ``P:S:A`` id names, in any country."""
        return self._offers.get(catalog_item_id.strip().upper())

    def offers(self) -> Iterable[Offer]:
        return self._offers.values()

    def legacy_offer(self, offer_id: str) -> LegacyOffer | None:
        return self.legacy_offers.get(offer_id.strip().upper())

    def products_in(self, country: str) -> list[ProductEntry]:
        return [self.products[p] for p in self._by_country.get(country.upper(), ())]

    def product_in(self, product_id: str, country: str) -> ProductEntry | None:
        product = self.products.get(product_id.upper())
        if product is None or product.id.upper() not in self._by_country.get(country.upper(), ()):
            return None
        return product

    @staticmethod
    def skus_in(product: ProductEntry, country: str, segment: str | None = None) -> list[SkuEntry]:
        return [sku for sku in product.skus if Catalog.availabilities_in(sku, country, segment)]

    @staticmethod
    def availabilities_in(
        sku: SkuEntry, country: str, segment: str | None = None
    ) -> list[AvailabilityEntry]:
        code = country.upper()
        return [
            a
            for a in sku.availabilities
            if code in a.countries and (segment is None or a.segment.lower() == segment.lower())
        ]
