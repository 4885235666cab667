"""Join the two schema branches made in parallel: orders (0002) and idempotency (0003).

Both revise 0001. This revision changes nothing; it lets a database at either one (or at 0001)
upgrade to a single head.

Revision ID: 0004
Revises: 0002, 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
