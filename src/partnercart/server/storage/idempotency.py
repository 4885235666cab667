"""The stored answers of ``MS-RequestId`` requests, over a DB-API cursor (SQLite and PostgreSQL).

Rows are written in the same transaction as the change they answer. On PostgreSQL the key is
first claimed with a transaction-scoped advisory lock taken without waiting, so a second
request with the same id that arrives while the first is still running is told so at once
(409) instead of running the use case again. On SQLite the unit of work already holds the
database's single write lock (``BEGIN IMMEDIATE``), so no second writer can be running.

The PostgreSQL scheme relies on READ COMMITTED (the pool's default): the lookup after the claim
takes a fresh snapshot, which holds everything a previous holder of the key committed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from partnercart.server.domain.idempotency import StoredResponse
from partnercart.server.storage.sql import Cursor, Dialect, from_micros, to_micros


def advisory_key(partner_id: str, request_id: str) -> int:
    """A signed 64-bit lock key for ``(partner_id, request_id)``. A collision between two keys
    can only make one of them wait for a retry (409), never mix their answers."""
    digest = hashlib.sha256(f"partnercart:idempotency\n{partner_id}\n{request_id}".encode())
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


class SqlIdempotency:
    _COLUMNS = "partner_id, request_id, fingerprint, status, headers, body, created_at, expires_at"

    def __init__(self, cursor: Cursor, dialect: Dialect, *, advisory_locks: bool) -> None:
        self._cur = cursor
        self._advisory = advisory_locks
        q = dialect.sql
        self._get = q(
            f"SELECT {self._COLUMNS} FROM idempotency_keys WHERE partner_id = ? AND request_id = ?"
        )
        self._put = q(
            f"INSERT INTO idempotency_keys ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (partner_id, request_id) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, status = excluded.status, "
            "headers = excluded.headers, body = excluded.body, "
            "created_at = excluded.created_at, expires_at = excluded.expires_at"
        )
        self._purge = q("DELETE FROM idempotency_keys WHERE expires_at <= ?")
        self._lock = q("SELECT pg_try_advisory_xact_lock(?)")

    def claim(self, partner_id: str, request_id: str) -> bool:
        """Hold the key until the unit of work ends; ``False`` if another transaction holds it."""
        if not self._advisory:
            return True
        self._cur.execute(self._lock, (advisory_key(partner_id, request_id),))
        row = self._cur.fetchone()
        return bool(row[0])

    def get(self, partner_id: str, request_id: str) -> StoredResponse | None:
        self._cur.execute(self._get, (partner_id, request_id))
        row: Any = self._cur.fetchone()
        if row is None:
            return None
        return StoredResponse(
            partner_id=row[0],
            request_id=row[1],
            fingerprint=row[2],
            status=int(row[3]),
            headers=tuple((str(k), str(v)) for k, v in msgspec.json.decode(row[4])),
            body=bytes(row[5]),
            created_at=from_micros(row[6]),
            expires_at=from_micros(row[7]),
        )

    def put(self, record: StoredResponse) -> None:
        """Store the answer, replacing an expired one with the same key."""
        self._cur.execute(
            self._put,
            (
                record.partner_id,
                record.request_id,
                record.fingerprint,
                record.status,
                msgspec.json.encode(record.headers).decode(),
                record.body,
                to_micros(record.created_at),
                to_micros(record.expires_at),
            ),
        )

    def purge(self, now_micros: int) -> int:
        """Delete every answer expired at ``now_micros``; the number deleted."""
        self._cur.execute(self._purge, (now_micros,))
        return max(int(self._cur.rowcount), 0)
