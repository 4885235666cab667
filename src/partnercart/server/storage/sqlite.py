"""The embedded default: SQLite in WAL mode, called inline (a point read costs microseconds)."""

from __future__ import annotations

import sqlite3
import threading
from types import TracebackType

from partnercart.server.storage.idempotency import SqlIdempotency
from partnercart.server.storage.sql import SQLITE, SqlCarts, SqlCustomers


class SqliteUnitOfWork:
    def __init__(self, connection: sqlite3.Connection, *, write: bool) -> None:
        self._conn = connection
        self._write = write
        cursor = connection.cursor()
        self._cursor = cursor
        self.customers = SqlCustomers(cursor, SQLITE)
        self.carts = SqlCarts(cursor, SQLITE)
        self.idempotency = SqlIdempotency(cursor, SQLITE, advisory_locks=False)

    def __enter__(self) -> SqliteUnitOfWork:
        # IMMEDIATE takes the write lock up front, so two writers never both read and then
        # collide; readers never wait in WAL mode.
        self._conn.execute("BEGIN IMMEDIATE" if self._write else "BEGIN")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._conn.execute("COMMIT")
            else:
                self._conn.execute("ROLLBACK")
        finally:
            self._cursor.close()


class SqliteStore:
    blocking = False

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash (every commit is in the WAL before
            # the call returns); only an OS crash or power cut may lose the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def unit_of_work(self, *, write: bool) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self._connection(), write=write)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
