"""``/v1/customers/{customer_id}/carts``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema.cart import Cart
from partnercart.server.http import media
from partnercart.server.http.auth import authenticate
from partnercart.server.http.calls import call
from partnercart.server.services import carts


async def create_cart(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, Cart)
    record = await call(
        request,
        carts.create_cart,
        write=True,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        request=body,
    )
    return media.render(request, 201, record.body, type_=Cart)


async def get_cart(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    record = await call(
        request,
        carts.get_cart,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        cart_id=request.path_params["cart_id"],
    )
    return media.render(request, 200, record.body, type_=Cart)


async def update_cart(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, Cart)
    record = await call(
        request,
        carts.update_cart,
        write=True,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        cart_id=request.path_params["cart_id"],
        request=body,
    )
    # The published update-a-cart sample answers 201 Created.
    return media.render(request, 201, record.body, type_=Cart)


ROUTES = [
    Route("/v1/customers/{customer_id}/carts", create_cart, methods=["POST"]),
    Route("/v1/customers/{customer_id}/carts/{cart_id}", get_cart, methods=["GET"]),
    Route("/v1/customers/{customer_id}/carts/{cart_id}", update_cart, methods=["PUT"]),
]
