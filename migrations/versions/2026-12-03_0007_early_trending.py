"""early trending: versioned models, per-paper predictions, listing flag, digest preference

`trend_models` keeps every fitted early-trending model with its cutoff (it learned only labels
known before that day and scores only papers announced from it on), window, inputs and
evaluation; `trend_predictions` holds each paper's probability, reasons and reliability from the
model that applies to its day. `papers.hf_listed` records a source's explicit "listed / not
listed on Hugging Face Daily Papers" (files carry `hf_daily_listed`), so a known negative is not
mistaken for an unknown. `subscribers.include_likely` turns on the digest's "likely to trend in
your topics" section (off by default).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trend_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("train_from", sa.Date(), nullable=True),
        sa.Column("train_to", sa.Date(), nullable=True),
        sa.Column("n_train", sa.Integer(), nullable=False),
        sa.Column("n_positive", sa.Integer(), nullable=False),
        sa.Column("n_labels_here", sa.Integer(), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("evaluation", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_models")),
        sa.UniqueConstraint("name", name=op.f("uq_trend_models_name")),
    )
    op.create_table(
        "trend_predictions",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("reliability", sa.String(length=16), nullable=False),
        sa.Column("reliability_note", sa.Text(), nullable=True),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_trend_predictions_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["trend_models.id"],
            name=op.f("fk_trend_predictions_model_id_trend_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_trend_predictions")),
    )
    op.create_index("ix_trend_predictions_model", "trend_predictions", ["model_id"], unique=False)
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("hf_listed", sa.Boolean(), nullable=True))
    # A stored listing day is a listing; files' explicit negatives come back with `papertrend ingest reparse`.
    op.execute(sa.text("UPDATE papers SET hf_listed = :yes WHERE hf_date IS NOT NULL").bindparams(yes=True))
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("include_likely", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("include_likely")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("hf_listed")
    op.drop_index("ix_trend_predictions_model", table_name="trend_predictions")
    op.drop_table("trend_predictions")
    op.drop_table("trend_models")
