"""The emulator's control plane: virtual clocks, fault rules, the request log.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_clocks",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("frozen", sa.Boolean, nullable=False),
        # frozen: the instant, in microseconds since the epoch; running: the offset in
        # microseconds from the server's base clock.
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_faults",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("seen", sa.Integer, nullable=False),
        sa.Column("fired", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    # One row per named counter; ``faults`` changes whenever a rule is added, removed or spent.
    op.create_table(
        "control_versions",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "control_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_control_requests_partner", "control_requests", ["partner_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_control_requests_partner", table_name="control_requests")
    op.drop_table("control_requests")
    op.drop_table("control_versions")
    op.drop_table("control_faults")
    op.drop_table("control_clocks")
