"""Pure helpers for float32 vectors: bytes round trips, normalisation, validation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


def to_bytes(vector: npt.NDArray[np.floating]) -> bytes:
    """Little-endian float32 bytes of one vector (the storage format of `Embedding.vector`)."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes, dim: int | None = None) -> Matrix:
    vector = np.frombuffer(blob, dtype="<f4").astype(np.float32, copy=False)
    if dim is not None and vector.shape[0] != dim:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dim}")
    return vector


def stack_blobs(blobs: list[bytes], dim: int) -> Matrix:
    """Many stored vectors as one (n, dim) matrix; one join + one frombuffer is far faster than n of them."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    joined = b"".join(blobs)
    if len(joined) != len(blobs) * dim * 4:
        raise ValueError(f"stored vectors do not all have dimension {dim}")
    return np.frombuffer(joined, dtype="<f4").astype(np.float32).reshape(len(blobs), dim)


def normalize_rows(matrix: npt.NDArray[np.floating]) -> Matrix:
    """L2-normalised float32 copy; all-zero rows stay zero instead of becoming NaN."""
    out = np.array(matrix, dtype=np.float32, copy=True)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-d matrix, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def check_finite(matrix: npt.NDArray[np.floating]) -> None:
    if not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix)).any(axis=1).sum())
        raise ValueError(f"{bad} vector(s) contain NaN or infinite values")


def exact_top_k(
    queries: npt.NDArray[np.floating], base: npt.NDArray[np.floating], k: int, *, chunk: int = 65_536
) -> npt.NDArray[np.int64]:
    """Row positions in `base` of the k largest inner products per query, best first (brute force)."""
    q = np.asarray(queries, dtype=np.float32)
    best_scores = np.full((q.shape[0], 0), -np.inf, dtype=np.float32)
    best_pos = np.zeros((q.shape[0], 0), dtype=np.int64)
    for start in range(0, base.shape[0], chunk):
        scores = q @ np.asarray(base[start : start + chunk], dtype=np.float32).T
        keep = min(k, scores.shape[1])
        part = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, part, 1)], axis=1)
        merged_pos = np.concatenate([best_pos, part + start], axis=1)
        keep = min(k, merged_scores.shape[1])
        top = np.argpartition(-merged_scores, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(merged_scores, top, 1)
        best_pos = np.take_along_axis(merged_pos, top, 1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_pos, order, 1)


def recall_at_k(truth: npt.NDArray[np.int64], found: npt.NDArray[np.int64], k: int) -> float:
    """Mean share of the true top-k found in the returned top-k."""
    if truth.shape[0] == 0:
        return 1.0
    hits = [len(set(t[:k].tolist()) & set(f[:k].tolist())) / k for t, f in zip(truth, found, strict=True)]
    return float(np.mean(hits))
