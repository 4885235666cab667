"""The repositories over one connection's cursor, built once per connection.

Each repository prepares its SQL text in its constructor; building the six of them for every
unit of work cost a GET cart about a tenth of its server time (bench/inprocess.py). A
connection runs one unit of work at a time, so its units of work can share one cursor and
one set of repositories.
"""

from __future__ import annotations

from typing import Any

from partnercart.server.storage.idempotency import SqlIdempotency
from partnercart.server.storage.sql import Dialect, SqlCarts, SqlCustomers
from partnercart.server.storage.sql_orders import SqlCheckouts, SqlOrders, SqlSubscriptions


class Repositories:
    __slots__ = (
        "carts",
        "checkouts",
        "cursor",
        "customers",
        "dialect",
        "idempotency",
        "orders",
        "subscriptions",
    )

    def __init__(self, cursor: Any, dialect: Dialect, *, advisory_locks: bool) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.customers = SqlCustomers(cursor, dialect)
        self.carts = SqlCarts(cursor, dialect)
        self.orders = SqlOrders(cursor, dialect)
        self.subscriptions = SqlSubscriptions(cursor, dialect)
        self.checkouts = SqlCheckouts(cursor, dialect)
        self.idempotency = SqlIdempotency(cursor, dialect, advisory_locks=advisory_locks)


class SharedRepositories:
    """Mixin for a unit of work: the repositories of the connection it runs on."""

    cursor: Any
    dialect: Dialect
    customers: SqlCustomers
    carts: SqlCarts
    orders: SqlOrders
    subscriptions: SqlSubscriptions
    checkouts: SqlCheckouts
    idempotency: SqlIdempotency

    def _use(self, repos: Repositories) -> None:
        self.cursor = repos.cursor
        self.dialect = repos.dialect
        self.customers = repos.customers
        self.carts = repos.carts
        self.orders = repos.orders
        self.subscriptions = repos.subscriptions
        self.checkouts = repos.checkouts
        self.idempotency = repos.idempotency
