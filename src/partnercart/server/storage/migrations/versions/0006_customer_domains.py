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


def _domain(body: Any) -> str | None:
    try:
        domain = json.loads(bytes(body))["companyProfile"]["domain"]
    except (ValueError, KeyError, TypeError):
        return None
    return domain.lower() if isinstance(domain, str) else None


def upgrade() -> None:
    op.add_column("customers", sa.Column("domain", sa.String(253), nullable=True))
    # Customers made before the rule keep their domain; when a partner already has two with
    # the same one, the first keeps it in this column and the later ones are left out (NULL),
    # so the index can be made and nothing already created is lost.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, partner_id, body FROM customers ORDER BY created_at, id")
    ).fetchall()
    seen: set[tuple[str, str]] = set()
    update = sa.text("UPDATE customers SET domain = :domain WHERE id = :id")
    for customer_id, partner_id, body in rows:
        domain = _domain(body)
        if domain is None or (partner_id, domain) in seen:
            continue
        seen.add((partner_id, domain))
        bind.execute(update, {"domain": domain, "id": customer_id})
    op.create_index(
        "ux_customers_partner_domain", "customers", ["partner_id", "domain"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_customers_partner_domain", table_name="customers")
    op.drop_column("customers", "domain")
