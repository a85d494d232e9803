"""digest profile: followed authors, exclusion keywords, the quiet note, named interests

`subscribers.authors` holds followed author names, `subscribers.exclude_keywords` the words that
keep a paper out of the digest, `subscribers.quiet_note` whether a short note is mailed when
nothing new is relevant. `subscriber_interests` holds named interests (keywords and a text with
its vector), each with its own section in the digest.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("exclude_keywords", JSON, server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column("authors", JSON, server_default=sa.text("'[]'"), nullable=False))
        batch.add_column(sa.Column("quiet_note", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "subscriber_interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("interest_text", sa.Text(), nullable=True),
        sa.Column("interest_vector", sa.LargeBinary(), nullable=True),
        sa.Column("interest_model", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_interests_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_interests")),
    )
    op.create_index(
        "ix_subscriber_interests_subscriber", "subscriber_interests", ["subscriber_id", "position"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_subscriber_interests_subscriber", table_name="subscriber_interests")
    op.drop_table("subscriber_interests")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("quiet_note")
        batch.drop_column("authors")
        batch.drop_column("exclude_keywords")
