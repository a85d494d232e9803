"""Keyword search: SQLite FTS5 or PostgreSQL full-text search over title, abstract and authors.

The search structures come from migration 0002 (an FTS5 table kept in step by triggers on
SQLite; a generated, GIN-indexed `search_vector` column on PostgreSQL). They are not in the
models, so `include_object`/`include_name` hide them from Alembic's autogenerate comparison.

Relevance is bm25 (SQLite; title weighted 5, authors 2, abstract 1) or ts_rank (PostgreSQL; title A,
abstract B, authors C) over the newest KEYWORD_WINDOW matches. A search first asks for papers
holding every word; when that finds fewer than wanted, papers holding any of the words follow,
ranked after them. Quoted phrases are required either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from app.embed.query_parse import ParsedQuery, fts5_match, fts5_phrases, tsquery, tsquery_phrases
from app.models.paper import Paper

FTS_TABLE = "papers_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_papers_search_vector"
# bm25 column weights (title, abstract, authors): a word in the title counts most.
BM25_WEIGHTS = (5.0, 1.0, 2.0)
# Ranking every match of a word found in most abstracts ("model") costs a second at a million
# papers, so relevance is computed over the newest KEYWORD_WINDOW matches (ids grow with time):
# rare words are ranked in full, and the vector side still reaches older papers.
KEYWORD_WINDOW = 5000


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic hook: skip the FTS5 table and its shadow tables before they are reflected."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: the full-text structures live only in the database, never in the models."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == PG_COLUMN and reflected and compare_to is None:
        return False
    return not (type_ == "index" and name == PG_INDEX)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def keyword_search(
    session: Session,
    query: ParsedQuery,
    *,
    conditions: Sequence[ColumnElement[bool]] = (),
    limit: int = 100,
) -> list[tuple[int, float]]:
    """(paper id, relevance) best first: all words first, then any word; phrases always required."""
    if not query.has_words or limit < 1:
        return []
    found = _search(session, query, conditions, limit, any_term=False)
    if len(found) < limit and len(query.terms) > 1:
        seen = {pid for pid, _ in found}
        more = _search(session, query, conditions, limit, any_term=True)
        # Papers with every word rank above those with only some, whatever their own score.
        floor = min((s for _, s in found), default=0.0)
        extra = [(pid, min(score, floor) - 1e-9) for pid, score in more if pid not in seen]
        found += extra[: limit - len(found)]
    return found


def _pg_match(expression: str) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """(the query as a tsquery, the condition that uses the GIN index)."""
    tsq = func.to_tsquery(literal_column("'english'::regconfig"), expression)
    return tsq, literal_column("papers.search_vector").op("@@")(tsq)


def _search(
    session: Session,
    query: ParsedQuery,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    any_term: bool,
) -> list[tuple[int, float]]:
    """Rank the newest KEYWORD_WINDOW matches by relevance (all of them when there are fewer)."""
    if _dialect(session) == "postgresql":
        expression = tsquery(query, any_term=any_term)
        if expression is None:
            return []
        tsq, matches = _pg_match(expression)
        window = (
            select(Paper.id, literal_column("papers.search_vector").label("vector"))
            .where(matches, *conditions)
            .order_by(Paper.id.desc())
            .limit(KEYWORD_WINDOW)
            .subquery("window")
        )
        # Normalisation 1 divides by 1 + log(length): long abstracts do not win by length alone.
        score = func.ts_rank(window.c.vector, tsq, 1).label("score")
        stmt = select(window.c.id, score).order_by(score.desc(), window.c.id).limit(limit)
        return [(int(pid), float(value)) for pid, value in session.execute(stmt)]
    match = fts5_match(query, any_term=any_term)
    if match is None:
        return []
    fts = table(FTS_TABLE, column("rowid", Integer()))
    inner = select(
        fts.c.rowid.label("id"),
        # bm25() is lower-is-better; negated so that every caller sorts scores descending.
        (-func.bm25(literal_column(FTS_TABLE), *BM25_WEIGHTS)).label("score"),
    ).select_from(fts)
    if conditions:
        inner = inner.join(Paper, Paper.id == fts.c.rowid)
    window = (
        inner.where(literal_column(FTS_TABLE).op("MATCH")(match), *conditions)
        .order_by(fts.c.rowid.desc())
        .limit(KEYWORD_WINDOW)
        .subquery("window")
    )
    stmt = select(window.c.id, window.c.score).order_by(window.c.score.desc(), window.c.id).limit(limit)
    return [(int(pid), float(value)) for pid, value in session.execute(stmt)]


def matching_phrases(session: Session, query: ParsedQuery, paper_ids: Sequence[int]) -> set[int]:
    """The papers among `paper_ids` that contain every quoted phrase of the query."""
    if not query.phrases or not paper_ids:
        return set(paper_ids)
    ids = list(paper_ids)
    if _dialect(session) == "postgresql":
        _, matches = _pg_match(tsquery_phrases(query) or "")
        return {
            int(pid) for pid in session.execute(select(Paper.id).where(Paper.id.in_(ids), matches)).scalars()
        }
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        stmt = text(
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH :match AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        found.update(
            int(r) for r in session.execute(stmt, {"match": fts5_phrases(query), "ids": chunk}).scalars()
        )
    return found
