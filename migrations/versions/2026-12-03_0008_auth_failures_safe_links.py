"""admin sign-in throttle; links from sources limited to http(s)

`auth_failures` keeps each wrong admin token for a short while (a keyed hash of the client
address, never the address), so every web process throttles guessing together.

Links that sources gave for a paper (abstract, PDF, code, project page) are kept only when they
are absolute http(s) URLs; this clears any other kind (`javascript:`, `data:`, relative) that an
earlier version stored, so no page, email, feed or API answer can carry one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_COLUMNS = ("abs_url", "pdf_url", "code_url", "project_url")


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
    )
    op.create_index("ix_auth_failures_client", "auth_failures", ["scope", "client_hash", "created_at"])
    op.create_index("ix_auth_failures_created", "auth_failures", ["scope", "created_at"])
    for column in LINK_COLUMNS:
        # Same rule as the parsers (app.ingest.parse.links): http:// or https:// and a host.
        op.execute(
            f"UPDATE papers SET {column} = NULL WHERE {column} IS NOT NULL "
            f"AND NOT (lower({column}) LIKE 'http://_%' OR lower({column}) LIKE 'https://_%')"
        )


def downgrade() -> None:
    op.drop_index("ix_auth_failures_created", table_name="auth_failures")
    op.drop_index("ix_auth_failures_client", table_name="auth_failures")
    op.drop_table("auth_failures")
