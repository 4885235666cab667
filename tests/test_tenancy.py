"""Tenancy: partner B, holding partner A's exact ids, gets 403 (20002) on every customer-scoped
route and method, learns nothing it could not learn from a random id, and changes nothing.

The matrix is a table: a route added later (orders, checkout) is one more line in ``ROUTES``
(and, if it needs a new kind of id, one more entry in ``Tenancy.ids``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.conftest import Api


def cart_body() -> dict[str, Any]:
    return {
        "lineItems": [
            {
                "id": 0,
                "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
                "quantity": 2,
                "billingCycle": "Monthly",
                "termDuration": "P1M",
            }
        ]
    }


def other_cart_body() -> dict[str, Any]:
    body = cart_body()
    body["lineItems"][0]["quantity"] = 7
    return body


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # placeholders: {customer}, {cart}
    body: Callable[[], dict[str, Any]] | None = None


ROUTES: dict[str, Route] = {
    "get customer": Route("GET", "/v1/customers/{customer}"),
    "create cart": Route("POST", "/v1/customers/{customer}/carts", cart_body),
    "get cart": Route("GET", "/v1/customers/{customer}/carts/{cart}"),
    "update cart": Route("PUT", "/v1/customers/{customer}/carts/{cart}", other_cart_body),
    "checkout cart": Route("POST", "/v1/customers/{customer}/carts/{cart}/checkout"),
    "list orders": Route("GET", "/v1/customers/{customer}/orders"),
    "get order": Route("GET", "/v1/customers/{customer}/orders/{order}"),
    "order provisioning": Route(
        "GET", "/v1/customers/{customer}/orders/{order}/provisioningstatus"
    ),
    "cancel order": Route(
        "PATCH", "/v1/customers/{customer}/orders/{order}", lambda: {"status": "cancelled"}
    ),
    "subscriptions of order": Route(
        "GET", "/v1/customers/{customer}/subscriptions?order_id={order}"
    ),
    "list subscriptions": Route("GET", "/v1/customers/{customer}/subscriptions"),
    "get subscription": Route("GET", "/v1/customers/{customer}/subscriptions/{subscription}"),
    "customer catalog": Route("GET", "/v1/customers/{customer}/products?targetView=OnlineServices"),
}


@dataclass
class Tenancy:
    a: Api
    b: Api
    ids: dict[str, str]  # partner A's real ids by placeholder name

    def snapshot(self) -> dict[str, Any]:
        """Everything partner A can read, as A sees it."""
        ids = self.ids
        return {
            "customer": self.a.get(f"/v1/customers/{ids['customer']}").json(),
            "cart": self.a.get(f"/v1/customers/{ids['customer']}/carts/{ids['cart']}").json(),
            "customers": self.a.get("/v1/customers").json(),
            "order": self.a.get(f"/v1/customers/{ids['customer']}/orders/{ids['order']}").json(),
            "subscriptions": self.a.get(f"/v1/customers/{ids['customer']}/subscriptions").json(),
        }


SOFTWARE = {
    "lineItems": [
        {
            "catalogItemId": "DG7GMGF0DWM3:0002:DG7GMGF0DT1M",
            "quantity": 1,
            "billingCycle": "OneTime",
        }
    ]
}


@pytest.fixture
def tenancy(db_api: Api, clock: Any) -> Tenancy:
    a = db_api
    b = a.as_partner(str(uuid.uuid4()))
    customer = a.new_customer()
    created = a.post(f"/v1/customers/{customer}/carts", json=cart_body())
    assert created.status_code == 201, created.text
    # An order of perpetual software (so that the owner may cancel it), provisioned.
    bought = a.post(f"/v1/customers/{customer}/carts", json=SOFTWARE).json()["id"]
    checkout = a.post(f"/v1/customers/{customer}/carts/{bought}/checkout")
    assert checkout.status_code == 201, checkout.text
    order = checkout.json()["orders"][0]["id"]
    clock.advance(dt.timedelta(hours=1))
    subscriptions = a.get(f"/v1/customers/{customer}/subscriptions?order_id={order}").json()
    b.new_customer()  # B is a real partner with customers of its own
    ids = {"customer": customer, "cart": created.json()["id"], "order": order}
    ids["subscription"] = subscriptions["items"][0]["id"]
    return Tenancy(a=a, b=b, ids=ids)


def call(api: Api, route: Route, ids: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {}
    if route.body is not None:
        kwargs["json"] = route.body()
    return api.request(route.method, route.path.format(**ids), **kwargs)


def without(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "<id>").replace(value.upper(), "<id>")
    return text


@pytest.mark.parametrize("name", list(ROUTES))
def test_other_partner_gets_403_and_learns_nothing(tenancy: Tenancy, name: str) -> None:
    route = ROUTES[name]
    before = tenancy.snapshot()

    real = call(tenancy.b, route, tenancy.ids)
    assert real.status_code == 403, real.text
    body = real.json()
    assert body["code"] == 20002
    assert set(body) == {"code", "description", "data", "source"}
    assert tenancy.b.partner_id in body["description"]

    # The same answer for an id that exists (A's) and for one that does not (random):
    random_ids = {k: str(uuid.uuid4()) for k in tenancy.ids}
    probe = call(tenancy.b, route, random_ids)
    assert probe.status_code == real.status_code
    assert probe.headers["content-type"] == real.headers["content-type"]
    assert without(probe.text, *random_ids.values()) == without(real.text, *tenancy.ids.values())

    # ... and for A's ids written in upper case (no case-sensitivity way around the check).
    upper = call(tenancy.b, route, {k: v.upper() for k, v in tenancy.ids.items()})
    assert upper.status_code == 403
    assert upper.json()["code"] == 20002

    assert tenancy.snapshot() == before


@pytest.mark.parametrize("name", [n for n, r in ROUTES.items() if "{cart}" in r.path])
def test_other_partners_cart_under_own_customer_is_not_found_like_any_other(
    tenancy: Tenancy, name: str
) -> None:
    """B addressing A's cart id under B's own customer: the 404 any unknown cart gets."""
    route = ROUTES[name]
    before = tenancy.snapshot()
    own = tenancy.b.new_customer()
    real = call(tenancy.b, route, {"customer": own, "cart": tenancy.ids["cart"]})
    random_cart = str(uuid.uuid4())
    probe = call(tenancy.b, route, {"customer": own, "cart": random_cart})
    assert real.status_code == probe.status_code == 404, real.text
    assert real.json()["code"] == 800008
    assert without(real.text, tenancy.ids["cart"]) == without(probe.text, random_cart)
    assert tenancy.snapshot() == before


def test_owner_still_has_full_access(tenancy: Tenancy) -> None:
    """The matrix is not passing because everybody is refused: A is served on every route."""
    for name, route in ROUTES.items():
        response = call(tenancy.a, route, tenancy.ids)
        assert response.status_code in (200, 201), (name, response.text)


def test_customer_list_holds_only_the_callers_customers(api: Api) -> None:
    b = api.as_partner(str(uuid.uuid4()))
    nobody = api.as_partner(str(uuid.uuid4()))
    mine = {api.new_customer(), api.new_customer("DE")}
    theirs = b.new_customer()

    listed = api.get("/v1/customers")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["totalCount"] == 2
    assert {c["id"] for c in body["items"]} == mine
    assert theirs not in listed.text
    assert body["links"]["self"]["uri"] == "/customers"
    assert body["links"]["self"]["method"] == "GET"
    assert body["attributes"]["objectType"] == "Collection"
    assert all(c["attributes"]["objectType"] == "Customer" for c in body["items"])

    other = b.get("/v1/customers").json()
    assert other["totalCount"] == 1
    assert [c["id"] for c in other["items"]] == [theirs]

    empty = nobody.get("/v1/customers").json()
    assert empty["totalCount"] == 0
    assert empty["items"] == []
    assert empty["attributes"]["objectType"] == "Collection"


def test_customer_list_on_both_databases(db_api: Api) -> None:
    b = db_api.as_partner(str(uuid.uuid4()))
    mine = db_api.new_customer()
    b.new_customer()
    body = db_api.get("/v1/customers").json()
    assert [c["id"] for c in body["items"]] == [mine]
    assert body["totalCount"] == 1
