"""A customer's domain, unique among the customers of one partner.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


#: Customers read and written per round: the migration's memory stays that of one batch
#: however many customers the database holds.
BATCH = 1000


def _domain(body: Any) -> str | None:
    try:
        domain = json.loads(bytes(body))["companyProfile"]["domain"]
    except (ValueError, KeyError, TypeError):
        return None
    return domain.lower() if isinstance(domain, str) else None


def upgrade() -> None:
    op.add_column("customers", sa.Column("domain", sa.String(253), nullable=True))
    bind = op.get_bind()
    # Each customer's domain from its body, read a batch at a time in primary-key order (an
    # index walk, so each batch costs its own rows, not a scan of the table).
    select = sa.text(
        "SELECT id, body FROM customers WHERE id > :after ORDER BY id LIMIT :n"
    ).bindparams(n=BATCH)
    update = sa.text("UPDATE customers SET domain = :domain WHERE id = :id")
    after = ""
    while True:
        rows = bind.execute(select, {"after": after}).fetchall()
        if not rows:
            break
        after = rows[-1][0]
        found = [{"id": r[0], "domain": d} for r in rows if (d := _domain(r[1])) is not None]
        del rows  # before the next batch is read, not after
        if found:
            bind.execute(update, found)
    # Customers made before the rule keep their domain; when a partner already has two with
    # the same one, the first made keeps it in this column and the later ones are left out
    # (NULL), so the unique index can be made and nothing already created is lost. A plain
    # index on the pair serves the lookup of an earlier one and gives way to the unique index.
    op.create_index("ix_customers_partner_domain_0006", "customers", ["partner_id", "domain"])
    bind.execute(
        sa.text(
            "UPDATE customers SET domain = NULL WHERE domain IS NOT NULL AND EXISTS ("
            "SELECT 1 FROM customers AS earlier "
            "WHERE earlier.partner_id = customers.partner_id "
            "AND earlier.domain = customers.domain "
            "AND (earlier.created_at < customers.created_at "
            "OR (earlier.created_at = customers.created_at AND earlier.id < customers.id)))"
        )
    )
    op.drop_index("ix_customers_partner_domain_0006", table_name="customers")
    op.create_index(
        "ux_customers_partner_domain", "customers", ["partner_id", "domain"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_customers_partner_domain", table_name="customers")
    op.drop_column("customers", "domain")
