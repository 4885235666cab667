"""``/v1/customers``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema.common import Attributes, CollectionLinks, link
from partnercart.schema.customer import Customer, CustomerCollection, NewCustomer
from partnercart.server.http import media
from partnercart.server.http.auth import authenticate
from partnercart.server.http.calls import call, write
from partnercart.server.services import customers


async def create_customer(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, NewCustomer)
    done = await write(request, customers.create_customer, actor=actor, status=201, request=body)
    return media.render(request, done.status, done.body, type_=Customer, headers=done.headers)


async def get_customer(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    record = await call(
        request,
        customers.get_customer,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
    )
    return media.render(request, 200, record.body, type_=Customer)


async def list_customers(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    records = await call(request, customers.list_customers, write=False, actor=actor)
    items = [r.document() for r in records]
    collection = CustomerCollection(
        total_count=len(items),
        items=items,
        links=CollectionLinks(self=link("/customers")),
        attributes=Attributes(object_type="Collection"),
    )
    return media.render(request, 200, collection)


ROUTES = [
    Route("/v1/customers", create_customer, methods=["POST"]),
    Route("/v1/customers", list_customers, methods=["GET"]),
    Route("/v1/customers/{customer_id}", get_customer, methods=["GET"]),
]
