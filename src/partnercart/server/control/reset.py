"""Reset: forget everything, or everything one partner tenant owns.

Each table the emulator keeps per partner is one line of :data:`TENANT_TABLES`, children before
parents (foreign keys); a table that does not exist in this database is skipped, so features
that add tables add one line here.
"""

from __future__ import annotations

from partnercart.server.control import faults
from partnercart.server.control.store import run, table_exists
from partnercart.server.storage.ports import UnitOfWork

#: (table, the column holding the partner tenant id), children first.
TENANT_TABLES: tuple[tuple[str, str], ...] = (
    ("idempotency_keys", "partner_id"),
    ("cart_checkouts", "partner_id"),
    ("subscriptions", "partner_id"),
    ("orders", "partner_id"),
    ("carts", "partner_id"),
    ("customers", "partner_id"),
    ("control_requests", "partner_id"),
    ("control_faults", "partner_id"),
    ("control_clocks", "partner_id"),
)


def reset(uow: UnitOfWork, *, partner_id: str | None = None) -> dict[str, int]:
    """Delete the rows (of one partner, or all); the number deleted per table."""
    deleted: dict[str, int] = {}
    if uow.dialect.for_update and table_exists(uow, "customers"):
        # PostgreSQL: no customer is added until the reset has committed (the table lock
        # lets reads through), and the customers it deletes are locked first, so no request
        # adds a cart, order or subscription to one of them meanwhile (each such insert checks
        # its customer, and waits on this lock).
        run(uow, "LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE")
        where = "" if partner_id is None else " WHERE partner_id = ?"
        params: tuple[str, ...] = () if partner_id is None else (partner_id,)
        run(uow, f"SELECT id FROM customers{where}{uow.dialect.for_update}", params)
    for table, column in TENANT_TABLES:
        if not table_exists(uow, table):
            continue
        if partner_id is None:
            cursor = run(uow, f"DELETE FROM {table}")
        else:
            cursor = run(uow, f"DELETE FROM {table} WHERE {column} = ?", (partner_id,))
        deleted[table] = max(int(cursor.rowcount), 0)
    faults.bump_version(uow)
    return deleted
