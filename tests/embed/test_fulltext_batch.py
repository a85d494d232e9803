"""Full-text vectors filled by the index step (PostgreSQL) while search never misses a paper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.embed import fulltext_pg
from app.embed.fulltext import keyword_search, matching_phrases, refresh_search_vectors
from app.embed.query_parse import parse_query
from app.ingest.service import ingest_file
from tests.conftest import PG_ADMIN_URL, ROOT
from tests.factories import add_paper

PAPERS = [
    {
        "id": "2611.00001",
        "title": "Zorblax attention for sparse graphs",
        "abstract": "We route messages with zorblax kernels over very sparse graphs.",
        "categories": ["cs.LG"],
        "authors": ["Ada Quillfeather"],
        "announced_date": "2026-11-02",
    },
    {
        "id": "2611.00002",
        "title": "Counting trees quickly",
        "abstract": "A faster way of counting spanning trees, unrelated to attention.",
        "categories": ["cs.DS"],
        "authors": ["Bo Lindqvist"],
        "announced_date": "2026-11-02",
    },
]


def _keyword(db: Session, query: str) -> list[int]:
    return [pid for pid, _ in keyword_search(db, parse_query(query), limit=50)]


def _pending(db: Session) -> int:
    if db.get_bind().dialect.name != "postgresql":
        return 0
    return fulltext_pg.count_pending(db)


def _vector_is_null(db: Session, paper_id: int) -> bool:
    return bool(db.scalar(text("SELECT search_vector IS NULL FROM papers WHERE id = :id"), {"id": paper_id}))


def _ingest(db: Session, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    report = ingest_file(db, path)
    assert report.new == len(PAPERS) and report.errors == []
    rows = db.execute(text("SELECT arxiv_id, id FROM papers WHERE arxiv_id LIKE '2611.%'"))
    return {str(arxiv_id): int(pid) for arxiv_id, pid in rows}


def test_ingested_paper_is_found_before_and_after_the_refresh(db: Session, tmp_path: Path) -> None:
    ids = _ingest(db, tmp_path)
    zorblax = ids["2611.00001"]
    postgres = db.get_bind().dialect.name == "postgresql"
    if postgres:  # ingest leaves the vectors to the index step
        assert all(_vector_is_null(db, pid) for pid in ids.values())
    pending = _pending(db)
    assert pending >= (len(PAPERS) if postgres else 0)

    assert _keyword(db, "zorblax") == [zorblax]
    assert _keyword(db, "quillfeather") == [zorblax]  # authors too
    assert _keyword(db, "zorbl") == [zorblax]  # prefix stage
    assert matching_phrases(db, parse_query('"sparse graphs"'), list(ids.values())) == {zorblax}

    assert refresh_search_vectors(db, batch=1) == pending  # several batches
    assert _pending(db) == 0
    assert refresh_search_vectors(db) == 0
    assert _keyword(db, "zorblax") == [zorblax]
    assert _keyword(db, "quillfeather") == [zorblax]
    assert matching_phrases(db, parse_query('"sparse graphs"'), list(ids.values())) == {zorblax}
    # Title words still rank above abstract words once the stored vector is used.
    assert _keyword(db, "attention") == [zorblax, ids["2611.00002"]]


def test_edits_are_indexed_again_and_search_follows_them(db: Session) -> None:
    paper = add_paper(
        db, "Quantized pruning", "Networks made smaller after pruning.", authors=["Ada Lovelace"]
    )
    refresh_search_vectors(db)
    postgres = db.get_bind().dialect.name == "postgresql"

    paper.categories = ["cs.LG"]  # not a searched column: the vector stays
    db.flush()
    assert not (postgres and _vector_is_null(db, paper.id))

    paper.title = "Sparse transformers"
    db.flush()
    if postgres:
        assert _vector_is_null(db, paper.id)
    assert _keyword(db, "sparse") == [paper.id]
    assert paper.id not in _keyword(db, "quantized")
    assert refresh_search_vectors(db) == (1 if postgres else 0)
    assert _keyword(db, "sparse") == [paper.id] and paper.id not in _keyword(db, "quantized")

    paper.abstract = "Attention heads that can be removed."
    db.flush()
    if postgres:
        assert _vector_is_null(db, paper.id)
    assert _keyword(db, "heads") == [paper.id] and _keyword(db, "pruning") == []
    paper.authors = ["Grace Hopper"]
    db.flush()
    refresh_search_vectors(db)
    assert _keyword(db, "hopper") == [paper.id] and _keyword(db, "lovelace") == []
    assert _keyword(db, "heads") == [paper.id] and _keyword(db, "pruning") == []


def test_keyword_match_can_use_both_indexes(db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _, matches = fulltext_pg.match("zorblax")
    sql = str(matches.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.execute(text(f"EXPLAIN SELECT id FROM papers WHERE {sql}")).scalars())
    assert fulltext_pg.PG_INDEX in plan and fulltext_pg.PG_PENDING_INDEX in plan


def test_searched_words_are_planned_with_the_statement(db: Session, tmp_path: Path) -> None:
    """The words are in the SQL text, so a statement prepared on the server is never planned blind."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    ids = _ingest(db, tmp_path)
    refresh_search_vectors(db)
    seen: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        seen.append((statement, params))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        # Past psycopg's prepare threshold (5 runs of one statement on a connection).
        for _ in range(7):
            assert _keyword(db, "zorblax kernels") == [ids["2611.00001"]]
            assert _keyword(db, "spanning trees") == [ids["2611.00002"]]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    searches = [(s, p) for s, p in seen if "to_tsquery" in s]
    assert searches and all("'(zorblax " in s or "'(spanning " in s for s, _ in searches)
    assert not any("zorblax" in str(p) for _, p in searches)


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind, for migrating down and up without disturbing others."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"pt_test_fts_{tmp_path.name[-8:].replace('-', '_')}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _search_vector(engine: Engine) -> tuple[bool, int]:
    """(whether search_vector is a generated column, how many vectors are NULL)."""
    with engine.connect() as conn:
        generated = conn.scalar(
            text(
                "SELECT is_generated FROM information_schema.columns "
                "WHERE table_name = 'papers' AND column_name = 'search_vector'"
            )
        )
        nulls = conn.scalar(text("SELECT count(*) FROM papers WHERE search_vector IS NULL"))
    return generated == "ALWAYS", int(nulls or 0)


