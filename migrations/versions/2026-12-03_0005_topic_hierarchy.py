"""topic hierarchy: subtopics inside research areas

`topics.parent_id` links a subtopic (kind `subtopic`) to its research area. Areas and
techniques have none. A deleted parent leaves its subtopics without one rather than removing
them (their ids, slugs and subscriptions stay).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_topics_parent_id_topics"), "topics", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_topics_parent_id"), ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.drop_index(op.f("ix_topics_parent_id"))
        batch.drop_constraint(op.f("fk_topics_parent_id_topics"), type_="foreignkey")
        batch.drop_column("parent_id")
