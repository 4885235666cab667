"""``/v1/customers/{customer_id}/carts``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema.cart import Cart
from partnercart.server.domain.carts import make_etag
from partnercart.server.domain.records import CartRecord
from partnercart.server.http import media
from partnercart.server.http.auth import authenticate
from partnercart.server.http.calls import read_cart, write
from partnercart.server.services import carts


def etag_header(record: CartRecord) -> dict[str, str]:
    return {"ETag": f'"{make_etag(record.id, record.version)}"'}


async def create_cart(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, Cart)
    done = await write(
        request,
        carts.create_cart,
        actor=actor,
        status=201,
        customer_id=request.path_params["customer_id"],
        request=body,
        headers_of=etag_header,
    )
    return media.render(request, done.status, done.body, type_=Cart, headers=done.headers)


async def get_cart(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    params = request.path_params
    record = await read_cart(
        request, actor=actor, customer_id=params["customer_id"], cart_id=params["cart_id"]
    )
    return media.render(request, 200, record.body, type_=Cart, headers=etag_header(record))


async def update_cart(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, Cart)
    done = await write(
        request,
        carts.update_cart,
        actor=actor,
        status=201,
        customer_id=request.path_params["customer_id"],
        cart_id=request.path_params["cart_id"],
        request=body,
        if_match=request.headers.get("if-match"),
        headers_of=etag_header,
    )
    # The published update-a-cart sample answers 201 Created.
    return media.render(request, done.status, done.body, type_=Cart, headers=done.headers)


ROUTES = [
    Route("/v1/customers/{customer_id}/carts", create_cart, methods=["POST"]),
    Route("/v1/customers/{customer_id}/carts/{cart_id}", get_cart, methods=["GET"]),
    Route("/v1/customers/{customer_id}/carts/{cart_id}", update_cart, methods=["PUT"]),
]
