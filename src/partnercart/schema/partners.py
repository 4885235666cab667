"""Control-plane views of partner tenants (admin only; not a Partner Center resource)."""

from __future__ import annotations

from partnercart.schema.common import Attributes, CollectionLinks, Wire


class PartnerSummary(Wire, kw_only=True):
    id: str
    customer_count: int
    attributes: Attributes | None = None


class PartnerCollection(Wire, kw_only=True):
    total_count: int
    items: list[PartnerSummary]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None
