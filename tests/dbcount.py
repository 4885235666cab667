"""Reading the database directly, beside the API: row counts that prove what changed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import psycopg

from partnercart.server.runtime import Runtime
from partnercart.server.storage import DatabaseUrl


def query(runtime: Runtime, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    url = DatabaseUrl.parse(runtime.settings.database_url())
    if url.engine == "sqlite":
        with closing(sqlite3.connect(url.target)) as conn:
            return list(conn.execute(sql, params).fetchall())
    with psycopg.connect(url.target) as pg:
        return list(pg.execute(sql.replace("?", "%s"), params).fetchall())


def count(runtime: Runtime, table: str) -> int:
    return int(query(runtime, f"SELECT COUNT(*) FROM {table}")[0][0])
