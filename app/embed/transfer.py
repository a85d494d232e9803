"""Moving vectors between machines: a `.npy` matrix plus a text file of ids, one per row.

Ids are public paper ids: the arXiv id (without version) when known, else `source:source_id`.
Export also writes `<file>.json` with the model name and dimension; import reads it when present
and refuses a file whose model or dimension does not match, before writing anything. Vectors are
stored with the paper's current text hash: the file is trusted to encode the same text
(`title + ". " + abstract`, whitespace-normalised).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.embed import queries
from app.embed.vectors import check_finite, to_bytes
from app.ingest.records import parse_arxiv_id
from app.models.embedding import Embedding
from app.models.paper import Paper

IMPORT_CHUNK = 5000
FORMAT = "papertrend-vectors/1"


class TransferError(ValueError):
    """A vector file cannot be exported or imported; the message says why."""


@dataclass
class ExportReport:
    model: str
    count: int
    dim: int
    vectors_path: Path
    ids_path: Path


@dataclass
class ImportReport:
    model: str
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    unknown: int = 0
    duplicates: int = 0
    unknown_examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"imported {self.imported} of {self.rows} vector(s) for {self.model}"
        parts = []
        if self.unchanged:
            parts.append(f"{self.unchanged} already identical")
        if self.unknown:
            parts.append(f"{self.unknown} id(s) not in the database, e.g. {', '.join(self.unknown_examples)}")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate id(s), last one kept")
        return text + (f"; {'; '.join(parts)}" if parts else "")


def meta_path(vectors_path: Path) -> Path:
    return vectors_path.with_name(vectors_path.name + ".json")


def _public_id(arxiv_id: str | None, source: str, source_id: str) -> str:
    return arxiv_id or f"{source}:{source_id}"


def export_vectors(
    session: Session, model_name: str, vectors_path: Path, ids_path: Path, *, dtype: str = "float32"
) -> ExportReport:
    """Write every vector of `model_name` (ordered by paper id); files appear atomically when complete."""
    if dtype not in {"float32", "float16"}:
        raise TransferError("dtype must be float32 or float16")
    stmt = (
        select(Paper.id, Paper.arxiv_id, Paper.source, Paper.source_id, Embedding.dim)
        .join(Embedding, Embedding.paper_id == Paper.id)
        .where(Embedding.model == model_name)
        .order_by(Paper.id)
    )
    rows = session.execute(stmt).all()
    if not rows:
        raise TransferError(f"no vectors stored for model {model_name!r}; run `papertrend embed` first")
    dim = int(rows[0][4])
    position = {int(r[0]): i for i, r in enumerate(rows)}
    vectors_path.parent.mkdir(parents=True, exist_ok=True)
    ids_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_vec = vectors_path.with_name(vectors_path.name + ".partial")
    tmp_ids = ids_path.with_name(ids_path.name + ".partial")
    try:
        out = np.lib.format.open_memmap(tmp_vec, mode="w+", dtype=np.dtype(dtype), shape=(len(rows), dim))
        written = np.zeros(len(rows), dtype=bool)
        for chunk in queries.iter_vector_rows(session, model_name):
            for _emb_id, pid, blob in chunk:
                pos = position.get(pid)
                if pos is not None:
                    out[pos] = np.frombuffer(blob, dtype="<f4")
                    written[pos] = True
        if not written.all():
            raise TransferError("vectors changed while exporting; run the export again")
        out.flush()
        del out
        tmp_ids.write_text("".join(_public_id(r[1], r[2], r[3]) + "\n" for r in rows), encoding="utf-8")
        meta = {"format": FORMAT, "model": model_name, "dim": dim, "count": len(rows), "dtype": dtype}
        os.replace(tmp_vec, vectors_path)
        os.replace(tmp_ids, ids_path)
        meta_path(vectors_path).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    finally:
        tmp_vec.unlink(missing_ok=True)
        tmp_ids.unlink(missing_ok=True)
    return ExportReport(
        model=model_name, count=len(rows), dim=dim, vectors_path=vectors_path, ids_path=ids_path
    )


def _read_files(vectors_path: Path, ids_path: Path) -> tuple[np.ndarray, list[str], dict[str, object]]:
    try:
        matrix = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise TransferError(f"{vectors_path} is not a readable .npy file: {exc}") from exc
    if matrix.ndim != 2 or matrix.dtype.kind != "f":
        raise TransferError(
            f"{vectors_path} must hold a 2-d float matrix, found {matrix.dtype} {matrix.shape}"
        )
    try:
        ids = [line.strip() for line in ids_path.read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise TransferError(f"cannot read the ids file {ids_path}: {exc.strerror or exc}") from exc
    while ids and not ids[-1]:
        ids.pop()
    if len(ids) != matrix.shape[0]:
        raise TransferError(f"{ids_path} has {len(ids)} ids but {vectors_path} has {matrix.shape[0]} rows")
    if any(not i for i in ids):
        raise TransferError(f"{ids_path} has an empty line among the ids")
    meta: dict[str, object] = {}
    if meta_path(vectors_path).exists():
        try:
            meta = json.loads(meta_path(vectors_path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise TransferError(f"{meta_path(vectors_path)} is not valid JSON: {exc}") from exc
    return matrix, ids, meta


def _resolve_ids(session: Session, ids: list[str]) -> list[int | None]:
    """Paper id for each public id (None when unknown)."""
    arxiv_keys: dict[str, str] = {}
    source_keys: dict[str, tuple[str, str]] = {}
    for raw in ids:
        parsed = parse_arxiv_id(raw, strict=True)
        if parsed:
            arxiv_keys[raw] = parsed[0]
        elif ":" in raw:
            source, source_id = raw.split(":", 1)
            source_keys[raw] = (source, source_id)
    by_arxiv: dict[str, int] = {}
    wanted = sorted(set(arxiv_keys.values()))
    for start in range(0, len(wanted), queries.IN_CHUNK):
        chunk = wanted[start : start + queries.IN_CHUNK]
        by_arxiv.update(
            (str(a), int(pid))
            for pid, a in session.execute(select(Paper.id, Paper.arxiv_id).where(Paper.arxiv_id.in_(chunk)))
        )
    by_source: dict[tuple[str, str], int] = {}
    pairs = sorted(set(source_keys.values()))
    for start in range(0, len(pairs), 400):
        chunk_pairs = pairs[start : start + 400]
        stmt = select(Paper.id, Paper.source, Paper.source_id).where(
            tuple_(Paper.source, Paper.source_id).in_(chunk_pairs)
        )
        by_source.update(((s, sid), int(pid)) for pid, s, sid in session.execute(stmt))
    out: list[int | None] = []
    for raw in ids:
        if raw in arxiv_keys:
            out.append(by_arxiv.get(arxiv_keys[raw]))
        elif raw in source_keys:
            out.append(by_source.get(source_keys[raw]))
        else:
            out.append(None)
    return out


def import_vectors(
    session: Session,
    vectors_path: Path,
    ids_path: Path,
    *,
    model_name: str,
    expected_dim: int | None,
) -> ImportReport:
    """Load vectors computed elsewhere. Checks everything before the first write; flushes, never commits.

    `expected_dim` is the dimension of the model (None when unknown: then vectors already stored
    for the model set it). Rows are re-normalised only when their length is off by more than 1e-5,
    so a float32 export imports bit for bit.
    """
    matrix, ids, meta = _read_files(vectors_path, ids_path)
    file_model = meta.get("model")
    if file_model is not None and file_model != model_name:
        raise TransferError(
            f"{vectors_path} holds vectors of model {file_model!r}, not {model_name!r}; "
            f"pass --model {file_model} to import them under their own name"
        )
    dim = int(matrix.shape[1])
    known_dim = expected_dim or queries.stored_dim(session, model_name)
    if known_dim is not None and dim != known_dim:
        raise TransferError(
            f"{vectors_path} has vectors of dimension {dim}, but model {model_name} has {known_dim}"
        )
    if "dim" in meta and meta["dim"] != dim:
        raise TransferError(f"{vectors_path} has dimension {dim} but its metadata says {meta['dim']}")
    paper_ids = _resolve_ids(session, ids)
    report = ImportReport(model=model_name, rows=len(ids))
    last_row: dict[int, int] = {}
    for row, pid in enumerate(paper_ids):
        if pid is None:
            report.unknown += 1
            if len(report.unknown_examples) < 3:
                report.unknown_examples.append(ids[row])
            continue
        if pid in last_row:
            report.duplicates += 1
        last_row[pid] = row
    # Validate every row before writing any, so a bad file loses nothing.
    selected = sorted(last_row.items())
    for start in range(0, len(selected), IMPORT_CHUNK):
        rows = [r for _, r in selected[start : start + IMPORT_CHUNK]]
        block = np.asarray(matrix[rows], dtype=np.float32)
        try:
            check_finite(block)
        except ValueError as exc:
            raise TransferError(f"{vectors_path}: {exc}") from exc
        if (np.linalg.norm(block, axis=1) < 1e-6).any():
            raise TransferError(f"{vectors_path} has all-zero vector(s)")
    for start in range(0, len(selected), IMPORT_CHUNK):
        part = selected[start : start + IMPORT_CHUNK]
        hashes = _text_hashes(session, [pid for pid, _ in part])
        existing = _existing(session, model_name, [pid for pid, _ in part])
        block = np.asarray(matrix[[r for _, r in part]], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1)
        off = np.abs(norms - 1.0) > 1e-5
        block[off] /= norms[off, None]
        writes = []
        for (pid, _), vector in zip(part, block, strict=True):
            blob = to_bytes(vector)
            if existing.get(pid) == (hashes[pid], blob):
                report.unchanged += 1
                continue
            writes.append((pid, hashes[pid], blob))
        queries.replace_embeddings(session, model_name, dim, writes)
        report.imported += len(writes)
    session.flush()
    return report


def _text_hashes(session: Session, paper_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(paper_ids), queries.IN_CHUNK):
        chunk = paper_ids[start : start + queries.IN_CHUNK]
        found.update(
            (int(p), h)
            for p, h in session.execute(select(Paper.id, Paper.text_hash).where(Paper.id.in_(chunk)))
        )
    return found


def _existing(session: Session, model_name: str, paper_ids: list[int]) -> dict[int, tuple[str, bytes]]:
    found: dict[int, tuple[str, bytes]] = {}
    for start in range(0, len(paper_ids), queries.IN_CHUNK):
        chunk = paper_ids[start : start + queries.IN_CHUNK]
        stmt = select(Embedding.paper_id, Embedding.text_hash, Embedding.vector).where(
            Embedding.model == model_name, Embedding.paper_id.in_(chunk)
        )
        found.update((int(p), (h, bytes(v))) for p, h, v in session.execute(stmt))
    return found
