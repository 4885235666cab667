"""Schema versions, applied by Alembic from ``migrations/versions``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from partnercart.server.storage.urls import DatabaseUrl

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(url: DatabaseUrl) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.sqlalchemy().replace("%", "%%"))
    return config


#: The page size of a new SQLite database: SQLite's default. 16 KB pages made a logged
#: request cheaper to write (its 2-3 KB row no longer took a page to itself) but every cart,
#: order and subscription write dearer: random GUID keys touch a page per index entry, and
#: the WAL grew by 98 KB per write instead of 37 KB (docs/decisions.md).
SQLITE_PAGE_SIZE = 4096


def upgrade(url: DatabaseUrl, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the latest by default)."""
    from alembic import command

    if url.engine == "sqlite":
        _create_sqlite_file(Path(url.target))
    command.upgrade(_config(url), revision)


def _create_sqlite_file(path: Path) -> None:
    """Make a new database file with :data:`SQLITE_PAGE_SIZE` pages, in WAL mode (the page
    size of an existing file is kept: changing it would rewrite the whole file)."""
    if str(path) == ":memory:" or (path.exists() and path.stat().st_size > 0):
        return
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def downgrade(url: DatabaseUrl, revision: str) -> None:
    from alembic import command

    command.downgrade(_config(url), revision)


def current(url: DatabaseUrl) -> str | None:
    """The revision the database is at, or ``None`` before the first migration. A database
    taken up one branch of the history and then the other (``--revision 0002``, then
    ``0003``) stands at both until the merge: ``0002+0003``."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    engine = create_engine(url.sqlalchemy(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
            return "+".join(sorted(heads)) or None
    finally:
        engine.dispose()


def head() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations must have one head, found {heads}"
    return heads[0]
