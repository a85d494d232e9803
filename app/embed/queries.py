"""Database reads and writes of embedding rows (no commits; bulk statements for speed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.models._common import utcnow
from app.models.embedding import Embedding
from app.models.paper import Paper

# Stays well under SQLite's bound-parameter limit and keeps PostgreSQL plans simple.
IN_CHUNK = 900


@dataclass(frozen=True)
class PendingPaper:
    paper_id: int
    title: str
    abstract: str
    text_hash: str
    stale: bool  # an embedding exists but for an older text


def _pending_filter(model_name: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    join_on = and_(Embedding.paper_id == Paper.id, Embedding.model == model_name)
    where = (Embedding.id.is_(None)) | (Embedding.text_hash != Paper.text_hash)
    return join_on, where


def count_pending(session: Session, model_name: str) -> tuple[int, int]:
    """(papers without an embedding for this model, papers whose text changed since)."""
    join_on, where = _pending_filter(model_name)
    stmt = (
        select(func.count(), func.count(Embedding.id))
        .select_from(Paper)
        .outerjoin(Embedding, join_on)
        .where(where)
    )
    total, stale = session.execute(stmt).one()
    return int(total) - int(stale), int(stale)


def pending_papers(session: Session, model_name: str, *, after_id: int, limit: int) -> list[PendingPaper]:
    """The next papers (by id, after `after_id`) that need an embedding for `model_name`."""
    join_on, where = _pending_filter(model_name)
    stmt = (
        select(Paper.id, Paper.title, Paper.abstract, Paper.text_hash, Embedding.id)
        .select_from(Paper)
        .outerjoin(Embedding, join_on)
        .where(where, Paper.id > after_id)
        .order_by(Paper.id)
        .limit(limit)
    )
    return [
        PendingPaper(pid, title or "", abstract or "", text_hash, emb_id is not None)
        for pid, title, abstract, text_hash, emb_id in session.execute(stmt)
    ]


def stored_dim(session: Session, model_name: str) -> int | None:
    """Dimension of the vectors already stored for a model (None when there are none)."""
    return session.execute(select(Embedding.dim).where(Embedding.model == model_name).limit(1)).scalar()


def count_embeddings(session: Session, model_name: str) -> int:
    return int(session.execute(select(func.count()).where(Embedding.model == model_name)).scalar_one())


def max_embedding_id(session: Session, model_name: str) -> int:
    return int(
        session.execute(select(func.max(Embedding.id)).where(Embedding.model == model_name)).scalar() or 0
    )


def replace_embeddings(
    session: Session, model_name: str, dim: int, rows: Sequence[tuple[int, str, bytes]]
) -> None:
    """Store (paper_id, text_hash, vector bytes) rows, replacing any older vector of the same papers.

    Delete-then-insert (not update) gives the new row a new, larger id: the saved index uses
    the largest id it has seen as a watermark to find what changed since.
    """
    if not rows:
        return
    paper_ids = [r[0] for r in rows]
    for chunk in _chunks(paper_ids, IN_CHUNK):
        session.execute(delete(Embedding).where(Embedding.model == model_name, Embedding.paper_id.in_(chunk)))
    now = utcnow()
    session.execute(
        insert(Embedding),
        [
            {
                "paper_id": pid,
                "model": model_name,
                "text_hash": h,
                "dim": dim,
                "vector": blob,
                "created_at": now,
            }
            for pid, h, blob in rows
        ],
    )


def iter_vector_rows(
    session: Session,
    model_name: str,
    *,
    min_embedding_id: int = 0,
    chunk: int = 20_000,
) -> Iterator[list[tuple[int, int, bytes]]]:
    """(embedding id, paper id, vector bytes) in embedding-id order, a chunk at a time (keyset paging)."""
    last = min_embedding_id
    while True:
        stmt = (
            select(Embedding.id, Embedding.paper_id, Embedding.vector)
            .where(Embedding.model == model_name, Embedding.id > last)
            .order_by(Embedding.id)
            .limit(chunk)
        )
        rows = [(int(a), int(b), bytes(c)) for a, b, c in session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def vectors_for_papers(session: Session, model_name: str, paper_ids: Iterable[int]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    for chunk in _chunks(list(paper_ids), IN_CHUNK):
        stmt = select(Embedding.paper_id, Embedding.vector).where(
            Embedding.model == model_name, Embedding.paper_id.in_(chunk)
        )
        found.update((int(pid), bytes(vec)) for pid, vec in session.execute(stmt))
    return found


def all_vectors(session: Session, model_name: str) -> tuple[list[int], list[bytes]]:
    stmt = (
        select(Embedding.paper_id, Embedding.vector)
        .where(Embedding.model == model_name)
        .order_by(Embedding.paper_id)
    )
    ids: list[int] = []
    blobs: list[bytes] = []
    for pid, vec in session.execute(stmt):
        ids.append(int(pid))
        blobs.append(bytes(vec))
    return ids, blobs


def embedded_paper_ids(session: Session, model_name: str) -> list[int]:
    stmt = select(Embedding.paper_id).where(Embedding.model == model_name)
    return [int(pid) for pid in session.execute(stmt).scalars()]


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
