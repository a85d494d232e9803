"""Names of clustered topics (areas and subtopics): the phrase of the titles that says what they are.

Candidates are the 1-3 word phrases of the topic's titles (`PhraseCorpus`), ranked by

    score = p * log(p / q)  *  (1 + 0.35 * (words - 1))  *  max(cos, 0)^2

where p and q are the shares of papers that use the phrase in the topic and in the whole corpus (a
title use counts 1, an abstract-only use 1/4): the phrase's term of KL(topic || corpus), high when the
phrase covers much of the topic and is rare elsewhere, so phrases common everywhere ("Large Language
Models", "Reasoning" in 2026) score low. `cos` is the cosine between the phrase's own position in the
embedding space (the mean vector of every paper of the corpus that names it in its title) and the
topic's centroid: a phrase that is merely frequent in the topic but means something else ("Memory" in
a cluster of KV-cache papers) is pushed down. A name must occur in at least `min_title_share` of the
topic's titles, be a whole phrase in titles (not a fragment such as "Vision-Language" or
"Zero-Shot"), and pass `labeling.label_ok` (1-4 words, single words only for field names and
acronyms). Pure: arrays in, lists of names out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from app.topics.kmeans import normalize_rows
from app.topics.labeling import PhraseCorpus, label_ok, pretty

# Candidates per topic kept after the KL ranking, before the embedding check (the check is a matrix
# product per candidate phrase, so it runs on a short list).
SHORTLIST = 16
# How much a subtopic's name is chosen for what sets it apart inside its area (vs in the corpus).
PARENT_WEIGHT = 0.6


def indicator(members: Sequence[np.ndarray], n_docs: int) -> sp.csr_matrix:
    """Topics x papers 0/1 matrix."""
    empty = [np.zeros(0, np.int64)]
    rows = np.concatenate([np.full(len(m), i, dtype=np.int64) for i, m in enumerate(members)] + empty)
    cols = np.concatenate([np.asarray(m, dtype=np.int64) for m in members] + empty)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(members), n_docs))


def rank_names(
    corpus: PhraseCorpus,
    x: np.ndarray,
    members: Sequence[np.ndarray],
    centroids: np.ndarray,
    *,
    min_title_share: float,
    n: int = 8,
    parents: Sequence[np.ndarray] | None = None,
    parent_of: Sequence[int] | None = None,
) -> list[list[tuple[str, float]]]:
    """Names for each topic, best first, with their scores (see the module docstring).

    With `parents` (member rows of each area) and `parent_of` (each topic's area), a subtopic is named
    by what sets it apart inside its area as much as in the corpus: the KL term becomes
    p * (PARENT_WEIGHT * log(p / q_area) + (1 - PARENT_WEIGHT) * log(p / q)), so the subtopics of
    "Reasoning Models" are "Mathematical Reasoning" and "Test-Time Scaling", not all "Reasoning".
    """
    n_docs = corpus.title.shape[0]
    if not members:
        return []
    in_title = (corpus.title > 0).astype(np.float32).tocsr()
    in_text = ((corpus.title + corpus.abstract) > 0).astype(np.float32)
    uses = (in_title * 0.75 + in_text * 0.25).tocsr()
    ind = indicator(members, n_docs)
    p_all = (ind @ uses).tocsr()
    t_all = (ind @ in_title).tocsr()
    q = np.asarray(uses.mean(axis=0), dtype=np.float64).ravel()
    bonus = (1.0 + 0.35 * (corpus.n_words - 1)) * 1.0
    whole = corpus.complete >= 0.5  # fragments ("Vision-Language", "Zero-Shot") are never names
    checked: dict[int, bool] = {}

    def ok(cols: np.ndarray) -> np.ndarray:
        out = np.zeros(len(cols), dtype=bool)
        for k, c in enumerate(cols.tolist()):
            if c not in checked:
                checked[c] = bool(whole[c]) and label_ok(pretty(corpus.phrases[c]))
            out[k] = checked[c]
        return out

    q_parent = None
    if parents is not None and parent_of is not None:
        sizes = np.array([max(len(m), 1) for m in parents], dtype=np.float64)[:, None]
        q_parent = sp.csr_matrix((indicator(parents, n_docs) @ uses).multiply(1.0 / sizes))

    short: list[list[tuple[int, float]]] = []
    titled = np.zeros(t_all.shape[1], dtype=np.float64)  # one topic's title counts, by column
    for i, rows in enumerate(members):
        size = max(len(rows), 1)
        lo, hi = p_all.indptr[i], p_all.indptr[i + 1]
        cols, p = p_all.indices[lo:hi], p_all.data[lo:hi].astype(np.float64) / size
        tlo, thi = t_all.indptr[i], t_all.indptr[i + 1]
        titled[t_all.indices[tlo:thi]] = t_all.data[tlo:thi]
        need = max(2.0, min_title_share * size) if size > 2 else 1.0
        t_count = titled[cols]
        titled[t_all.indices[tlo:thi]] = 0.0
        keep = (t_count >= need) & (p > q[cols])
        cols, p = cols[keep], p[keep]
        keep = ok(cols)
        cols, p = cols[keep], p[keep]
        kl = p * np.log(p / np.maximum(q[cols], 1e-12))
        if q_parent is not None and parent_of is not None:
            inside = np.asarray(q_parent[parent_of[i]].toarray()).ravel()[cols]
            kl = (1 - PARENT_WEIGHT) * kl + PARENT_WEIGHT * p * np.log(p / np.maximum(inside, 1e-12))
        kl = kl * bonus[cols]
        keep = kl > 0
        cols, kl = cols[keep], kl[keep]
        top = np.lexsort((cols, -kl))[:SHORTLIST]
        short.append([(int(cols[j]), float(kl[j])) for j in top.tolist()])

    wanted = sorted({c for s in short for c, _ in s})
    if not wanted:
        return [[] for _ in members]
    title_csc = in_title.tocsc()[:, wanted]
    phrase_vecs = normalize_rows(np.asarray(title_csc.T @ x))
    where = {c: j for j, c in enumerate(wanted)}
    out: list[list[tuple[str, float]]] = []
    for i, cands in enumerate(short):
        scored = []
        for c, kl in cands:
            cos = float(phrase_vecs[where[c]] @ centroids[i])
            scored.append((kl * max(cos, 0.0) ** 2, c))
        scored.sort(key=lambda s: (-s[0], s[1]))
        out.append([(pretty(corpus.phrases[c]), s) for s, c in scored[:n] if s > 0])
    return out
