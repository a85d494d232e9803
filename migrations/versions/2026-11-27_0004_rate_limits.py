"""rate limits shared across processes

`rate_limits` holds, per upstream, the earliest start of its next request on the database
clock. On PostgreSQL the arXiv limiter reads and moves it while holding an advisory lock, so
worker processes on several machines keep arXiv's one request every three seconds together.
SQLite deployments coordinate through a file lock instead, but get the table too so both
databases carry the same schema.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
