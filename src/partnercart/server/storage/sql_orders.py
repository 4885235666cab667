"""Order, subscription and checkout repositories; the SQL is shared by SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from partnercart.server.domain.order_records import CheckoutRecord, OrderRecord, SubscriptionRecord
from partnercart.server.storage.sql import Cursor, Dialect, from_micros, owned_by, to_micros


def _maybe_micros(moment: dt.datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


class SqlOrders:
    _COLUMNS = (
        "id, partner_id, customer_id, cart_id, created_at, status, provision_at, billing_cycle, "
        "version, body"
    )

    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        q = dialect.sql
        self._insert = q(
            f"INSERT INTO orders ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        select = (
            f"SELECT {self._COLUMNS} FROM orders WHERE id = ? AND {owned_by('customer_id')} = ?"
        )
        self._get = q(select)
        self._get_locked = q(select + dialect.for_update)
        self._list = q(
            f"SELECT {self._COLUMNS} FROM orders WHERE customer_id = ? ORDER BY created_at, id"
        )
        self._list_cycle = q(
            f"SELECT {self._COLUMNS} FROM orders WHERE customer_id = ? AND billing_cycle = ? "
            "ORDER BY created_at, id"
        )
        self._for_cart = q(
            f"SELECT {self._COLUMNS} FROM orders WHERE cart_id = ? ORDER BY created_at, id"
        )
        self._set_status = q(
            "UPDATE orders SET status = ?, version = ? "
            f"WHERE id = ? AND {owned_by('customer_id')} = ? AND version = ?"
        )

    @staticmethod
    def _record(row: Any) -> OrderRecord:
        return OrderRecord(
            id=row[0],
            partner_id=row[1],
            customer_id=row[2],
            cart_id=row[3],
            created_at=from_micros(row[4]),
            status=row[5],
            provision_at=from_micros(row[6]),
            billing_cycle=row[7],
            version=row[8],
            body=bytes(row[9]),
        )

    def add(self, record: OrderRecord) -> None:
        self._cur.execute(
            self._insert,
            (
                record.id,
                record.partner_id,
                record.customer_id,
                record.cart_id,
                to_micros(record.created_at),
                record.status,
                to_micros(record.provision_at),
                record.billing_cycle,
                record.version,
                record.body,
            ),
        )

    def get(
        self, customer_id: str, order_id: str, *, for_update: bool = False
    ) -> OrderRecord | None:
        self._cur.execute(self._get_locked if for_update else self._get, (order_id, customer_id))
        row = self._cur.fetchone()
        return None if row is None else self._record(row)

    def for_customer(
        self, customer_id: str, *, billing_cycle: str | None = None
    ) -> list[OrderRecord]:
        if billing_cycle is None:
            self._cur.execute(self._list, (customer_id,))
        else:
            self._cur.execute(self._list_cycle, (customer_id, billing_cycle))
        return [self._record(r) for r in self._cur.fetchall()]

    def for_cart(self, cart_id: str) -> list[OrderRecord]:
        self._cur.execute(self._for_cart, (cart_id,))
        return [self._record(r) for r in self._cur.fetchall()]

    def set_status(self, record: OrderRecord, status: str) -> bool:
        self._cur.execute(
            self._set_status,
            (status, record.version + 1, record.id, record.customer_id, record.version),
        )
        return bool(self._cur.rowcount == 1)


class SqlSubscriptions:
    _COLUMNS = (
        "id, partner_id, customer_id, order_id, line_item_number, provision_at, cancelled_at, body"
    )

    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        q = dialect.sql
        self._insert = q(
            f"INSERT INTO subscriptions ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._get = q(
            f"SELECT {self._COLUMNS} FROM subscriptions "
            f"WHERE id = ? AND {owned_by('customer_id')} = ?"
        )
        self._for_order = q(
            f"SELECT {self._COLUMNS} FROM subscriptions "
            f"WHERE {owned_by('customer_id')} = ? AND order_id = ? ORDER BY line_item_number"
        )
        self._for_customer = q(
            f"SELECT {self._COLUMNS} FROM subscriptions WHERE customer_id = ? "
            "ORDER BY provision_at, order_id, line_item_number"
        )
        self._count_live = q(
            "SELECT COUNT(*) FROM subscriptions WHERE customer_id = ? AND cancelled_at IS NULL"
        )
        self._cancel = q(
            "UPDATE subscriptions SET cancelled_at = ? "
            "WHERE order_id = ? AND line_item_number = ? AND cancelled_at IS NULL"
        )

    @staticmethod
    def _record(row: Any) -> SubscriptionRecord:
        return SubscriptionRecord(
            id=row[0],
            partner_id=row[1],
            customer_id=row[2],
            order_id=row[3],
            line_item_number=row[4],
            provision_at=from_micros(row[5]),
            cancelled_at=None if row[6] is None else from_micros(row[6]),
            body=bytes(row[7]),
        )

    def add(self, record: SubscriptionRecord) -> None:
        self._cur.execute(
            self._insert,
            (
                record.id,
                record.partner_id,
                record.customer_id,
                record.order_id,
                record.line_item_number,
                to_micros(record.provision_at),
                _maybe_micros(record.cancelled_at),
                record.body,
            ),
        )

    def get(self, customer_id: str, subscription_id: str) -> SubscriptionRecord | None:
        self._cur.execute(self._get, (subscription_id, customer_id))
        row = self._cur.fetchone()
        return None if row is None else self._record(row)

    def for_order(self, customer_id: str, order_id: str) -> list[SubscriptionRecord]:
        self._cur.execute(self._for_order, (customer_id, order_id))
        return [self._record(r) for r in self._cur.fetchall()]

    def for_customer(self, customer_id: str) -> list[SubscriptionRecord]:
        self._cur.execute(self._for_customer, (customer_id,))
        return [self._record(r) for r in self._cur.fetchall()]

    def count_live(self, customer_id: str) -> int:
        self._cur.execute(self._count_live, (customer_id,))
        row = self._cur.fetchone()
        return int(row[0])

    def cancel(self, order_id: str, line_numbers: Sequence[int], at: dt.datetime) -> None:
        stamp = to_micros(at)
        for number in line_numbers:
            self._cur.execute(self._cancel, (stamp, order_id, number))


class SqlCheckouts:
    _COLUMNS = "cart_id, partner_id, customer_id, created_at, body"

    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        q = dialect.sql
        self._insert = q(f"INSERT INTO cart_checkouts ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?)")
        self._get = q(
            f"SELECT {self._COLUMNS} FROM cart_checkouts WHERE cart_id = ? AND customer_id = ?"
        )

    def add(self, record: CheckoutRecord) -> None:
        self._cur.execute(
            self._insert,
            (
                record.cart_id,
                record.partner_id,
                record.customer_id,
                to_micros(record.created_at),
                record.body,
            ),
        )

    def get(self, customer_id: str, cart_id: str) -> CheckoutRecord | None:
        self._cur.execute(self._get, (cart_id, customer_id))
        row = self._cur.fetchone()
        if row is None:
            return None
        return CheckoutRecord(
            cart_id=row[0],
            partner_id=row[1],
            customer_id=row[2],
            created_at=from_micros(row[3]),
            body=bytes(row[4]),
        )
