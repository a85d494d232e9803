"""Keeping the saved vector index in step with the database; the index itself is in `faiss_index`.

The database is the truth and the index file a derived copy that can always be rebuilt. The
index header keeps the largest embedding row id it includes (ids only grow: a replaced vector
gets a new row), so bringing it up to date reads only the rows written since, and a deleted
paper is noticed because the counts differ. A missing, damaged or incompatible file, or one whose
kind no longer suits the size (exact past the threshold, IVF cells trained on far fewer vectors
than it now holds), is rebuilt from the database.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from app.embed import queries
from app.embed.faiss_index import (
    EXACT,
    IVF_SQ8,
    IndexFormatError,
    VectorIndex,
    choose_kind,
    nlist_for,
    training_size,
)
from app.embed.vectors import stack_blobs

__all__ = ["IndexFormatError", "IndexReport", "VectorIndex", "ensure_index", "index_path", "rebuild_index"]

log = logging.getLogger("papertrend.embed")

# An IVF index is retrained once it holds this many times the vectors its cells were trained on.
RETRAIN_GROWTH = 8


@dataclass
class IndexReport:
    action: str  # "loaded" | "updated" | "rebuilt"
    added: int = 0
    removed: int = 0
    reason: str = ""


def index_path(index_dir: Path, model_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("._") or "model"
    return index_dir / f"{safe}.faiss"


def ensure_index(
    session: Session,
    index_dir: Path,
    model_name: str,
    *,
    exact_threshold: int,
    nprobe: int | None = None,
    report: IndexReport | None = None,
) -> VectorIndex:
    """The saved index, brought up to date with the database (and saved again if it changed)."""
    report = report if report is not None else IndexReport(action="loaded")
    path = index_path(index_dir, model_name)
    index, reason = _load_compatible(session, path, model_name, nprobe)
    if index is None:
        report.action, report.reason = "rebuilt", reason
        return rebuild_index(session, index_dir, model_name, exact_threshold=exact_threshold, nprobe=nprobe)
    changed = _catch_up(session, index, report)
    db_count = queries.count_embeddings(session, model_name)
    if index.ntotal != db_count:
        gone = np.setdiff1d(
            index.ids(), np.asarray(queries.embedded_paper_ids(session, model_name), np.int64)
        )
        report.removed += index.remove(gone)
        changed = changed or bool(gone.size)
    stale_kind = _kind_is_stale(index, exact_threshold)
    if index.ntotal != db_count or stale_kind:
        report.action, report.reason = "rebuilt", stale_kind or "index and database disagree"
        return rebuild_index(session, index_dir, model_name, exact_threshold=exact_threshold, nprobe=nprobe)
    if changed:
        report.action = "updated"
        index.save(path)
    return index


def _load_compatible(
    session: Session, path: Path, model_name: str, nprobe: int | None
) -> tuple[VectorIndex | None, str]:
    if not path.exists():
        return None, "no saved index"
    try:
        index = VectorIndex.load(path, nprobe=nprobe)
    except (IndexFormatError, OSError) as exc:
        log.warning("vector index %s unusable, rebuilding: %s", path, exc)
        return None, str(exc)
    dim = queries.stored_dim(session, model_name)
    if index.model_name != model_name or (dim is not None and dim != index.dim):
        return None, f"saved index is for {index.model_name} ({index.dim}-d)"
    if index.info.watermark > queries.max_embedding_id(session, model_name):
        # The database was replaced or restored under the index: its watermark means nothing now.
        return None, "saved index is newer than the database"
    return index, ""


def _catch_up(session: Session, index: VectorIndex, report: IndexReport) -> bool:
    changed = False
    for rows in queries.iter_vector_rows(session, index.model_name, min_embedding_id=index.info.watermark):
        ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        index.add(ids, stack_blobs([r[2] for r in rows], index.dim), replace=True)
        index.info.watermark = rows[-1][0]
        report.added += len(rows)
        changed = True
    return changed


def _kind_is_stale(index: VectorIndex, exact_threshold: int) -> str:
    n = index.ntotal
    if index.kind == EXACT and choose_kind(n, exact_threshold) == IVF_SQ8:
        return f"{n} vectors passed the exact-search threshold ({exact_threshold})"
    if index.kind == IVF_SQ8 and choose_kind(n * 2, exact_threshold) == EXACT:
        # The factor 2 keeps an index near the threshold from flipping kinds on every run.
        return f"{n} vectors fell well below the exact-search threshold"
    if index.kind == IVF_SQ8 and n > RETRAIN_GROWTH * max(index.info.trained_size, 1):
        return f"IVF cells were trained on {index.info.trained_size} vectors, index now holds {n}"
    return ""


def rebuild_index(
    session: Session,
    index_dir: Path,
    model_name: str,
    *,
    exact_threshold: int,
    nprobe: int | None = None,
    seed: int = 0,
) -> VectorIndex:
    """Build the index from every stored vector of `model_name` and save it (atomically)."""
    dim = queries.stored_dim(session, model_name)
    expected = queries.count_embeddings(session, model_name)
    kind = choose_kind(expected, exact_threshold)
    # An approximate index quantises to 8 bits anyway, so collecting in float16 costs nothing
    # and halves the peak memory of a large rebuild (2.5M vectors: 1.9 GB instead of 3.8 GB).
    dtype = np.float32 if kind == EXACT else np.float16
    ids_parts: list[np.ndarray] = []
    vec_parts: list[np.ndarray] = []
    watermark = 0
    for rows in queries.iter_vector_rows(session, model_name):
        ids_parts.append(np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)))
        vec_parts.append(stack_blobs([r[2] for r in rows], len(rows[0][2]) // 4).astype(dtype, copy=False))
        watermark = rows[-1][0]
    if dim is None or not ids_parts:
        # Nothing stored yet: an empty placeholder; the first vectors of another size rebuild it.
        index = VectorIndex.create(dim or 384, model_name=model_name, kind=EXACT, nprobe=nprobe)
    else:
        ids = np.concatenate(ids_parts)
        vectors = np.concatenate(vec_parts)
        del vec_parts
        n = ids.shape[0]
        kind = choose_kind(n, exact_threshold)
        index = VectorIndex.create(dim, model_name=model_name, kind=kind, nlist=nlist_for(n), nprobe=nprobe)
        if kind == IVF_SQ8:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(n, size=training_size(index.info.nlist, n), replace=False))
            index.train(_unit_rows(vectors[pick]))
        for start in range(0, n, 100_000):
            index.add(
                ids[start : start + 100_000], _unit_rows(vectors[start : start + 100_000]), replace=False
            )
        index.calibrate(ids, vectors, seed=seed)
    index.info.watermark = watermark
    index.save(index_path(index_dir, model_name))
    return index


def _unit_rows(block: np.ndarray) -> np.ndarray:
    if block.dtype == np.float32:
        return block
    out = block.astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)  # float16 moved lengths by ~1e-3
    return out
