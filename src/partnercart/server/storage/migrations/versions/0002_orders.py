"""Orders, the subscriptions their lines become, and stored checkout results.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("cart_id", sa.String(64), sa.ForeignKey("carts.id"), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("provision_at", sa.BigInteger, nullable=False),
        sa.Column("billing_cycle", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_orders_customer", "orders", ["customer_id", "created_at"])
    op.create_index("ix_orders_cart", "orders", ["cart_id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("line_item_number", sa.Integer, nullable=False),
        sa.Column("provision_at", sa.BigInteger, nullable=False),
        sa.Column("cancelled_at", sa.BigInteger, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("order_id", "line_item_number", name="uq_subscriptions_order_line"),
    )
    op.create_index("ix_subscriptions_customer", "subscriptions", ["customer_id", "provision_at"])
    op.create_table(
        "cart_checkouts",
        sa.Column("cart_id", sa.String(64), sa.ForeignKey("carts.id"), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cart_checkouts")
    op.drop_index("ix_subscriptions_customer", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_orders_cart", table_name="orders")
    op.drop_index("ix_orders_customer", table_name="orders")
    op.drop_table("orders")
