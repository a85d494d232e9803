"""Bulk upsert of paper records: one row per paper, few round trips, no write when nothing is new.

A batch goes through four steps:
1. items whose fingerprint is already stored (same source, same raw bytes) are skipped
   unparsed: re-ingesting a file or a page costs one indexed lookup per batch and no write;
2. the rest are parsed (a bad item becomes an error message and is skipped);
3. the stored rows of their papers are loaded in one query per key kind, and each record
   is merged in (app.ingest.merge) in order, so duplicates inside a batch are handled;
4. new papers are inserted with one executemany, changed ones updated by primary key, and
   each source's fingerprint is stored in `paper_sources`.
Works the same on SQLite and PostgreSQL; never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.ingest.merge import ROW_FIELDS, merge, new_row
from app.ingest.parse.common import ItemError
from app.ingest.records import PaperRecord, title_key
from app.models import Paper, PaperSource
from app.models._common import utcnow

PAPERS: Table = Paper.__table__  # type: ignore[assignment]
PAPER_SOURCES: Table = PaperSource.__table__  # type: ignore[assignment]
LOOKUP_CHUNK = 900  # ids per IN (...) list: well under SQLite's bound-parameter limit

Key = tuple[str, str]


@dataclass
class RawItem:
    """One item as received from a source, with where it came from and its fingerprint."""

    where: str
    value: Any
    fingerprint: str


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    paper_ids: set[int] = field(default_factory=set)  # rows inserted or changed

    def add(self, other: UpsertResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors.extend(other.errors)
        self.paper_ids |= other.paper_ids


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _in(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `= ANY(array)`: one SQL text for any length (plan cache)."""
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam("values", list(values), type_=postgresql.ARRAY(column.type), unique=True)
        return column == any_(array)
    return column.in_(values)


def known_fingerprints(session: Session, fingerprints: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(fingerprints))):
        found.update(
            session.scalars(
                select(PaperSource.fingerprint).where(_in(session, PaperSource.fingerprint, chunk))
            )
        )
    return found


_ROW_COLUMNS = [PAPERS.c.id, *(PAPERS.c[name] for name in ROW_FIELDS)]


def _key_conditions(session: Session, keys: Iterable[Key]) -> Iterator[tuple[str | None, Any]]:
    """WHERE clauses that find the stored papers of `keys`, a chunk of ids at a time.

    Yields (None, condition) for arXiv ids and (source, condition) for each other source's ids.
    """
    by_source: dict[str, list[str]] = defaultdict(list)
    for kind, ident in keys:
        by_source[kind].append(ident)
    for chunk in _chunks(sorted(by_source.pop("arxiv", []))):
        yield None, _in(session, PAPERS.c.arxiv_id, chunk)
    for source, idents in by_source.items():
        for chunk in _chunks(sorted(idents)):
            yield source, and_(PAPERS.c.source == source, _in(session, PAPERS.c.source_id, chunk))


def _key_of(source: str | None, row: Any) -> Key:
    return ("arxiv", row["arxiv_id"]) if source is None else (source, row["source_id"])


def _load_rows(session: Session, keys: set[Key], titles: dict[Key, str]) -> dict[Key, dict[str, Any]]:
    """Stored rows by key. An arXiv paper first stored without an id (by its title) is found too."""
    rows: dict[Key, dict[str, Any]] = {}
    for source, condition in _key_conditions(session, keys):
        for row in session.execute(select(*_ROW_COLUMNS).where(condition)).mappings():
            rows[_key_of(source, row)] = dict(row)
    # A paper known only by title (a list of titles and abstracts) becomes the arXiv paper.
    missing = {title_key(titles[k]): k for k in keys if k[0] == "arxiv" and k not in rows and k in titles}
    for chunk in _chunks(sorted(missing)):
        stmt = select(*_ROW_COLUMNS).where(
            PAPERS.c.arxiv_id.is_(None), _in(session, PAPERS.c.source_id, chunk)
        )
        for row in session.execute(stmt).mappings():
            key = missing.get(row["source_id"])
            if key is not None and key not in rows:
                rows[key] = dict(row)
    return rows


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany INSERT that skips a row a concurrent writer inserted first (retry-safe)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases
        stmt = table.insert()
    session.execute(stmt, rows)


