"""Storage ports: what the services need from a database, whichever one it is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from partnercart.server.domain.idempotency import StoredResponse
from partnercart.server.domain.order_records import CheckoutRecord, OrderRecord, SubscriptionRecord
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.storage.sql import Cursor, Dialect


class CustomerRepository(Protocol):
    def add(self, record: CustomerRecord) -> None:
        """Raises :class:`DomainTaken` when the partner has a customer with that domain
        (another connection made it meanwhile; the caller has checked with ``domain_taken``)."""
        ...

    def domain_taken(self, partner_id: str, domain: str) -> bool:
        """Whether ``partner_id`` has a customer with ``domain`` (in lower case)."""
        ...

    def get(self, partner_id: str, customer_id: str) -> CustomerRecord | None:
        """The customer if it belongs to ``partner_id``; ``None`` otherwise."""
        ...

    def list(self, partner_id: str) -> list[CustomerRecord]: ...


class CartRepository(Protocol):
    def add(self, record: CartRecord) -> None: ...

    def get(self, customer_id: str, cart_id: str, *, for_update: bool = False) -> CartRecord | None:
        """The cart of that customer; ``for_update`` locks it until the unit of work ends."""
        ...

    def get_owned(
        self, partner_id: str, customer_id: str, cart_id: str
    ) -> tuple[bool, CartRecord | None]:
        """In one statement: whether ``partner_id`` has that customer, and the customer's cart
        (``None`` when it has none with that id)."""
        ...

    def get_owned_many(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> list[tuple[bool, CartRecord | None]]:
        """:meth:`get_owned` for each ``(partner_id, customer_id, cart_id)``, in order."""
        ...

    def update(self, record: CartRecord, *, expected_version: int) -> bool:
        """Write ``record`` if the stored version is still ``expected_version``."""
        ...


class OrderRepository(Protocol):
    def add(self, record: OrderRecord) -> None: ...

    def get(
        self, customer_id: str, order_id: str, *, for_update: bool = False
    ) -> OrderRecord | None:
        """The order of that customer; ``for_update`` locks it until the unit of work ends."""
        ...

    def for_customer(
        self, customer_id: str, *, billing_cycle: str | None = None
    ) -> list[OrderRecord]:
        """The customer's orders, oldest first, optionally of one billing cycle."""
        ...

    def for_cart(self, cart_id: str) -> list[OrderRecord]: ...

    def set_status(self, record: OrderRecord, status: str) -> bool:
        """Store ``status`` if the order is still at ``record.version``."""
        ...


class SubscriptionRepository(Protocol):
    def add(self, record: SubscriptionRecord) -> None: ...

    def get(self, customer_id: str, subscription_id: str) -> SubscriptionRecord | None: ...

    def for_order(self, customer_id: str, order_id: str) -> list[SubscriptionRecord]: ...

    def for_customer(self, customer_id: str) -> list[SubscriptionRecord]: ...

    def count_live(self, customer_id: str) -> int:
        """How many of the customer's subscriptions are not cancelled."""
        ...

    def cancel(self, order_id: str, line_numbers: Sequence[int], at: dt.datetime) -> None: ...


class CheckoutRepository(Protocol):
    def add(self, record: CheckoutRecord) -> None: ...

    def get(self, customer_id: str, cart_id: str) -> CheckoutRecord | None: ...


class IdempotencyRepository(Protocol):
    """Stored answers of ``MS-RequestId`` requests, keyed by ``(partner_id, request_id)``."""

    def claim(self, partner_id: str, request_id: str) -> bool:
        """Hold the key until the unit of work ends, without waiting; ``False`` when another
        running transaction holds it."""
        ...

    def get(self, partner_id: str, request_id: str) -> StoredResponse | None: ...

    def put(self, record: StoredResponse) -> None:
        """Store (or replace an expired) answer, in this unit of work."""
        ...

    def purge(self, now_micros: int) -> int:
        """Delete the answers expired at ``now_micros`` (microseconds since the epoch)."""
        ...


class UnitOfWork(Protocol):
    """One transaction: committed when the block ends normally, rolled back otherwise."""

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def carts(self) -> CartRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def checkouts(self) -> CheckoutRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    #: The open cursor and its dialect, for the emulator's control plane (reset, clocks, fault
    #: rules, request log), which keeps its SQL in ``server/control/``.
    @property
    def cursor(self) -> Cursor: ...

    @property
    def dialect(self) -> Dialect: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class GroupedUnitOfWork(UnitOfWork, Protocol):
    """A write whose block ends before its transaction commits: it shares one transaction
    with the other grouped writes of the same event-loop pass. The block's changes are undone
    alone when it raises; :meth:`durable` returns once they are committed."""

    async def durable(self) -> None:
        """Wait until the shared transaction has committed. Raises
        :class:`~partnercart.server.domain.errors.ServiceUnavailable` when it could not be,
        and then nothing of this unit of work was kept."""
        ...


class Store(Protocol):
    #: True when calls may block on the network or on locks held by other processes, so the
    #: HTTP layer runs them in a worker thread rather than inline on the event loop.
    blocking: bool

    def unit_of_work(self, *, write: bool, snapshot: bool = True) -> UnitOfWork:
        """A transaction; a read with ``snapshot=False`` runs without one (for a use case of
        a single statement, which is atomic by itself)."""
        ...

    def grouped_write(self) -> GroupedUnitOfWork | None:
        """A write unit of work for the running event loop's thread that joins that pass's
        shared transaction; ``None`` when the store commits every unit of work itself (one
        whose units run in worker threads)."""
        ...

    def close(self) -> None: ...
