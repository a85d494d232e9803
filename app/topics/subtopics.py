"""Subtopics: the second level of the hierarchy, k-means inside each research area.

An area ("Computer Vision", "Natural Language Processing") is too broad to follow; a community follows
something like "Gaussian Splatting" or "Machine Translation". Each area is split by spherical k-means
into about one subtopic per `subtopic_size(n)` of its papers (never below `MIN_SUBTOPIC_SIZE`), so the
number of subtopics grows with the corpus (about sqrt(n): 9 on 73 papers, 36 on 1.3k, 160 on 25k, 500
on 250k) and every paper gets exactly one subtopic, inside its own area.

Pure: arrays in, arrays out (naming lives in `naming`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.topics.kmeans import normalize_rows, spherical_kmeans

# A subtopic with fewer papers is not something to follow: it is noise around a larger one.
MIN_SUBTOPIC_SIZE = 8
# Papers per subtopic as a multiple of sqrt(n). Subtopics that name the same thing are merged after
# naming, so k-means cuts finer than the result: 0.7 sqrt(n) gives about 200 subtopics at 25k.
SIZE_FACTOR = 0.7


def subtopic_size(n: int) -> int:
    """Target papers per subtopic for a corpus of n papers: sqrt(n), at least MIN_SUBTOPIC_SIZE.

    sqrt(n) papers per subtopic gives about sqrt(n) subtopics: 158 on the 25k sample (the order of
    the 100-250 concepts arXiv cs communities follow), 36 on the 1.3k demo, 500 at 250k papers. A fixed
    size would give 1,700 subtopics at 250k, most too thin to show a trend.
    """
    return max(MIN_SUBTOPIC_SIZE, round(SIZE_FACTOR * math.sqrt(max(n, 1))))


@dataclass
class Subtopic:
    """One subtopic as clustered: its area (index into the caller's area list), members and centroid."""

    area: int
    rows: np.ndarray  # row indices, sorted
    scores: np.ndarray  # cosine to the centroid, clipped to [0, 1]
    centroid: np.ndarray  # unit vector


def split_areas(
    x: np.ndarray, area_rows: list[np.ndarray], *, n_total: int, seed: int = 0, size: int | None = None
) -> list[Subtopic]:
    """Split every area into subtopics of about `size` papers (default `subtopic_size(n_total)`).

    An area smaller than twice the minimum stays one subtopic. Clusters that k-means leaves below
    MIN_SUBTOPIC_SIZE are folded into the nearest remaining one of the same area.
    """
    target = size or subtopic_size(n_total)
    out: list[Subtopic] = []
    for a, rows in enumerate(area_rows):
        rows = np.sort(np.asarray(rows, dtype=np.int64))
        if len(rows) == 0:
            continue
        k = max(1, min(round(len(rows) / target), len(rows) // MIN_SUBTOPIC_SIZE))
        sub = x[rows]
        if k == 1:
            labels = np.zeros(len(rows), dtype=np.int64)
            centroids = normalize_rows(sub.mean(axis=0, keepdims=True))
        else:
            # Seeded on a sample of 40 papers per subtopic and 10 iterations: inside one area the
            # clusters are many and small, and this is most of a build's clustering time otherwise.
            centroids, labels, _ = spherical_kmeans(sub, k, seed=seed + a, niter=10, seed_sample=40 * k)
            labels, centroids = _fold_small(sub, labels, centroids)
        cos = np.einsum("ij,ij->i", sub, centroids[labels])
        for c in range(len(centroids)):
            mine = np.flatnonzero(labels == c)
            if len(mine):
                out.append(Subtopic(a, rows[mine], np.clip(cos[mine], 0.0, 1.0), centroids[c]))
    return out


def _fold_small(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move the papers of clusters under MIN_SUBTOPIC_SIZE to their nearest larger cluster; renumber."""
    sizes = np.bincount(labels, minlength=len(centroids))
    keep = np.flatnonzero(sizes >= MIN_SUBTOPIC_SIZE)
    if len(keep) == 0:
        keep = np.array([int(np.argmax(sizes))])
    if len(keep) == len(centroids):
        return labels, centroids
    kept = centroids[keep]
    new_labels = np.argmax(x @ kept.T, axis=1)
    # Centroids of the kept clusters after the fold: the mean direction of their members.
    sums = np.zeros_like(kept)
    np.add.at(sums, new_labels, x)
    return new_labels.astype(np.int64), normalize_rows(sums)


def merge_subtopics(x: np.ndarray, first: Subtopic, second: Subtopic) -> Subtopic:
    """One subtopic from two that name the same thing; it stays in the area of the larger one."""
    rows = np.concatenate([first.rows, second.rows])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    centroid = normalize_rows(x[rows].mean(axis=0, keepdims=True))[0]
    area = first.area if len(first.rows) >= len(second.rows) else second.area
    return Subtopic(area, rows, np.clip(x[rows] @ centroid, 0.0, 1.0), centroid)
