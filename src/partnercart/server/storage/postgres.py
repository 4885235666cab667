"""PostgreSQL: many stateless server processes over one database, through a connection pool."""

from __future__ import annotations

from types import TracebackType

import psycopg
from psycopg_pool import ConnectionPool

from partnercart.server.storage.idempotency import SqlIdempotency
from partnercart.server.storage.sql import POSTGRES, SqlCarts, SqlCustomers


class PostgresUnitOfWork:
    def __init__(self, pool: ConnectionPool, *, write: bool) -> None:
        self._pool = pool
        self._write = write
        self._conn: psycopg.Connection | None = None

    def __enter__(self) -> PostgresUnitOfWork:
        conn = self._pool.getconn()
        self._conn = conn
        cursor = conn.cursor()
        self._cursor = cursor
        self.customers = SqlCustomers(cursor, POSTGRES)
        self.carts = SqlCarts(cursor, POSTGRES)
        self.idempotency = SqlIdempotency(cursor, POSTGRES, advisory_locks=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        assert conn is not None
        try:
            if exc_type is None:
                conn.commit()
            else:
                conn.rollback()
        finally:
            self._cursor.close()
            self._pool.putconn(conn)
            self._conn = None


class PostgresStore:
    blocking = True

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.conninfo = conninfo
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": False},
            open=True,
        )

    def unit_of_work(self, *, write: bool) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._pool, write=write)

    def close(self) -> None:
        self._pool.close()