def _paper_ids(session: Session, keys: list[Key]) -> dict[Key, int]:
    ids: dict[Key, int] = {}
    columns = (PAPERS.c.id, PAPERS.c.arxiv_id, PAPERS.c.source_id)
    for source, condition in _key_conditions(session, keys):
        for row in session.execute(select(*columns).where(condition)).mappings():
            ids[_key_of(source, row)] = row["id"]
    return ids


@dataclass
class Prepared:
    """Steps 1–2 of a batch: the items that need merging, parsed; the rest counted."""

    parsed: list[tuple[RawItem, PaperRecord]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def prepare_items(
    session: Session,
    items: Sequence[RawItem],
    parse: Callable[[Any], PaperRecord],
    *,
    record_sources: bool = True,
    db_lock: AbstractContextManager[Any] | None = None,
) -> Prepared:
    """Skip items whose fingerprint is stored, parse the others (`db_lock` guards the lookup
    when another thread writes through the same session)."""
    prepared = Prepared()
    known: set[str] = set()
    if record_sources:
        with db_lock or nullcontext():
            known = known_fingerprints(session, [item.fingerprint for item in items])
    seen_fingerprints: set[str] = set()
    for item in items:
        if item.fingerprint in known or item.fingerprint in seen_fingerprints:
            prepared.unchanged += 1
            continue
        seen_fingerprints.add(item.fingerprint)
        try:
            prepared.parsed.append((item, parse(item.value)))
        except (ItemError, ValueError, TypeError, KeyError, AttributeError) as exc:
            prepared.errors.append(f"{item.where}: {exc}")
    return prepared


def upsert_items(
    session: Session,
    items: Sequence[RawItem],
    parse: Callable[[Any], PaperRecord],
    *,
    dry_run: bool = False,
    record_sources: bool = True,
) -> UpsertResult:
    """Merge a batch of raw items into `papers`; see the module docstring for the steps.

    `record_sources=False` merges without looking up or storing fingerprints (re-parsing).
    """
    prepared = prepare_items(session, items, parse, record_sources=record_sources)
    return apply_prepared(session, prepared, dry_run=dry_run, record_sources=record_sources)


def apply_prepared(
    session: Session,
    prepared: Prepared,
    *,
    dry_run: bool = False,
    record_sources: bool = True,
    dry_run_created: set[Key] | None = None,
) -> UpsertResult:
    """Steps 3–4: load the stored rows, merge, write. `dry_run_created` carries the keys a
    dry run "created" in earlier batches, so a paper repeated later in a file is not new twice."""
    result = UpsertResult(unchanged=prepared.unchanged, errors=list(prepared.errors))
    parsed = prepared.parsed
    if not parsed:
        return result

    keys = {record.key for _, record in parsed}
    titles = {record.key: record.title for _, record in parsed if record.arxiv_id}
    stored = _load_rows(session, keys, titles)
    original = {key: dict(row) for key, row in stored.items()}
    created: dict[Key, dict[str, Any]] = {}
    sources: dict[tuple[Key, str], tuple[str, str]] = {}  # (key, source) → (source_id, fingerprint)

    for item, record in parsed:
        key = record.key
        row = stored.get(key) or created.get(key)
        if row is None and dry_run_created is not None and key in dry_run_created:
            result.unchanged += 1  # "created" by an earlier batch of this dry run
        elif row is None:
            created[key] = new_row(record)
            result.new += 1
        else:
            changes = merge(row, record)
            row.update(changes)
            if set(changes) - {"raw"}:
                result.updated += 1
            else:
                result.unchanged += 1
        sources[(key, record.source)] = (record.source_id, item.fingerprint)

    if dry_run:
        if dry_run_created is not None:
            dry_run_created.update(created)
        return result
    _write(session, created, stored, original, sources if record_sources else {}, result)
    return result


def _write(
    session: Session,
    created: dict[Key, dict[str, Any]],
    stored: dict[Key, dict[str, Any]],
    original: dict[Key, dict[str, Any]],
    sources: dict[tuple[Key, str], tuple[str, str]],
    result: UpsertResult,
) -> None:
    now = utcnow()
    _insert(session, PAPERS, [{**row, "created_at": now, "updated_at": now} for row in created.values()])
    ids = {key: row["id"] for key, row in stored.items()}
    if created:
        ids.update(_paper_ids(session, list(created)))
    updates = []
    for key, row in stored.items():
        before = original[key]
        changes = {name: row[name] for name in ROW_FIELDS if row[name] != before[name]}
        if changes:
            updates.append({"id": row["id"], **changes, "updated_at": now})
    if updates:
        session.execute(update(Paper), updates)
    result.paper_ids.update(ids[key] for key in created if key in ids)
    result.paper_ids.update(u["id"] for u in updates if set(u) - {"id", "raw", "updated_at"})

    existing: dict[tuple[int, str], tuple[int, str]] = {}
    stored_ids = sorted({ids[key] for key, _ in sources if key in stored})
    for chunk in _chunks(stored_ids):
        stmt = select(
            PaperSource.id, PaperSource.paper_id, PaperSource.source, PaperSource.fingerprint
        ).where(_in(session, PaperSource.paper_id, chunk))
        for ps_id, ps_paper, source, fingerprint in session.execute(stmt):
            existing[(ps_paper, source)] = (ps_id, fingerprint)
    inserts, fp_updates = [], []
    for (key, source), (source_id, fingerprint) in sources.items():
        found_id = ids.get(key)
        if found_id is None:  # inserted by a concurrent writer and skipped here: next run catches up
            continue
        paper_id = found_id
        found = existing.get((paper_id, source))
        if found is None:
            inserts.append(
                {"paper_id": paper_id, "source": source, "source_id": source_id, "fingerprint": fingerprint}
                | {"seen_at": now}
            )
        elif found[1] != fingerprint:
            fp_updates.append(
                {"id": found[0], "fingerprint": fingerprint, "source_id": source_id, "seen_at": now}
            )
    _insert(session, PAPER_SOURCES, inserts)
    if fp_updates:
        session.execute(update(PaperSource), fp_updates)


def upsert_records(
    session: Session, records: Sequence[PaperRecord], *, dry_run: bool = False
) -> UpsertResult:
    """Upsert already-parsed records (fingerprinted by their raw item); used by tests and re-parsing."""
    from app.ingest.records import fingerprint_value

    items = [RawItem(f"record {n}", record, fingerprint_value(record.source, record.raw)) for n, record in
             enumerate(records, start=1)]  # fmt: skip
    return upsert_items(session, items, lambda record: record, dry_run=dry_run)


# Reads of the papers table (export, demo, reparse, the arXiv look-ups) --------------------------


def count_papers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Paper)) or 0)


