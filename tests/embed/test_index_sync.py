"""ensure_index keeps the saved index in step with the database, without full rebuilds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.embed.encoder import HashingEncoder
from app.embed.faiss_index import IVF_SQ8, VectorIndex
from app.embed.index import IndexReport, ensure_index, index_path, rebuild_index
from app.embed.service import embed_pending
from app.embed.vectors import to_bytes
from app.ingest.records import embedding_text
from app.models import Embedding, Paper
from tests.embed.embed_support import add_small_corpus, set_abstract
from tests.factories import add_paper

ENC = HashingEncoder(dim=32, model_name="hash-32")


def _ensure(db: Session, folder: Path, threshold: int = 50_000) -> tuple[VectorIndex, IndexReport]:
    report = IndexReport(action="loaded")
    index = ensure_index(db, folder, ENC.model_name, exact_threshold=threshold, report=report)
    return index, report


def _query(paper: Paper) -> np.ndarray:
    return ENC.encode([embedding_text(paper.title, paper.abstract)])


def test_build_then_catch_up_with_new_changed_and_deleted_papers(db: Session, tmp_path: Path) -> None:
    papers = add_small_corpus(db)
    embed_pending(db, ENC, batch_size=8)
    index, report = _ensure(db, tmp_path)
    assert (report.action, index.ntotal, index.kind) == ("rebuilt", 5, "exact")
    path = index_path(tmp_path, ENC.model_name)
    assert path.exists() and VectorIndex.read_header(path)["watermark"] > 0

    stamp = path.stat().st_mtime_ns
    index, report = _ensure(db, tmp_path)
    assert (report.action, report.added, index.ntotal) == ("loaded", 0, 5)
    assert path.stat().st_mtime_ns == stamp  # nothing changed, nothing written

    extra = add_paper(db, "Sparse mixture of experts", "Routing tokens to experts.", arxiv_id="2601.20000")
    set_abstract(db, papers[1], "Binary neural networks with one-bit activations.")
    embed_pending(db, ENC, batch_size=8)
    index, report = _ensure(db, tmp_path)
    assert (report.action, report.added, index.ntotal) == ("updated", 2, 6)
    for paper in (extra, papers[1]):
        scores, ids = index.search(_query(paper), 1)
        assert ids[0, 0] == paper.id and scores[0, 0] > 0.999

    db.delete(papers[4])
    db.flush()
    index, report = _ensure(db, tmp_path)
    assert report.removed == 1 and index.ntotal == 5
    assert papers[4].id not in set(index.ids().tolist())
    assert VectorIndex.load(path).ntotal == 5  # the saved file follows


def test_unusable_or_foreign_files_are_rebuilt(db: Session, tmp_path: Path) -> None:
    add_small_corpus(db)
    embed_pending(db, ENC, batch_size=8)
    path = index_path(tmp_path, ENC.model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage")
    index, report = _ensure(db, tmp_path)
    assert report.action == "rebuilt" and index.ntotal == 5

    VectorIndex.create(32, model_name="another-model").save(path)
    index, report = _ensure(db, tmp_path)
    assert (
        report.action == "rebuilt" and "another-model" in report.reason and index.model_name == ENC.model_name
    )

    # A database restored from an older backup: the index's watermark is ahead of it.
    index.info.watermark += 1_000_000
    index.save(path)
    index, report = _ensure(db, tmp_path)
    assert report.action == "rebuilt" and "newer than the database" in report.reason


def test_empty_database_gives_an_empty_index(db: Session, tmp_path: Path) -> None:
    index, report = _ensure(db, tmp_path)
    assert index.ntotal == 0 and report.action == "rebuilt"
    assert index.search(np.ones((1, index.dim), np.float32), 3)[1].tolist() == [[-1]]


def _bulk_vectors(db: Session, n: int, dim: int = 16) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, dim))
    vecs = centres[rng.integers(0, 40, n)] + 0.4 * rng.normal(size=(n, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    db.execute(
        insert(Paper),
        [
            {"source": "bulk", "source_id": str(i), "title": f"p{i}", "abstract": "", "text_hash": "h"}
            for i in range(n)
        ],
    )
    ids = db.execute(select(Paper.id).where(Paper.source == "bulk").order_by(Paper.id)).scalars().all()
    db.execute(
        insert(Embedding),
        [
            {"paper_id": pid, "model": ENC.model_name, "text_hash": "h", "dim": dim, "vector": to_bytes(v)}
            for pid, v in zip(ids, vecs, strict=True)
        ],
    )


def test_kind_follows_the_size(db: Session, tmp_path: Path) -> None:
    _bulk_vectors(db, 10_200)
    index, report = _ensure(db, tmp_path, threshold=10_000)
    assert index.kind == IVF_SQ8 and index.ntotal == 10_200 and index.info.recall_at_10 >= 0.95
    # Far below a raised threshold the exact index comes back.
    index, report = _ensure(db, tmp_path, threshold=100_000)
    assert index.kind == "exact" and report.action == "rebuilt" and "below" in report.reason
    # An explicit rebuild keeps every vector.
    db.execute(delete(Embedding).where(Embedding.paper_id.in_(list(index.ids()[:200].tolist()))))
    rebuilt = rebuild_index(db, tmp_path, ENC.model_name, exact_threshold=100_000)
    assert rebuilt.ntotal == 10_000
