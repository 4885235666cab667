"""PostgreSQL: many stateless server processes over one database, through a connection pool."""

from __future__ import annotations

import weakref
from types import TracebackType

import psycopg
from psycopg_pool import ConnectionPool

from partnercart.server.storage.session import Repositories, SharedRepositories
from partnercart.server.storage.sql import POSTGRES


class PostgresUnitOfWork(SharedRepositories):
    def __init__(
        self,
        pool: ConnectionPool,
        repos: weakref.WeakKeyDictionary[psycopg.Connection, Repositories],
        *,
        write: bool,
        snapshot: bool = True,
    ) -> None:
        self._pool = pool
        self._repos = repos
        self._write = write
        # A read of one statement runs in autocommit: no BEGIN and COMMIT round trips.
        self._autocommit = not (write or snapshot)
        self._conn: psycopg.Connection | None = None

    def __enter__(self) -> PostgresUnitOfWork:
        conn = self._pool.getconn()
        self._conn = conn
        repos = self._repos.get(conn)
        if repos is None:
            repos = Repositories(conn.cursor(), POSTGRES, advisory_locks=True)
            self._repos[conn] = repos
        self._use(repos)
        if self._autocommit:
            conn.autocommit = True
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
            if self._autocommit:
                conn.autocommit = False
            elif exc_type is None:
                conn.commit()
            else:
                conn.rollback()
        finally:
            self._pool.putconn(conn)
            self._conn = None


class PostgresStore:
    blocking = True

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.conninfo = conninfo
        #: the most connections the pool opens (``serve --pool-size``)
        self.pool_size = max_size
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": False},
            open=True,
        )
        # The repositories of each pooled connection (see storage/session.py).
        self._repos: weakref.WeakKeyDictionary[psycopg.Connection, Repositories] = (
            weakref.WeakKeyDictionary()
        )

    def unit_of_work(self, *, write: bool, snapshot: bool = True) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._pool, self._repos, write=write, snapshot=snapshot)

    def grouped_write(self) -> None:
        """None: each unit of work runs in a worker thread and commits on its own connection
        (many connections write at once, so there is no one transaction to share)."""
        return None

    def close(self) -> None:
        self._pool.close()