def papers_after(session: Session, last_id: int, limit: int) -> list[Paper]:
    """The next `limit` papers in id order after `last_id` (a keyset page: flat memory at any size)."""
    return list(session.scalars(select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(limit)))


def raw_items_after(session: Session, last_id: int, limit: int) -> list[tuple[int, dict[str, Any] | None]]:
    """(paper id, raw items by source) of the next `limit` papers after `last_id`, in id order."""
    rows = session.execute(
        select(Paper.id, Paper.raw).where(Paper.id > last_id).order_by(Paper.id).limit(limit)
    ).all()
    return [(paper_id, raw) for paper_id, raw in rows]


def arxiv_ids_missing_metadata(session: Session, limit: int) -> list[str]:
    """arXiv ids of papers another source brought in without arXiv metadata, newest first."""
    ids = session.scalars(
        select(Paper.arxiv_id)
        .where(Paper.arxiv_id.is_not(None), Paper.primary_category.is_(None))
        .order_by(Paper.id.desc())
        .limit(limit)
    )
    return [i for i in ids if i]


def mark_withdrawn(session: Session, arxiv_ids: Sequence[str]) -> int:
    """Flag the papers an upstream reported deleted; returns how many changed."""
    if not arxiv_ids:
        return 0
    result: Any = session.execute(
        update(Paper).where(Paper.arxiv_id.in_(arxiv_ids), Paper.withdrawn.is_(False)).values(withdrawn=True)
    )
    return int(result.rowcount or 0)
