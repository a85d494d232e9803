"""subscribe tokens are single-use

`used_form_tokens` keeps a keyed hash of each subscribe token (form or API) once it was used,
until the token would have expired anyway, so a token cannot be replayed to skip the
minimum-time rule.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_form_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_used_form_tokens")),
    )
    op.create_index("ix_used_form_tokens_expires", "used_form_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_form_tokens_expires", table_name="used_form_tokens")
    op.drop_table("used_form_tokens")
