"""The faiss vector index: exact and IVF-SQ8, ids, filters, atomic versioned files, recall."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.embed.faiss_index import IVF_SQ8, IndexFormatError, VectorIndex, choose_kind, nlist_for
from app.embed.vectors import exact_top_k, recall_at_k

# The project's shared material sits next to the repository (../shared/data).
SHARED = Path(
    os.environ.get("PAPERTREND_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SHARED_VECTORS = SHARED / "arxiv_cs_sample25k_minilm.f16.npy"


def clustered(n: int, dim: int = 32, centres: int = 60, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres: neighbourhoods exist, as in real embeddings."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.45 * rng.normal(size=(n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_index_searches_by_paper_id_and_ids_survive_deletions() -> None:
    vecs = clustered(200)
    ids = np.arange(1000, 1200)
    index = VectorIndex.build(ids, vecs, model_name="m", exact_threshold=1000)
    assert index.kind == "exact" and index.ntotal == 200
    scores, found = index.search(vecs[:3], 5)
    assert list(found[:, 0]) == [1000, 1001, 1002]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first

    assert index.remove([1000, 1001, 5]) == 2
    assert index.ntotal == 198
    _, found = index.search(vecs[2:3], 1)
    assert found[0, 0] == 1002  # the other ids did not shift
    assert sorted(index.ids().tolist()) == list(range(1002, 1200))


def test_add_replaces_the_vector_of_an_existing_id() -> None:
    vecs = clustered(50)
    index = VectorIndex.build(np.arange(50), vecs, model_name="m", exact_threshold=1000)
    index.add([7], vecs[30:31])
    assert index.ntotal == 50
    _, found = index.search(vecs[30:31], 2)
    assert set(found[0].tolist()) == {7, 30}


def test_search_with_allowed_ids_returns_only_those() -> None:
    vecs = clustered(12_000, seed=3)
    allowed = np.arange(0, 12_000, 97)
    for kind in ("exact", IVF_SQ8):
        index = VectorIndex.build(np.arange(12_000), vecs, model_name="m", exact_threshold=0, kind=kind)
        _, found = index.search(vecs[:4], 10, allowed_ids=allowed)
        assert set(found.ravel().tolist()) <= set(allowed.tolist())
        assert (found >= 0).all()  # a selective filter still fills k places (more cells are scanned)


def test_ivf_index_is_chosen_above_the_threshold_and_calibrated_to_recall() -> None:
    assert choose_kind(5_000, 1_000) == "exact"  # too few vectors for cells, whatever the threshold
    assert choose_kind(20_000, 50_000) == "exact" and choose_kind(60_000, 50_000) == IVF_SQ8
    both = clustered(15_300, seed=1)
    vecs, held_out = both[:15_000], both[15_000:]  # queries from the same distribution, not indexed
    index = VectorIndex.build(np.arange(15_000), vecs, model_name="m", exact_threshold=10_000)
    assert index.kind == IVF_SQ8 and index.info.nlist == nlist_for(15_000)
    assert index.info.recall_at_10 is not None and index.info.recall_at_10 >= 0.95
    truth = exact_top_k(held_out, vecs, 10)
    _, found = index.search(held_out, 10)
    assert recall_at_k(truth, found, 10) >= 0.95


def test_save_and_load_round_trip_atomically(tmp_path: Path) -> None:
    vecs = clustered(12_000, seed=4)
    index = VectorIndex.build(np.arange(12_000), vecs, model_name="mini", exact_threshold=0, kind=IVF_SQ8)
    index.info.watermark = 4242
    path = tmp_path / "idx" / "mini.faiss"
    index.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["mini.faiss"]  # no temporary file left behind
    header = VectorIndex.read_header(path)
    assert header["format"] == 1 and header["model"] == "mini" and header["dim"] == 32
    assert header["kind"] == IVF_SQ8 and header["watermark"] == 4242 and header["nprobe"] == index.nprobe
    loaded = VectorIndex.load(path)
    assert (loaded.ntotal, loaded.kind, loaded.nprobe, loaded.info.watermark) == (
        12_000,
        IVF_SQ8,
        index.nprobe,
        4242,
    )
    assert np.array_equal(loaded.search(vecs[:5], 10)[1], index.search(vecs[:5], 10)[1])


def test_damaged_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.faiss"
    VectorIndex.build(np.arange(10), clustered(10), model_name="m", exact_threshold=100).save(path)
    good = path.read_bytes()
    path.write_bytes(good[:-20])
    with pytest.raises(IndexFormatError, match="truncated"):
        VectorIndex.load(path)
    path.write_bytes(b"not an index at all")
    with pytest.raises(IndexFormatError, match="not a papertrend vector index"):
        VectorIndex.load(path)
    path.write_bytes(good.replace(b'"format": 1', b'"format": 9'))
    with pytest.raises(IndexFormatError, match="format 9"):
        VectorIndex.load(path)


def test_empty_index_and_bad_queries() -> None:
    index = VectorIndex.create(8, model_name="m")
    _, ids = index.search(np.ones((1, 8), np.float32), 5)
    assert (ids == -1).all() and index.ntotal == 0
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.ones((1, 9), np.float32), 5)
    with pytest.raises(ValueError, match="expected 2 vectors of dimension 8"):
        index.add([1, 2], np.ones((2, 3), np.float32))


@pytest.mark.skipif(not SHARED_VECTORS.exists(), reason=f"shared 25k vectors not found at {SHARED_VECTORS}")
def test_approximate_agrees_with_exact_on_the_25k_real_vectors() -> None:
    vecs = np.load(SHARED_VECTORS).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    rng = np.random.default_rng(7)
    order = rng.permutation(vecs.shape[0])
    queries, base, ids = vecs[order[:500]], vecs[order[500:]], order[500:].astype(np.int64)
    approx = VectorIndex.build(ids, base, model_name="all-MiniLM-L6-v2", exact_threshold=0, kind=IVF_SQ8)
    exact = VectorIndex.build(ids, base, model_name="all-MiniLM-L6-v2", exact_threshold=10**9)
    assert exact.kind == "exact"
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    assert recall_at_k(truth, found, 10) >= 0.95
