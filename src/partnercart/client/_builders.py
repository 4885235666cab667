"""The fluent tree: ``customers.by_id(c).carts.by_id(k).get()``.

Each builder is a small frozen value holding the executor and the path so far; navigating
returns a new builder and never does I/O. A method builds one :class:`Operation` (pure data)
and hands it to the executor, so the same code serves the sync client (which returns the
result) and the async client (which returns an awaitable); the ``@overload`` pairs only tell
type checkers which of the two a given client gets.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar, overload
from urllib.parse import quote

from partnercart.client._executors import AsyncExecutor, AsyncPager, Pager, SyncExecutor
from partnercart.client._models_pending import (
    Availability,
    CartCheckoutResult,
    Order,
    OrderLineItemProvisioningStatus,
    Product,
    Sku,
    Subscription,
)
from partnercart.client._operation import Operation, Page
from partnercart.schema.cart import BillingCycle, Cart
from partnercart.schema.customer import Customer

E = TypeVar("E", SyncExecutor, AsyncExecutor)
T = TypeVar("T")
Sync = SyncExecutor
Async = AsyncExecutor

__all__ = [
    "AvailabilitiesBuilder",
    "AvailabilityBuilder",
    "CartBuilder",
    "CartsBuilder",
    "CustomerBuilder",
    "CustomersBuilder",
    "OrderBuilder",
    "OrdersBuilder",
    "ProductBuilder",
    "ProductsBuilder",
    "SkuBuilder",
    "SkusBuilder",
    "SubscriptionsBuilder",
    "billing_type_text",
]


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value.strip(), safe="")


def _bool_text(value: bool | None) -> str | None:
    # The .NET SDK sends bool.ToString(): True / False.
    return None if value is None else ("True" if value else "False")


def billing_type_text(value: BillingCycle | str | None) -> str | None:
    """``billingType`` as the .NET SDK sends it (the enum's C# name: ``Monthly``, ``OneTime``)."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return "".join(part.capitalize() for part in str(value.value).split("_"))
    return value


def _page(item: type[T]) -> type[Page[T]]:
    return Page[item]  # type: ignore[valid-type]


@dataclass(frozen=True, slots=True)
class CustomersBuilder(Generic[E]):
    _e: E

    def by_id(self, customer_id: str) -> CustomerBuilder[E]:
        return CustomerBuilder(self._e, f"/customers/{_segment(customer_id, 'customer_id')}")

    @overload
    def create(self: CustomersBuilder[Sync], customer: Customer) -> Customer: ...
    @overload
    def create(self: CustomersBuilder[Async], customer: Customer) -> Awaitable[Customer]: ...
    def create(self, customer: Customer) -> Customer | Awaitable[Customer]:
        return self._e.call(Operation("POST", "/customers", Customer, body=customer))

    @overload
    def list(self: CustomersBuilder[Sync]) -> Pager[Customer]: ...
    @overload
    def list(self: CustomersBuilder[Async]) -> AsyncPager[Customer]: ...
    def list(self) -> Pager[Customer] | AsyncPager[Customer]:
        return self._e.pages(Operation("GET", "/customers", _page(Customer)))


@dataclass(frozen=True, slots=True)
class CustomerBuilder(Generic[E]):
    _e: E
    path: str

    @property
    def carts(self) -> CartsBuilder[E]:
        return CartsBuilder(self._e, f"{self.path}/carts")

    @property
    def orders(self) -> OrdersBuilder[E]:
        return OrdersBuilder(self._e, f"{self.path}/orders")

    @property
    def subscriptions(self) -> SubscriptionsBuilder[E]:
        return SubscriptionsBuilder(self._e, f"{self.path}/subscriptions")

    @overload
    def get(self: CustomerBuilder[Sync]) -> Customer: ...
    @overload
    def get(self: CustomerBuilder[Async]) -> Awaitable[Customer]: ...
    def get(self) -> Customer | Awaitable[Customer]:
        return self._e.call(Operation("GET", self.path, Customer))


@dataclass(frozen=True, slots=True)
class CartsBuilder(Generic[E]):
    _e: E
    path: str

    def by_id(self, cart_id: str) -> CartBuilder[E]:
        return CartBuilder(self._e, f"{self.path}/{_segment(cart_id, 'cart_id')}")

    @overload
    def create(self: CartsBuilder[Sync], cart: Cart) -> Cart: ...
    @overload
    def create(self: CartsBuilder[Async], cart: Cart) -> Awaitable[Cart]: ...
    def create(self, cart: Cart) -> Cart | Awaitable[Cart]:
        return self._e.call(Operation("POST", self.path, Cart, body=cart))


@dataclass(frozen=True, slots=True)
class CartBuilder(Generic[E]):
    _e: E
    path: str

    @overload
    def get(self: CartBuilder[Sync]) -> Cart: ...
    @overload
    def get(self: CartBuilder[Async]) -> Awaitable[Cart]: ...
    def get(self) -> Cart | Awaitable[Cart]:
        return self._e.call(Operation("GET", self.path, Cart))

    @overload
    def put(self: CartBuilder[Sync], cart: Cart) -> Cart: ...
    @overload
    def put(self: CartBuilder[Async], cart: Cart) -> Awaitable[Cart]: ...
    def put(self, cart: Cart) -> Cart | Awaitable[Cart]:
        """Replace the cart (PUT is a full replacement: GET, change, PUT)."""
        return self._e.call(Operation("PUT", self.path, Cart, body=cart))

    @overload
    def checkout(
        self: CartBuilder[Sync], *, customer_user_upn: str | None = None
    ) -> CartCheckoutResult: ...
    @overload
    def checkout(
        self: CartBuilder[Async], *, customer_user_upn: str | None = None
    ) -> Awaitable[CartCheckoutResult]: ...
    def checkout(
        self, *, customer_user_upn: str | None = None
    ) -> CartCheckoutResult | Awaitable[CartCheckoutResult]:
        """Submit the cart. Sends the JSON string ``"success"`` as the official SDKs do."""
        headers = (("x-ms-customeruser-upn", customer_user_upn),) if customer_user_upn else ()
        op = Operation(
            "POST",
            f"{self.path}/checkout",
            CartCheckoutResult,
            raw_body=b'"success"',
            headers=headers,
        )
        return self._e.call(op)


@dataclass(frozen=True, slots=True)
class OrdersBuilder(Generic[E]):
    _e: E
    path: str

    def by_id(self, order_id: str) -> OrderBuilder[E]:
        return OrderBuilder(self._e, f"{self.path}/{_segment(order_id, 'order_id')}")

    @overload
    def list(
        self: OrdersBuilder[Sync],
        *,
        billing_type: BillingCycle | str | None = None,
        include_price: bool | None = None,
    ) -> Pager[Order]: ...
    @overload
    def list(
        self: OrdersBuilder[Async],
        *,
        billing_type: BillingCycle | str | None = None,
        include_price: bool | None = None,
    ) -> AsyncPager[Order]: ...
    def list(
        self,
        *,
        billing_type: BillingCycle | str | None = None,
        include_price: bool | None = None,
    ) -> Pager[Order] | AsyncPager[Order]:
        op = Operation("GET", self.path, _page(Order)).with_query(
            billingType=billing_type_text(billing_type), include_price=_bool_text(include_price)
        )
        return self._e.pages(op)


@dataclass(frozen=True, slots=True)
class OrderBuilder(Generic[E]):
    _e: E
    path: str

    @overload
    def get(self: OrderBuilder[Sync], *, include_price: bool | None = None) -> Order: ...
    @overload
    def get(
        self: OrderBuilder[Async], *, include_price: bool | None = None
    ) -> Awaitable[Order]: ...
    def get(self, *, include_price: bool | None = None) -> Order | Awaitable[Order]:
        op = Operation("GET", self.path, Order).with_query(include_price=_bool_text(include_price))
        return self._e.call(op)

    @overload
    def provisioning_status(
        self: OrderBuilder[Sync],
    ) -> Pager[OrderLineItemProvisioningStatus]: ...
    @overload
    def provisioning_status(
        self: OrderBuilder[Async],
    ) -> AsyncPager[OrderLineItemProvisioningStatus]: ...
    def provisioning_status(
        self,
    ) -> Pager[OrderLineItemProvisioningStatus] | AsyncPager[OrderLineItemProvisioningStatus]:
        op = Operation(
            "GET", f"{self.path}/provisioningstatus", _page(OrderLineItemProvisioningStatus)
        )
        return self._e.pages(op)

    @overload
    def cancel(self: OrderBuilder[Sync]) -> Order: ...
    @overload
    def cancel(self: OrderBuilder[Async]) -> Awaitable[Order]: ...
    def cancel(self) -> Order | Awaitable[Order]:
        """Cancel the whole order: ``PATCH`` with ``{"id": …, "status": "cancelled"}``."""
        order_id = self.path.rsplit("/", 1)[-1]
        from urllib.parse import unquote

        body = Order(id=unquote(order_id), status="cancelled")
        return self._e.call(Operation("PATCH", self.path, Order, body=body))


@dataclass(frozen=True, slots=True)
class SubscriptionsBuilder(Generic[E]):
    _e: E
    path: str

    @overload
    def list(
        self: SubscriptionsBuilder[Sync], *, order_id: str | None = None
    ) -> Pager[Subscription]: ...
    @overload
    def list(
        self: SubscriptionsBuilder[Async], *, order_id: str | None = None
    ) -> AsyncPager[Subscription]: ...
    def list(
        self, *, order_id: str | None = None
    ) -> Pager[Subscription] | AsyncPager[Subscription]:
        op = Operation("GET", self.path, _page(Subscription)).with_query(order_id=order_id)
        return self._e.pages(op)


# --- catalog: every call carries ?country= -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductsBuilder(Generic[E]):
    _e: E
    country: str

    def by_id(self, product_id: str) -> ProductBuilder[E]:
        path = f"/products/{_segment(product_id, 'product_id')}"
        return ProductBuilder(self._e, path, self.country)

    @overload
    def list(
        self: ProductsBuilder[Sync],
        *,
        target_view: str,
        target_segment: str | None = None,
        reservation_scope: str | None = None,
    ) -> Pager[Product]: ...
    @overload
    def list(
        self: ProductsBuilder[Async],
        *,
        target_view: str,
        target_segment: str | None = None,
        reservation_scope: str | None = None,
    ) -> AsyncPager[Product]: ...
    def list(
        self,
        *,
        target_view: str,
        target_segment: str | None = None,
        reservation_scope: str | None = None,
    ) -> Pager[Product] | AsyncPager[Product]:
        op = Operation("GET", "/products", _page(Product)).with_query(
            country=self.country,
            targetView=target_view,
            targetSegment=target_segment,
            reservationScope=reservation_scope,
        )
        return self._e.pages(op)


@dataclass(frozen=True, slots=True)
class ProductBuilder(Generic[E]):
    _e: E
    path: str
    country: str

    @property
    def skus(self) -> SkusBuilder[E]:
        return SkusBuilder(self._e, f"{self.path}/skus", self.country)

    @overload
    def get(self: ProductBuilder[Sync]) -> Product: ...
    @overload
    def get(self: ProductBuilder[Async]) -> Awaitable[Product]: ...
    def get(self) -> Product | Awaitable[Product]:
        return self._e.call(Operation("GET", self.path, Product).with_query(country=self.country))


@dataclass(frozen=True, slots=True)
class SkusBuilder(Generic[E]):
    _e: E
    path: str
    country: str

    def by_id(self, sku_id: str) -> SkuBuilder[E]:
        return SkuBuilder(self._e, f"{self.path}/{_segment(sku_id, 'sku_id')}", self.country)

    @overload
    def list(self: SkusBuilder[Sync], *, target_segment: str | None = None) -> Pager[Sku]: ...
    @overload
    def list(self: SkusBuilder[Async], *, target_segment: str | None = None) -> AsyncPager[Sku]: ...
    def list(self, *, target_segment: str | None = None) -> Pager[Sku] | AsyncPager[Sku]:
        op = Operation("GET", self.path, _page(Sku)).with_query(
            country=self.country, targetSegment=target_segment
        )
        return self._e.pages(op)


@dataclass(frozen=True, slots=True)
class SkuBuilder(Generic[E]):
    _e: E
    path: str
    country: str

    @property
    def availabilities(self) -> AvailabilitiesBuilder[E]:
        return AvailabilitiesBuilder(self._e, f"{self.path}/availabilities", self.country)

    @overload
    def get(self: SkuBuilder[Sync]) -> Sku: ...
    @overload
    def get(self: SkuBuilder[Async]) -> Awaitable[Sku]: ...
    def get(self) -> Sku | Awaitable[Sku]:
        return self._e.call(Operation("GET", self.path, Sku).with_query(country=self.country))


@dataclass(frozen=True, slots=True)
class AvailabilitiesBuilder(Generic[E]):
    _e: E
    path: str
    country: str

    def by_id(self, availability_id: str) -> AvailabilityBuilder[E]:
        segment = _segment(availability_id, "availability_id")
        return AvailabilityBuilder(self._e, f"{self.path}/{segment}", self.country)

    @overload
    def list(
        self: AvailabilitiesBuilder[Sync], *, target_segment: str | None = None
    ) -> Pager[Availability]: ...
    @overload
    def list(
        self: AvailabilitiesBuilder[Async], *, target_segment: str | None = None
    ) -> AsyncPager[Availability]: ...
    def list(
        self, *, target_segment: str | None = None
    ) -> Pager[Availability] | AsyncPager[Availability]:
        op = Operation("GET", self.path, _page(Availability)).with_query(
            country=self.country, targetSegment=target_segment
        )
        return self._e.pages(op)


@dataclass(frozen=True, slots=True)
class AvailabilityBuilder(Generic[E]):
    _e: E
    path: str
    country: str

    @overload
    def get(self: AvailabilityBuilder[Sync]) -> Availability: ...
    @overload
    def get(self: AvailabilityBuilder[Async]) -> Awaitable[Availability]: ...
    def get(self) -> Availability | Awaitable[Availability]:
        op = Operation("GET", self.path, Availability).with_query(country=self.country)
        return self._e.call(op)
