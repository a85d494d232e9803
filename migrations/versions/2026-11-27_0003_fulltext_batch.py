"""full-text vectors filled in batches (PostgreSQL)

0002's stored generated `search_vector` made every insert compute three tsvectors and update
the GIN index, which cost more than half of a file ingest. Here it becomes a plain nullable
column that the index step fills in batches (`app.embed.fulltext.refresh_search_vectors`):

- a BEFORE UPDATE trigger sets it to NULL when the title, abstract or authors change, so a
  new version of a paper is indexed again;
- a partial btree index on papers(id) WHERE search_vector IS NULL makes the papers still to
  index cheap to find; keyword search computes their vector on the fly meanwhile.

The existing vectors are copied from the generated column, not computed again. SQLite (FTS5
kept in step by triggers) is unchanged. Downgrade restores the 0002 state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same vector as 0002's generated column (title A, abstract B, authors C).
VECTOR = """setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'B')
        || setweight(jsonb_to_tsvector('simple'::regconfig, coalesce(authors, '[]'::jsonb), '["string"]'), 'C')"""

POSTGRES_UP = [
    "DROP INDEX IF EXISTS ix_papers_search_vector",
    "ALTER TABLE papers ADD COLUMN search_vector_plain tsvector",
    "UPDATE papers SET search_vector_plain = search_vector",
    "ALTER TABLE papers DROP COLUMN search_vector",
    "ALTER TABLE papers RENAME COLUMN search_vector_plain TO search_vector",
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
    "CREATE INDEX ix_papers_search_vector_pending ON papers (id) WHERE search_vector IS NULL",
    """CREATE FUNCTION papers_search_vector_reset() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := NULL;
        RETURN NEW;
    END
    $$""",
    """CREATE TRIGGER papers_search_vector_reset
        BEFORE UPDATE OF title, abstract, authors ON papers
        FOR EACH ROW
        WHEN (
            OLD.title IS DISTINCT FROM NEW.title
            OR OLD.abstract IS DISTINCT FROM NEW.abstract
            OR OLD.authors IS DISTINCT FROM NEW.authors
        )
        EXECUTE FUNCTION papers_search_vector_reset()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS papers_search_vector_reset ON papers",
    "DROP FUNCTION IF EXISTS papers_search_vector_reset()",
    "DROP INDEX IF EXISTS ix_papers_search_vector_pending",
    "DROP INDEX IF EXISTS ix_papers_search_vector",
    "ALTER TABLE papers DROP COLUMN IF EXISTS search_vector",
    f"ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRES_UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRES_DOWN)
