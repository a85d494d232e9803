"""Keyword search: SQLite FTS5 or PostgreSQL full-text search over title, abstract and authors.

The search structures come from migrations 0002 and 0003 (an FTS5 table kept in step by
triggers on SQLite; on PostgreSQL a GIN-indexed `search_vector` column that inserts leave NULL
and the index step fills in batches, see `app.embed.fulltext_pg`; search computes a missing
vector on the fly, so a paper is found as soon as it is ingested). They are not in the models,
so `include_object`/`include_name` hide them from Alembic's autogenerate comparison.

Relevance is bm25 (SQLite; title weighted 5, authors 2, abstract 1) or ts_rank (PostgreSQL; title A,
abstract B, authors C) over the newest KEYWORD_WINDOW matches. On a SQLite corpus above
BM25_MAX_PAPERS, bm25 itself is too slow for common words, and matches come newest first with
those holding every query word in the title ahead. A search first asks for papers holding every
word; when that finds fewer than wanted, papers holding any of the words follow, then (a single
word) words starting with it. Quoted phrases are required throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from app.embed import fulltext_pg
from app.embed.query_parse import ParsedQuery, fts5_match, fts5_phrases, stem, tsquery, tsquery_phrases, words
from app.models.paper import Paper

FTS_TABLE = "papers_fts"
PG_COLUMN = fulltext_pg.PG_COLUMN
PG_INDEXES = {fulltext_pg.PG_INDEX, fulltext_pg.PG_PENDING_INDEX}
# bm25 column weights (title, abstract, authors): a word in the title counts most.
BM25_WEIGHTS = (5.0, 1.0, 2.0)
# Ranking every match of a word found in most abstracts ("model") costs a second at a million
# papers, so relevance is computed over the newest KEYWORD_WINDOW matches (ids grow with time):
# rare words are ranked in full, and the vector side still reaches older papers.
KEYWORD_WINDOW = 1000
# Above this many papers (SQLite), keyword hits are ranked newest first, title matches first,
# instead of by bm25 (see `_newest_matches`).
BM25_MAX_PAPERS = 200_000
# Newest matches read there before the filters (topic, dates, category) thin them out.
FILTERED_WINDOW = 2000


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic hook: skip the FTS5 table and its shadow tables before they are reflected."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: the full-text structures live only in the database, never in the models."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == PG_COLUMN and reflected and compare_to is None:
        return False
    return not (type_ == "index" and name in PG_INDEXES)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def refresh_search_vectors(session: Session, batch: int = fulltext_pg.REFRESH_BATCH) -> int:
    """PostgreSQL: fill the full-text vectors still NULL (new or edited papers); returns how many.

    SQLite's FTS5 table is kept in step by triggers, so there is nothing to do (0). Never commits.
    """
    if _dialect(session) != "postgresql":
        return 0
    return fulltext_pg.refresh_search_vectors(session, batch)


def keyword_search(
    session: Session,
    query: ParsedQuery,
    *,
    conditions: Sequence[ColumnElement[bool]] = (),
    limit: int = 100,
    within: Select[Any] | None = None,
) -> list[tuple[int, float]]:
    """(paper id, relevance) best first; phrases always required.

    `within` (a select of paper ids, e.g. a topic's) restricts the search like a condition, but
    on a large corpus it is checked without reading the papers' rows.

    Stages, each only while fewer than `limit` papers are found, each ranked below the last:
    every word; any of the words; a single word also as the start of longer words.
    """
    if not query.has_words or limit < 1:
        return []
    exact = replace(query, prefix=False)
    stages = [(exact, False)]
    if len(query.terms) > 1:
        stages.append((exact, True))
    if query.prefix:
        stages.append((query, False))
    large = _large(session)
    if within is not None and not large:
        conditions = [*conditions, Paper.id.in_(within)]
        within = None
    found: list[tuple[int, float]] = []
    seen: set[int] = set()
    for variant, any_term in stages:
        if len(found) >= limit:
            break
        more = _search(session, variant, conditions, limit, any_term=any_term, large=large, within=within)
        floor = min((s for _, s in found), default=float("inf"))
        for pid, score in more:
            if pid not in seen and len(found) < limit:
                seen.add(pid)
                found.append((pid, min(score, floor - 1e-9)))
    return found


def _large(session: Session) -> bool:
    if _dialect(session) != "sqlite":
        return False
    return int(session.execute(select(func.max(Paper.id))).scalar() or 0) >= BM25_MAX_PAPERS


def _search(
    session: Session,
    query: ParsedQuery,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    any_term: bool,
    large: bool = False,
    within: Select[Any] | None = None,
) -> list[tuple[int, float]]:
    """Rank the newest KEYWORD_WINDOW matches by relevance (all of them when there are fewer)."""
    if _dialect(session) == "postgresql":
        expression = tsquery(query, any_term=any_term)
        if expression is None:
            return []
        return fulltext_pg.ranked_matches(session, expression, conditions, limit, KEYWORD_WINDOW)
    match = fts5_match(query, any_term=any_term)
    if match is None:
        return []
    if large:
        return _newest_matches(session, query, match, conditions, limit, within)
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


def _newest_matches(
    session: Session,
    query: ParsedQuery,
    match: str,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    within: Select[Any] | None,
) -> list[tuple[int, float]]:
    """Large SQLite corpora: the newest matches, those with every query word in the title first.

    FTS5's bm25() counts every document holding each query word to weigh it; for a word in half
    of a million abstracts that alone costs 30-130 ms. Walking the matches newest first and
    stopping at the limit costs about a millisecond, plus a row read (~35 µs) per match that a
    filter has to look at.
    """
    filtered = bool(conditions) or within is not None
    newest = (
        text(
            f"SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match ORDER BY rowid DESC LIMIT :n"
        )
        .bindparams(match=match, n=max(limit, FILTERED_WINDOW) if filtered else limit)
        .columns(id=Integer())
        .subquery("newest")
    )
    candidates = select(newest.c.id)
    if within is not None:  # membership from its own index: no paper row is read for it
        candidates = candidates.where(newest.c.id.in_(within))
    # Walked newest first, reading each remaining paper's row (title, filters), stopping at `limit`.
    passing = candidates.subquery("passing")
    stmt = (
        select(passing.c.id, Paper.title)
        .join(Paper, Paper.id == passing.c.id)
        .where(*conditions)
        .limit(limit)
    )
    titles = {int(pid): title for pid, title in session.execute(stmt)}
    ids = sorted(titles, reverse=True)
    wanted = [stem(t) for t in query.terms] + [stem(w) for p in query.phrases for w in p]
    in_title = [pid for pid in ids if _holds_all(titles.get(pid, ""), wanted)]
    ranked = in_title + [pid for pid in ids if pid not in set(in_title)]
    return [(pid, 1.0 / (rank + 1)) for rank, pid in enumerate(ranked)]


def _holds_all(title: str, stems: list[str]) -> bool:
    have = {stem(w) for w in words(title)}
    return all(any(h.startswith(s) for h in have) for s in stems)


def matching_phrases(session: Session, query: ParsedQuery, paper_ids: Sequence[int]) -> set[int]:
    """The papers among `paper_ids` that contain every quoted phrase of the query."""
    if not query.phrases or not paper_ids:
        return set(paper_ids)
    ids = list(paper_ids)
    if _dialect(session) == "postgresql":
        return fulltext_pg.matching_ids(session, tsquery_phrases(query) or "", ids)
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
