"""Embedding service: embed the papers that need it, and read vectors back in bulk.

A paper needs an embedding for a model when it has none, or when its `text_hash` differs from the
hash stored with its vector (the title or abstract changed, e.g. a new arXiv version). Unchanged
text is never embedded twice. Nothing here commits; callers that process a large backlog call
`embed_pending` with a `limit` once per transaction so a crash loses one chunk, not the night.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from app.embed import queries
from app.embed.encoder import Encoder
from app.embed.fulltext import refresh_search_vectors
from app.embed.transfer import ExportReport, ImportReport, TransferError, export_vectors, import_vectors
from app.embed.vectors import Matrix, stack_blobs, to_bytes
from app.ingest.records import embedding_text

if TYPE_CHECKING:
    from app.embed.faiss_index import VectorIndex

__all__ = [
    "EmbedError",
    "EmbedReport",
    "ExportReport",
    "ImportReport",
    "TransferError",
    "count_pending",
    "embed_pending",
    "ensure_index",
    "export_vectors",
    "import_vectors",
    "load_vectors",
]

# Texts read, encoded and written per round: large enough that length sorting pays off,
# small enough that a 2.5M-paper backfill never holds more than a few MB of text.
CHUNK_TEXTS = 4096


class EmbedError(RuntimeError):
    """Embedding cannot proceed (for example the stored vectors have another dimension)."""


@dataclass
class EmbedReport:
    model: str
    pending: int = 0  # papers that needed a vector when the run started
    encoded: int = 0  # texts sent to the encoder
    new: int = 0  # papers that had no vector
    replaced: int = 0  # papers whose text changed since their vector was made
    seconds: float = 0.0
    encode_seconds: float = 0.0
    dry_run: bool = False

    @property
    def texts_per_second(self) -> float:
        return self.encoded / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"dry run: {self.pending} paper(s) would be embedded with {self.model} "
                f"({self.new} new, {self.replaced} changed text)"
            )
        return (
            f"embedded {self.encoded} paper(s) with {self.model} "
            f"({self.new} new, {self.replaced} changed text) "
            f"in {self.seconds:.1f}s ({self.texts_per_second:.1f} texts/s)"
        )


def count_pending(session: Session, model_name: str) -> int:
    """Papers that need a vector for `model_name` (none yet, or their text changed)."""
    new, stale = queries.count_pending(session, model_name)
    return new + stale


def ensure_index(session: Session, index_dir: Path, model_name: str, *, exact_threshold: int) -> VectorIndex:
    """The search indexes brought up to date with the database.

    The full-text vectors that ingest left unfilled (PostgreSQL, `refresh_search_vectors`), then
    the saved vector index (see `app.embed.index.ensure_index`).
    """
    from app.embed.index import ensure_index as _ensure_index  # faiss loads only when an index is wanted

    refresh_search_vectors(session)
    return _ensure_index(session, index_dir, model_name, exact_threshold=exact_threshold)


def embed_pending(
    session: Session,
    encoder: Encoder,
    *,
    batch_size: int,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> EmbedReport:
    """Embed every paper whose vector for `encoder.model_name` is missing or stale (at most `limit`).

    The encoder sorts each chunk by length so batches pad little. Rows are flushed, not committed.
    """
    started = time.perf_counter()
    model = encoder.model_name
    new, stale = queries.count_pending(session, model)
    report = EmbedReport(model=model, pending=new + stale, dry_run=dry_run)
    if dry_run or report.pending == 0:
        report.new, report.replaced = new, stale
        report.seconds = time.perf_counter() - started
        return report
    have = queries.stored_dim(session, model)
    if have is not None and have != encoder.dim:
        raise EmbedError(
            f"stored {model} vectors have dimension {have} but the encoder gives {encoder.dim}; "
            "use another model name or delete the old vectors"
        )
    remaining = limit if limit is not None else report.pending
    after_id = 0
    while remaining > 0:
        # A GPU batch of 512 needs bigger rounds, or each round's first batch idles the device.
        chunk = max(CHUNK_TEXTS, batch_size * 32)
        papers = queries.pending_papers(session, model, after_id=after_id, limit=min(chunk, remaining))
        if not papers:
            break
        after_id = papers[-1].paper_id
        texts = [embedding_text(p.title, p.abstract) for p in papers]
        t0 = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=batch_size, progress=progress)
        report.encode_seconds += time.perf_counter() - t0
        if vectors.shape != (len(texts), encoder.dim):
            raise EmbedError(
                f"encoder returned shape {vectors.shape} for {len(texts)} texts of dim {encoder.dim}"
            )
        rows = [(p.paper_id, p.text_hash, to_bytes(v)) for p, v in zip(papers, vectors, strict=True)]
        queries.replace_embeddings(session, model, encoder.dim, rows)
        session.flush()
        report.encoded += len(papers)
        report.replaced += sum(p.stale for p in papers)
        report.new += sum(not p.stale for p in papers)
        remaining -= len(papers)
    report.seconds = time.perf_counter() - started
    return report


def load_vectors(
    session: Session, model_name: str, paper_ids: list[int] | None = None
) -> tuple[list[int], Matrix]:
    """Vectors of a model as (paper ids, float32 matrix with one row per id).

    Without `paper_ids`: every embedded paper, ordered by paper id. With them: the papers of
    that list that have a vector, in the list's order (papers without one are left out).
    """
    if paper_ids is None:
        ids, blobs = queries.all_vectors(session, model_name)
    else:
        found = queries.vectors_for_papers(session, model_name, paper_ids)
        seen: set[int] = set()
        ids = []
        for pid in paper_ids:
            if pid in found and pid not in seen:
                seen.add(pid)
                ids.append(pid)
        blobs = [found[pid] for pid in ids]
    if not blobs:
        dim = queries.stored_dim(session, model_name) or 0
        return [], np.zeros((0, dim), dtype=np.float32)
    dim = len(blobs[0]) // 4
    return ids, stack_blobs(blobs, dim)
