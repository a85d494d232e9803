"""published vector index versions

`index_artifacts` holds one row per published version of the vector index: its checksum,
size, vector count and model, with the bytes themselves (a small index) or the name of the
file in the shared index folder (a larger one). Web replicas poll it for a newer version.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_artifacts",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("vectors", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_index_artifacts")),
    )
    op.create_index("ix_index_artifacts_model_version", "index_artifacts", ["model", "version"])


def downgrade() -> None:
    op.drop_index("ix_index_artifacts_model_version", table_name="index_artifacts")
    op.drop_table("index_artifacts")
