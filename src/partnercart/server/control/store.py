"""The control plane's SQL, over the open unit of work's cursor (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from typing import Any

from partnercart.server.storage.ports import UnitOfWork
from partnercart.server.storage.sql import from_micros, to_micros

__all__ = ["from_micros", "rows", "run", "table_exists", "to_micros"]


def run(uow: UnitOfWork, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """Execute ``sql`` (``?`` placeholders) on the unit of work's cursor."""
    cursor = uow.cursor
    cursor.execute(uow.dialect.sql(sql), params)
    return cursor


def rows(uow: UnitOfWork, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    found: list[Any] = run(uow, sql, params).fetchall()
    return found


def table_exists(uow: UnitOfWork, table: str) -> bool:
    """Whether ``table`` exists: tables of features that are not installed are skipped."""
    if uow.dialect.placeholder == "?":
        found = rows(uow, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    else:
        found = rows(uow, "SELECT 1 FROM information_schema.tables WHERE table_name = ?", (table,))
    return bool(found)