def test_migration_0003_round_trip(scratch_url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", scratch_url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "0002")
    engine = create_engine(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO papers (source, source_id, title, abstract, authors, categories, keywords, "
                    "withdrawn, raw, text_hash, created_at, updated_at) VALUES ('file', 'x1', "
                    "'Zorblax kernels', 'On sparse graphs.', '[\"Ada Quillfeather\"]', '[]', '[]', "
                    "false, '{}', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        postgres = engine.dialect.name == "postgresql"
        command.upgrade(cfg, "0003")
        engine.dispose()
        if postgres:
            assert _search_vector(engine) == (False, 0)  # existing vectors kept
            indexes = {ix["name"] for ix in inspect(engine).get_indexes("papers")}
            assert {fulltext_pg.PG_INDEX, fulltext_pg.PG_PENDING_INDEX} <= indexes
            with engine.begin() as conn:
                conn.execute(text("UPDATE papers SET title = 'Zorblax kernels, revised'"))
            assert _search_vector(engine) == (False, 1)
        command.downgrade(cfg, "0002")
        engine.dispose()
        if postgres:
            assert _search_vector(engine) == (True, 0)
            indexes = {ix["name"] for ix in inspect(engine).get_indexes("papers")}
            assert fulltext_pg.PG_PENDING_INDEX not in indexes and fulltext_pg.PG_INDEX in indexes
        command.upgrade(cfg, "head")
        engine.dispose()
        with Session(engine) as session:
            assert _keyword(session, "revised" if postgres else "zorblax") != []
            assert refresh_search_vectors(session) == 0
    finally:
        engine.dispose()
