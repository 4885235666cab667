"""Storage: the only package that speaks SQL."""

from __future__ import annotations

from partnercart.server.storage.ports import Store
from partnercart.server.storage.urls import DatabaseUrl


def open_store(url: DatabaseUrl, *, pool_size: int = 10, sqlite_sync: str = "normal") -> Store:
    """A store for ``url``; the schema must already be migrated. ``sqlite_sync`` is SQLite's
    ``synchronous`` setting (``normal`` or ``off``)."""
    if url.engine == "sqlite":
        from partnercart.server.storage.sqlite import SqliteStore

        return SqliteStore(url.target, synchronous=sqlite_sync)
    from partnercart.server.storage.postgres import PostgresStore

    return PostgresStore(url.target, max_size=pool_size)


__all__ = ["DatabaseUrl", "Store", "open_store"]
