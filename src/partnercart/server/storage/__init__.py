"""Storage: the only package that speaks SQL."""

from __future__ import annotations

from partnercart.server.storage.ports import Store
from partnercart.server.storage.urls import DatabaseUrl


def open_store(
    url: DatabaseUrl,
    *,
    pool_size: int = 10,
    sqlite_sync: str = "normal",
    sqlite_group_writes: bool = True,
    sqlite_cache_mib: int = 2,
) -> Store:
    """A store for ``url``; the schema must already be migrated. ``sqlite_sync`` is SQLite's
    ``synchronous`` setting (``normal`` or ``off``); ``sqlite_group_writes`` lets the writes
    of one pass of the event loop share one commit (one process on the file);
    ``sqlite_cache_mib`` is each SQLite connection's page cache."""
    if url.engine == "sqlite":
        from partnercart.server.storage.sqlite import SqliteStore

        return SqliteStore(
            url.target,
            synchronous=sqlite_sync,
            group_writes=sqlite_group_writes,
            cache_mib=sqlite_cache_mib,
        )
    from partnercart.server.storage.postgres import PostgresStore

    return PostgresStore(url.target, max_size=pool_size)


__all__ = ["DatabaseUrl", "Store", "open_store"]
