"""Storage ports: what the services need from a database, whichever one it is."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from partnercart.server.domain.idempotency import StoredResponse
from partnercart.server.domain.records import CartRecord, CustomerRecord


class CustomerRepository(Protocol):
    def add(self, record: CustomerRecord) -> None: ...

    def get(self, partner_id: str, customer_id: str) -> CustomerRecord | None:
        """The customer if it belongs to ``partner_id``; ``None`` otherwise."""
        ...

    def list(self, partner_id: str) -> list[CustomerRecord]: ...


class CartRepository(Protocol):
    def add(self, record: CartRecord) -> None: ...

    def get(self, customer_id: str, cart_id: str, *, for_update: bool = False) -> CartRecord | None:
        """The cart of that customer; ``for_update`` locks it until the unit of work ends."""
        ...

    def update(self, record: CartRecord, *, expected_version: int) -> bool:
        """Write ``record`` if the stored version is still ``expected_version``."""
        ...


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
    def idempotency(self) -> IdempotencyRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Store(Protocol):
    #: True when calls may block on the network or on locks held by other processes, so the
    #: HTTP layer runs them in a worker thread rather than inline on the event loop.
    blocking: bool

    def unit_of_work(self, *, write: bool) -> UnitOfWork: ...

    def close(self) -> None: ...
