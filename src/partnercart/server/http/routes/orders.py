"""``/v1/customers/{customer_id}/carts/{cart_id}/checkout``, ``…/orders`` and
``…/subscriptions``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema import codec
from partnercart.schema.cart import BillingCycle
from partnercart.schema.common import Attributes, CollectionLinks, link
from partnercart.schema.normalize import enum_key
from partnercart.schema.order import (
    CartCheckoutResult,
    Order,
    OrderCollection,
    ProvisioningStatusCollection,
    SubscriptionCollection,
)
from partnercart.schema.xmlsafe import parse_tree
from partnercart.server.domain.errors import BadRequest
from partnercart.server.http import media
from partnercart.server.http.auth import authenticate
from partnercart.server.http.calls import call, write
from partnercart.server.http.query import query_param
from partnercart.server.services import checkout, orders

_CYCLES = {enum_key(c.value): c for c in BillingCycle} | {enum_key(c.name): c for c in BillingCycle}


def _as_bytes(body: bytes) -> bytes:
    return body


def include_price(request: Request) -> bool:
    """``include_price=True|False`` in any casing (the .NET SDK sends ``True``/``False``)."""
    raw = query_param(request, "include_price")
    if raw is None or raw.strip() == "":
        return False
    text = raw.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise BadRequest(
        f"include_price must be True or False, not {raw!r}.", code=900126, data=["include_price"]
    )


def billing_type(request: Request) -> BillingCycle | None:
    """``billingType`` in any spelling: ``OneTime``, ``onetime``, ``one_time``, ``Monthly``, or
    the enum's number."""
    raw = query_param(request, "billingType")
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    members = list(BillingCycle)
    if text.isascii() and text.isdigit() and int(text) < len(members):
        return members[int(text)]
    found = _CYCLES.get(enum_key(text))
    if found is None:
        raise BadRequest(f"Unable to parse enum: {raw}.", code=900126, data=["billingType"])
    return found


_NO_BODY = 'Checkout takes no body: send none, or the string "success".'


def _xml_string(data: bytes, charset: str | None) -> str:
    """The string an XML checkout body holds: what a DataContract serializer writes for one
    (``<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">success</string>``)."""
    root = parse_tree(data, charset=charset)
    tag = root.tag.rsplit("}", 1)[-1]
    if tag.lower() != "string" or len(root):
        raise BadRequest(f"{_NO_BODY} In XML: <string>success</string>.", data=["$"])
    return root.text or ""


async def checkout_cart(request: Request) -> Response:
    """The body is optional: none, empty, or a string (the .NET and Java SDKs send
    ``"success"``), as JSON or as XML's ``<string>``; ``null`` and ``{}`` are accepted too."""
    actor = authenticate(request)
    media.negotiate(request)
    data = await media.read_body(request)
    if data.strip():
        media_type, charset = media.content_type(request)
        if media_type in media.XML_TYPES:
            _xml_string(data, charset)
        else:
            value = codec.parse_json(data)
            if not (value is None or isinstance(value, str) or value == {}):
                raise BadRequest(f'{_NO_BODY} In JSON: "success".', data=["$"])
    done = await write(
        request,
        checkout.checkout_cart,
        actor=actor,
        status=201,
        body_of=_as_bytes,
        customer_id=request.path_params["customer_id"],
        cart_id=request.path_params["cart_id"],
    )
    return media.render(
        request, done.status, done.body, headers=done.headers, type_=CartCheckoutResult
    )


async def get_order(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    order = await call(
        request,
        orders.get_order,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        order_id=request.path_params["order_id"],
        include_price=include_price(request),
    )
    return media.render(request, 200, order)


async def list_orders(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    found = await call(
        request,
        orders.list_orders,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        billing_cycle=billing_type(request),
        include_price=include_price(request),
    )
    collection = OrderCollection(
        total_count=len(found.orders),
        items=found.orders,
        links=CollectionLinks(self=link(f"/customers/{found.customer.id}/orders")),
        attributes=Attributes(object_type="Collection"),
    )
    return media.render(request, 200, collection)


async def provisioning_status(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    items = await call(
        request,
        orders.provisioning_status,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        order_id=request.path_params["order_id"],
    )
    collection = ProvisioningStatusCollection(
        total_count=len(items), items=items, attributes=Attributes(object_type="Collection")
    )
    return media.render(request, 200, collection)


async def patch_order(request: Request) -> Response:
    actor = authenticate(request)
    body = await media.parse_body(request, Order)
    done = await write(
        request,
        orders.patch_order,
        actor=actor,
        status=200,
        body_of=codec.encode,
        customer_id=request.path_params["customer_id"],
        order_id=request.path_params["order_id"],
        request=body,
    )
    return media.render(request, done.status, done.body, headers=done.headers, type_=Order)


async def list_subscriptions(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    order_id = query_param(request, "order_id") or None
    customer_id = request.path_params["customer_id"]
    items = await call(
        request,
        orders.list_subscriptions,
        write=False,
        actor=actor,
        customer_id=customer_id,
        order_id=order_id,
    )
    uri = f"/customers/{customer_id.lower()}/subscriptions"
    collection = SubscriptionCollection(
        total_count=len(items),
        items=items,
        links=CollectionLinks(self=link(uri if order_id is None else f"{uri}?order_id={order_id}")),
        attributes=Attributes(object_type="Collection"),
    )
    return media.render(request, 200, collection)


async def get_subscription(request: Request) -> Response:
    actor = authenticate(request)
    media.negotiate(request)
    subscription = await call(
        request,
        orders.get_subscription,
        write=False,
        actor=actor,
        customer_id=request.path_params["customer_id"],
        subscription_id=request.path_params["subscription_id"],
    )
    return media.render(request, 200, subscription)


_CUSTOMER = "/v1/customers/{customer_id}"
_ORDER = _CUSTOMER + "/orders/{order_id}"
ROUTES = [
    Route(_CUSTOMER + "/carts/{cart_id}/checkout", checkout_cart, methods=["POST"]),
    Route(_CUSTOMER + "/orders", list_orders, methods=["GET"]),
    Route(_ORDER, get_order, methods=["GET"]),
    Route(_ORDER, patch_order, methods=["PATCH"]),
    Route(_ORDER + "/provisioningstatus", provisioning_status, methods=["GET"]),
    Route(_CUSTOMER + "/subscriptions", list_subscriptions, methods=["GET"]),
    Route(_CUSTOMER + "/subscriptions/{subscription_id}", get_subscription, methods=["GET"]),
]
