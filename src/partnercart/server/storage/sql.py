"""Repositories over a DB-API connection; the SQL is shared by SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol, cast

from partnercart.server.domain.errors import domain_in_use
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.storage.failures import INTEGRITY_ERRORS


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...

    @property
    def rowcount(self) -> int: ...


class BinaryCursor(Cursor, Protocol):
    """psycopg's cursor, which can take a statement's results in PostgreSQL's binary format."""

    def execute(self, sql: str, params: Any = ..., /, *, binary: bool | None = ...) -> Any: ...


class Dialect:
    """What differs between the engines: placeholders, row locks, and whether a statement is a
    call into the process (``embedded``) or a round trip."""

    def __init__(self, *, placeholder: str, for_update: str, embedded: bool) -> None:
        self.placeholder = placeholder
        self.for_update = for_update
        self.embedded = embedded

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect(placeholder="?", for_update="", embedded=True)
POSTGRES = Dialect(placeholder="%s", for_update=" FOR UPDATE", embedded=False)


def owned_by(column: str) -> str:
    """The owner column of a lookup by primary key (a cart's ``customer_id``, a customer's
    ``partner_id``) as an expression no index can serve: ``column || ''``, the same text.

    A row is found by its key and the owner only checked. Left indexable, the owner's own
    index competes with the key's, and PostgreSQL picked it for the generic plan of a prepared
    statement on a table without statistics: GET cart then read every cart of the customer
    and every customer of the partner, and slowed as they grew (10,752 carts of one customer
    in a bench run: GET fell to a third; docs/decisions.md)."""
    return f"{column} || ''"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_micros(moment: dt.datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(0, 0, value)  # positional: 0.14 µs less than by keyword


_DOMAIN_INDEX = "ux_customers_partner_domain"


def _domain_clash(exc: Exception) -> bool:
    """Whether a broken constraint is the unique index on a partner's customer domains:
    PostgreSQL names the index, SQLite its columns."""
    diag = getattr(exc, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == _DOMAIN_INDEX
    return "customers.partner_id, customers.domain" in str(exc)


class SqlCustomers:
    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        q = dialect.sql
        self._insert = q(
            "INSERT INTO customers (id, partner_id, country, created_at, body, domain) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        # Served by the unique index on (partner_id, domain).
        self._domain = q("SELECT 1 FROM customers WHERE partner_id = ? AND domain = ? LIMIT 1")
        self._get = q(
            "SELECT id, partner_id, country, created_at, body, domain FROM customers "
            f"WHERE id = ? AND {owned_by('partner_id')} = ?"
        )
        self._list = q(
            "SELECT id, partner_id, country, created_at, body, domain FROM customers "
            "WHERE partner_id = ? ORDER BY created_at, id"
        )

    @staticmethod
    def _record(row: Any) -> CustomerRecord:
        return CustomerRecord(
            id=row[0],
            partner_id=row[1],
            country=row[2],
            created_at=from_micros(row[3]),
            body=bytes(row[4]),
            domain=row[5],
        )

    def add(self, record: CustomerRecord) -> None:
        try:
            self._cur.execute(
                self._insert,
                (
                    record.id,
                    record.partner_id,
                    record.country,
                    to_micros(record.created_at),
                    record.body,
                    record.domain,
                ),
            )
        except INTEGRITY_ERRORS as exc:
            # Another connection made a customer with this domain after the caller checked
            # (PostgreSQL; SQLite writes one at a time).
            if record.domain is not None and _domain_clash(exc):
                raise domain_in_use(record.domain) from None
            raise

    def domain_taken(self, partner_id: str, domain: str) -> bool:
        self._cur.execute(self._domain, (partner_id, domain))
        return self._cur.fetchone() is not None

    def get(self, partner_id: str, customer_id: str) -> CustomerRecord | None:
        self._cur.execute(self._get, (customer_id, partner_id))
        row = self._cur.fetchone()
        return None if row is None else self._record(row)

    def list(self, partner_id: str) -> list[CustomerRecord]:
        self._cur.execute(self._list, (partner_id,))
        return [self._record(r) for r in self._cur.fetchall()]


class SqlCarts:
    _COLUMNS = "id, partner_id, customer_id, created_at, expires_at, status, version, body"

    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        q = dialect.sql
        self._insert = q(f"INSERT INTO carts ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        select = f"SELECT {self._COLUMNS} FROM carts WHERE id = ? AND {owned_by('customer_id')} = ?"
        self._get = q(select)
        self._get_locked = q(select + dialect.for_update)
        # SQLite only (see get_owned).
        self._get_mine = q(select + " AND partner_id = ?") if dialect.embedded else None
        joined = ", ".join(f"c.{name.strip()}" for name in self._COLUMNS.split(","))
        self._get_owned = q(
            f"SELECT {joined} FROM customers cu LEFT JOIN carts c "
            f"ON c.id = ? AND {owned_by('c.customer_id')} = cu.id "
            f"WHERE cu.id = ? AND {owned_by('cu.partner_id')} = ?"
        )
        # PostgreSQL only (see get_owned_many): the keys come as three arrays, one row back
        # per key whose customer the partner has, numbered as the keys were. Each lookup is a
        # LATERAL subquery with LIMIT 1, which the planner cannot fold into a join: every key
        # is found through the primary keys, whatever the statistics say (a hash join over a
        # sequential scan of customers is what a generic plan chose for the plain join).
        # The arrays go in PostgreSQL's binary format (``%b``) and the rows come back in it:
        # text arrays need no quoting and a body no hex, half the client's CPU a statement.
        self._get_owned_many = (
            None
            if dialect.embedded
            else (
                f"SELECT k.ord, {joined} "
                "FROM unnest(%b::text[], %b::text[], %b::text[]) WITH ORDINALITY "
                "AS k(cart_id, customer_id, partner_id, ord) "
                "CROSS JOIN LATERAL (SELECT cu.id FROM customers cu WHERE cu.id = k.customer_id "
                f"AND {owned_by('cu.partner_id')} = k.partner_id LIMIT 1) cu "
                f"LEFT JOIN LATERAL (SELECT {self._COLUMNS} FROM carts "
                f"WHERE id = k.cart_id AND {owned_by('customer_id')} = cu.id LIMIT 1) c ON true"
            )
        )
        self._update = q(
            "UPDATE carts SET status = ?, version = ?, body = ? "
            f"WHERE id = ? AND {owned_by('customer_id')} = ? AND version = ?"
        )

    @staticmethod
    def _record(row: Any) -> CartRecord:
        return CartRecord(
            id=row[0],
            partner_id=row[1],
            customer_id=row[2],
            created_at=from_micros(row[3]),
            expires_at=from_micros(row[4]),
            status=row[5],
            version=row[6],
            body=bytes(row[7]),
        )

    def add(self, record: CartRecord) -> None:
        self._cur.execute(
            self._insert,
            (
                record.id,
                record.partner_id,
                record.customer_id,
                to_micros(record.created_at),
                to_micros(record.expires_at),
                record.status,
                record.version,
                record.body,
            ),
        )

    def get(self, customer_id: str, cart_id: str, *, for_update: bool = False) -> CartRecord | None:
        self._cur.execute(self._get_locked if for_update else self._get, (cart_id, customer_id))
        row = self._cur.fetchone()
        return None if row is None else self._record(row)

    def get_owned(
        self, partner_id: str, customer_id: str, cart_id: str
    ) -> tuple[bool, CartRecord | None]:
        """Whether the partner has the customer, and the customer's cart (``None`` if none).

        On SQLite: a cart row carries the partner that created it, always the customer's own,
        so a cart found with the caller's partner answers both at once from the carts table
        alone (one index search fewer than the join); only when none is found does the joined
        read tell "no relationship" (403) from "no such cart" (404). On PostgreSQL the joined
        read alone, one round trip either way."""
        if self._get_mine is not None:
            self._cur.execute(self._get_mine, (cart_id, customer_id, partner_id))
            row = self._cur.fetchone()
            if row is not None:
                return True, self._record(row)
        self._cur.execute(self._get_owned, (cart_id, customer_id, partner_id))
        row = self._cur.fetchone()
        if row is None:
            return False, None
        return True, None if row[0] is None else self._record(row)

    def get_owned_many(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> list[tuple[bool, CartRecord | None]]:
        """:meth:`get_owned` for each ``(partner_id, customer_id, cart_id)``, answers in the
        keys' order. On PostgreSQL one statement for all of them, so the GETs that arrive
        together share one round trip; on SQLite, where a lookup is a call into the process,
        one lookup each."""
        if self._get_owned_many is None:
            return [self.get_owned(*key) for key in keys]
        cursor = cast(BinaryCursor, self._cur)
        cursor.execute(
            self._get_owned_many,
            ([key[2] for key in keys], [key[1] for key in keys], [key[0] for key in keys]),
            binary=True,
        )
        answers: list[tuple[bool, CartRecord | None]] = [(False, None)] * len(keys)
        for row in self._cur.fetchall():
            answers[row[0] - 1] = (True, None if row[1] is None else self._record(row[1:]))
        return answers

    def update(self, record: CartRecord, *, expected_version: int) -> bool:
        self._cur.execute(
            self._update,
            (
                record.status,
                record.version,
                record.body,
                record.id,
                record.customer_id,
                expected_version,
            ),
        )
        return bool(self._cur.rowcount == 1)
