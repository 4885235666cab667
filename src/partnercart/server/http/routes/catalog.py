"""``/v1/products…`` and ``/v1/customers/{customer_id}/products…``: the catalog, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.server.domain.carts import Actor
from partnercart.server.http import media
from partnercart.server.http.auth import authenticate
from partnercart.server.http.calls import call, runtime_of
from partnercart.server.http.query import query_param
from partnercart.server.services import catalog


async def _browse(
    request: Request, actor: Actor, browse: Callable[..., Any], **kwargs: Any
) -> Response:
    media.negotiate(request)
    customer_id = request.path_params.get("customer_id")
    if customer_id is None:
        where = catalog.market(query_param(request, "country"))
        body = browse(runtime_of(request).services.catalog, where=where, **kwargs)
    else:
        body = await call(
            request,
            catalog.customer_catalog,
            write=False,
            actor=actor,
            customer_id=customer_id,
            browse=browse,
            **kwargs,
        )
    return media.render(request, 200, body)


async def list_products(request: Request) -> Response:
    actor = authenticate(request)
    view = catalog.target_view(query_param(request, "targetView"))
    segment = catalog.target_segment(query_param(request, "targetSegment"))
    return await _browse(request, actor, catalog.list_products, view=view, segment=segment)


async def get_product(request: Request) -> Response:
    actor = authenticate(request)
    return await _browse(
        request, actor, catalog.get_product, product_id=request.path_params["product_id"]
    )


async def list_skus(request: Request) -> Response:
    actor = authenticate(request)
    segment = catalog.target_segment(query_param(request, "targetSegment"))
    return await _browse(
        request,
        actor,
        catalog.list_skus,
        product_id=request.path_params["product_id"],
        segment=segment,
    )


async def get_sku(request: Request) -> Response:
    actor = authenticate(request)
    return await _browse(
        request,
        actor,
        catalog.get_sku,
        product_id=request.path_params["product_id"],
        sku_id=request.path_params["sku_id"],
    )


async def list_availabilities(request: Request) -> Response:
    actor = authenticate(request)
    segment = catalog.target_segment(query_param(request, "targetSegment"))
    return await _browse(
        request,
        actor,
        catalog.list_availabilities,
        product_id=request.path_params["product_id"],
        sku_id=request.path_params["sku_id"],
        segment=segment,
    )


async def get_availability(request: Request) -> Response:
    actor = authenticate(request)
    return await _browse(
        request,
        actor,
        catalog.get_availability,
        product_id=request.path_params["product_id"],
        sku_id=request.path_params["sku_id"],
        availability_id=request.path_params["availability_id"],
    )


_PATHS = [
    ("/products", list_products),
    ("/products/{product_id}", get_product),
    ("/products/{product_id}/skus", list_skus),
    ("/products/{product_id}/skus/{sku_id}", get_sku),
    ("/products/{product_id}/skus/{sku_id}/availabilities", list_availabilities),
    ("/products/{product_id}/skus/{sku_id}/availabilities/{availability_id}", get_availability),
]

ROUTES = [
    *(Route(f"/v1{path}", handler, methods=["GET"]) for path, handler in _PATHS),
    *(
        Route(f"/v1/customers/{{customer_id}}{path}", handler, methods=["GET"])
        for path, handler in _PATHS
    ),
]
