"""The Partner Center operations the server answers, one entry per route and method.

This table describes the routes in :mod:`partnercart.server.http.app` for the OpenAPI document
(:mod:`partnercart.server.http.openapi`): the wire models in and out, the success status and
the error statuses. A branch that adds a route adds one :class:`Operation` here; a test fails
while any ``/v1`` route in the app has no entry (or an entry names a route the app lacks).
"""

from __future__ import annotations

from dataclasses import dataclass

from partnercart.schema.cart import Cart
from partnercart.schema.catalog import (
    Availability,
    AvailabilityCollection,
    Product,
    ProductCollection,
    Sku,
    SkuCollection,
)
from partnercart.schema.customer import Customer, CustomerCollection
from partnercart.schema.order import (
    CartCheckoutResult,
    Order,
    OrderCollection,
    ProvisioningStatusCollection,
    Subscription,
    SubscriptionCollection,
)

#: Errors every authenticated operation can answer.
COMMON_ERRORS = (400, 401, 403, 404, 406, 429)
#: Errors an operation with a request body can answer as well (409: the same MS-RequestId is
#: still running; 422: the same MS-RequestId was used for a different request).
BODY_ERRORS = (409, 413, 415, 422)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    status: int
    response: type
    request: type | None = None
    #: The request body may be left out (e.g. checkout, where the .NET SDK sends "success").
    body_optional: bool = False
    description: str = ""
    extra_errors: tuple[int, ...] = ()
    #: Request headers beyond the tracing headers (names of OpenAPI header parameters).
    request_headers: tuple[str, ...] = ()
    #: Response headers on success (e.g. ``ETag``).
    response_headers: tuple[str, ...] = ()
    #: Query parameters (name, description); optional unless named in ``required_query``.
    query: tuple[tuple[str, str], ...] = ()
    #: The query parameters the operation refuses to go without (400).
    required_query: tuple[str, ...] = ()
    #: The body, when one is sent, is a string (checkout's ``"success"``), not a model.
    string_body: bool = False
    #: Fields of ``request`` that this operation requires though its model does not (a
    #: customer's billing profile on create: the model is also the answer, which may omit it).
    request_required: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[int, ...]:
        codes = set(COMMON_ERRORS) | set(self.extra_errors)
        if self.request is not None or self.string_body:
            codes |= set(BODY_ERRORS)
        return tuple(sorted(codes))


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/v1/customers",
        "createCustomer",
        "Create a customer of the calling partner",
        "customers",
        201,
        Customer,
        request=Customer,
        request_required=("billingProfile",),
    ),
    Operation(
        "GET",
        "/v1/customers",
        "listCustomers",
        "List the calling partner's customers",
        "customers",
        200,
        CustomerCollection,
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}",
        "getCustomer",
        "Get a customer by id",
        "customers",
        200,
        Customer,
    ),
    Operation(
        "POST",
        "/v1/customers/{customer_id}/carts",
        "createCart",
        "Create a cart",
        "carts",
        201,
        Cart,
        request=Cart,
        description="Line validation problems are reported in lineItems[].error, not as 400.",
        response_headers=("ETag",),
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/carts/{cart_id}",
        "getCart",
        "Get a cart by id",
        "carts",
        200,
        Cart,
        response_headers=("ETag",),
    ),
    Operation(
        "PUT",
        "/v1/customers/{customer_id}/carts/{cart_id}",
        "updateCart",
        "Replace a cart (the whole cart is sent)",
        "carts",
        201,
        Cart,
        request=Cart,
        description="Answers 201 Created, as the published update-a-cart sample does. With "
        "If-Match (or attributes.etag in the body) the cart must still have that ETag (412).",
        extra_errors=(412,),
        request_headers=("If-Match",),
        response_headers=("ETag",),
    ),
    Operation(
        "POST",
        "/v1/customers/{customer_id}/carts/{cart_id}/checkout",
        "checkoutCart",
        "Check a cart out into orders (one per order group)",
        "carts",
        201,
        CartCheckoutResult,
        body_optional=True,
        string_body=True,
        description='No body, an empty body, or the string "success" (JSON "success", or XML '
        '<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">success</string>). '
        "Checking out again answers the first result; a cart with line errors is 400 (800009).",
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/orders",
        "listOrders",
        "List a customer's orders",
        "orders",
        200,
        OrderCollection,
        query=(
            ("billingType", "Only orders of this billing cycle (any casing: onetime, OneTime)."),
            ("include_price", "True to include pricing."),
        ),
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/orders/{order_id}",
        "getOrder",
        "Get an order by id",
        "orders",
        200,
        Order,
        query=(("include_price", "True to include pricing."),),
    ),
    Operation(
        "PATCH",
        "/v1/customers/{customer_id}/orders/{order_id}",
        "patchOrder",
        "Cancel an order, or some of its lines",
        "orders",
        200,
        Order,
        request=Order,
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/orders/{order_id}/provisioningstatus",
        "getOrderProvisioningStatus",
        "Provisioning status of an order's lines",
        "orders",
        200,
        ProvisioningStatusCollection,
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/subscriptions",
        "listSubscriptions",
        "List a customer's subscriptions",
        "subscriptions",
        200,
        SubscriptionCollection,
        query=(("order_id", "Only the subscriptions made by this order."),),
    ),
    Operation(
        "GET",
        "/v1/customers/{customer_id}/subscriptions/{subscription_id}",
        "getSubscription",
        "Get a subscription by id",
        "subscriptions",
        200,
        Subscription,
    ),
    *(
        Operation(
            "GET",
            f"{prefix}{path}",
            f"{name}{suffix}",
            f"{summary}{scope}",
            "catalog",
            200,
            response,
            query=query if not prefix.endswith("}") else query[1:],
            # The customer's routes take the country from the customer.
            required_query=tuple(
                name for name in required if name != "country" or not prefix.endswith("}")
            ),
        )
        for prefix, suffix, scope in (
            ("/v1", "", ""),
            ("/v1/customers/{customer_id}", "ForCustomer", " (the customer's country)"),
        )
        for path, name, summary, response, query, required in (
            (
                "/products",
                "listProducts",
                "List products",
                ProductCollection,
                (
                    ("country", "Two-letter country code."),
                    ("targetView", "The catalog view, e.g. OnlineServices."),
                    ("targetSegment", "commercial, education, government or nonprofit."),
                ),
                ("country", "targetView"),
            ),
            (
                "/products/{product_id}",
                "getProduct",
                "Get a product",
                Product,
                (("country", "Two-letter country code."),),
                ("country",),
            ),
            (
                "/products/{product_id}/skus",
                "listSkus",
                "List a product's SKUs",
                SkuCollection,
                (
                    ("country", "Two-letter country code."),
                    ("targetSegment", "commercial, education, government or nonprofit."),
                ),
                ("country",),
            ),
            (
                "/products/{product_id}/skus/{sku_id}",
                "getSku",
                "Get a SKU",
                Sku,
                (("country", "Two-letter country code."),),
                ("country",),
            ),
            (
                "/products/{product_id}/skus/{sku_id}/availabilities",
                "listAvailabilities",
                "List a SKU's availabilities",
                AvailabilityCollection,
                (
                    ("country", "Two-letter country code."),
                    ("targetSegment", "commercial, education, government or nonprofit."),
                ),
                ("country",),
            ),
            (
                "/products/{product_id}/skus/{sku_id}/availabilities/{availability_id}",
                "getAvailability",
                "Get an availability",
                Availability,
                (("country", "Two-letter country code."),),
                ("country",),
            ),
        )
    ),
)
