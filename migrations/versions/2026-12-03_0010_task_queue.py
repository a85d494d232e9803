"""task queue for scale-out mode (procrastinate's schema, PostgreSQL only)

Scale-out mode runs scheduled jobs and mail sending as procrastinate tasks. This applies the
schema file of the pinned procrastinate version (tables, types, functions, triggers named
`procrastinate_*`). On SQLite (embedded mode only) it does nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from app.jobs.queue_schema import TABLES, TYPES, schema_sql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Straight to the driver, in the migration's transaction: without parameters psycopg runs the
    # file as it is (its `%` signs are not placeholders).
    cursor = bind.connection.driver_connection.cursor()
    cursor.execute(schema_sql())
    cursor.close()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    functions = bind.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND starts_with(p.proname, 'procrastinate_')"
    ).scalars()
    for signature in list(functions):
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for type_name in TYPES:
        bind.exec_driver_sql(f"DROP TYPE IF EXISTS {type_name} CASCADE")
