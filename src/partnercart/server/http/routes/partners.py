"""``/_partnercart/partners``: the partner tenants that own customers (admin key only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema.common import Attributes, CollectionLinks, link
from partnercart.schema.partners import PartnerCollection, PartnerSummary
from partnercart.server.http import media
from partnercart.server.http.admin import require_admin
from partnercart.server.http.calls import call
from partnercart.server.services import partners


async def list_partners(request: Request) -> Response:
    require_admin(request)
    media.negotiate(request)
    rows = await call(request, partners.list_partners, write=False)
    items = [
        PartnerSummary(
            id=partner_id,
            customer_count=count,
            attributes=Attributes(object_type="Partner"),
        )
        for partner_id, count in rows
    ]
    collection = PartnerCollection(
        total_count=len(items),
        items=items,
        links=CollectionLinks(self=link("/_partnercart/partners")),
        attributes=Attributes(object_type="Collection"),
    )
    return media.render(request, 200, collection)


ROUTES = [Route("/_partnercart/partners", list_partners, methods=["GET"])]
