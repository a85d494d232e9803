"""One topic build: from paper vectors and texts to named, scored research areas and techniques.

This module owns the orchestration (cluster areas, mine techniques, name both), the ranking of a
topic's phrases for its name and keywords, and the dataclasses the service layer stores. It is pure:
no database, settings, clock, network or files; the same input and seed give the same output.

Public API of the topics package (the service layer calls exactly these):

    build_topic_model(vectors, titles, abstracts, *, seed=0, n_areas=None, max_techniques=None,
                      min_technique_size=None) -> TopicModel                          # model.py
    match_topics(old: Sequence[TopicRef | TopicDraft], new: Sequence[TopicDraft], *,
                 new_member_ids=None, min_cosine=0.8, min_jaccard=0.3, cosine_weight=0.7)
        -> TopicMatch(mapping={new index: old id}, emerging=[new index], dormant=[old id])  # tracking.py
    assign_to_topics(vectors, texts: Sequence[str | tuple[title, abstract]], topics, *,
                     min_area_cosine=None) -> [[(topic index, score)] per paper]       # tracking.py
    slugify(label) -> str                                                              # labeling.py

`vectors` are float arrays (n x d), normalised here; `titles` and `abstracts` are parallel lists of
strings; member row indices refer to those lists. Defaults: sqrt(n / 64) areas (2..60), up to
n / 500 techniques (5..50) of at least max(3, 0.5% of n) papers each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from app.topics.clustering import TechniqueGroup, mine_techniques
from app.topics.kmeans import default_n_areas, normalize_rows, spherical_kmeans
from app.topics.labeling import (
    PhraseCorpus,
    assign_labels,
    build_corpus,
    is_acronym,
    label_key,
    near_duplicate,
    pretty,
)

TopicKind = Literal["area", "technique"]

# A paper further than this (cosine) from every area centroid has no area: an outlier the service
# can show as "unassigned". On the 25k arXiv sample fewer than 1% of papers fall below it.
MIN_AREA_COSINE = 0.3


@dataclass
class TopicDraft:
    """A topic as built: `key` is stable within one build only; the service maps it to a stored id."""

    key: str
    kind: TopicKind
    label: str
    keywords: list[str]
    centroid: np.ndarray  # float32, unit length
    members: list[tuple[int, float]]  # (row index, score in [0, 1]), best first
    # Techniques only: the phrases that trigger membership (as written), and the cosine thresholds
    # used by `assign_to_topics`; a topic loaded from storage without them falls back to defaults.
    phrases: list[str] = field(default_factory=list)
    threshold: float | None = None
    mention_threshold: float | None = None


@dataclass
class TopicModel:
    """The result of `build_topic_model`: areas first (largest first), then techniques."""

    topics: list[TopicDraft]
    n_papers: int
    seed: int
    without_area: list[int]  # rows that belong to no area (farther than MIN_AREA_COSINE from all)

    def of_kind(self, kind: TopicKind) -> list[TopicDraft]:
        return [t for t in self.topics if t.kind == kind]


def default_max_techniques(n: int) -> int:
    """Up to 50 techniques at 25k papers, fewer on small data (about one per 500 papers, at least 5).

    On the 25k arXiv sample 40 left out LoRA, Mamba and privacy; beyond 50 come broad words
    ("Tuning", "Flow", "Intent").
    """
    return int(min(50, max(5, n // 500)))


def default_min_technique_size(n: int) -> int:
    """A technique needs max(3, 0.5% of the papers) members."""
    return max(3, round(0.005 * n))


def build_topic_model(
    vectors: np.ndarray,
    titles: Sequence[str],
    abstracts: Sequence[str],
    *,
    seed: int = 0,
    n_areas: int | None = None,
    max_techniques: int | None = None,
    min_technique_size: int | None = None,
) -> TopicModel:
    """Cluster papers into named research areas and mine named techniques.

    Raises ValueError when the inputs disagree in length or the vectors are not a 2-D array.
    """
    x = np.asarray(vectors)
    if x.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {x.shape}")
    n = x.shape[0]
    if len(titles) != n or len(abstracts) != n:
        raise ValueError(f"{n} vectors but {len(titles)} titles and {len(abstracts)} abstracts")
    if n == 0:
        return TopicModel(topics=[], n_papers=0, seed=seed, without_area=[])
    x = normalize_rows(x)
    corpus = build_corpus(titles, abstracts)
    # k-means in a second process next to the (GIL-bound) phrase counting was measured no faster on
    # 2 cores: both are limited by memory traffic, and the child's start costs what it saves.
    k = default_n_areas(n) if n_areas is None else max(1, min(n_areas, n))
    centroids, area_of, area_cos = spherical_kmeans(x, k, seed=seed)
    k = len(centroids)
    area_members = [np.flatnonzero((area_of == a) & (area_cos >= MIN_AREA_COSINE)) for a in range(k)]
    # Largest area first; ties broken by centroid index so the order is deterministic.
    order = sorted(range(len(centroids)), key=lambda a: (-len(area_members[a]), a))
    order = [a for a in order if len(area_members[a])]

    groups = mine_techniques(
        x,
        corpus,
        area_of,
        max_techniques=default_max_techniques(n) if max_techniques is None else max_techniques,
        min_size=default_min_technique_size(n) if min_technique_size is None else min_technique_size,
    )
    groups = sorted(groups, key=lambda g: (-len(g.members), g.phrases))

    # Techniques are named by their trigger phrase; one whose name is taken is the same subject as an
    # earlier technique and is dropped. When an area's best name is a technique's name, the one that
    # holds the subject keeps it: the area if most of the technique's papers are in it (the phrase is
    # that area's name, e.g. "Autonomous Driving"), else the technique, and the area takes its next name.
    title_df = np.diff(corpus.title.tocsc().indptr)
    tech_labels = assign_labels([_technique_names(corpus, title_df, g) for g in groups], required=False)
    area_rows = [area_members[a] for a in order]
    area_names = label_candidates(corpus, area_rows)
    for i, names in enumerate(area_names):
        for j, label in enumerate(tech_labels):
            if names and label and near_duplicate(label_key(names[0]), label_key(label)):
                inside = np.isin(groups[j].members, area_rows[i]).mean()
                tech_labels[j] = None if inside >= 0.5 else label
    kept = [j for j, lab in enumerate(tech_labels) if lab]
    groups = [groups[j] for j in kept]
    area_labels = assign_labels(area_names, taken=[str(tech_labels[j]) for j in kept])
    area_tfidf = class_tfidf(corpus, area_rows)
    tech_tfidf = class_tfidf(corpus, [g.members for g in groups])

    topics: list[TopicDraft] = []
    for i, a in enumerate(order):
        rows = area_members[a]
        scores = np.clip(area_cos[rows], 0.0, 1.0)
        topics.append(
            TopicDraft(
                key=f"area-{i:02d}",
                kind="area",
                label=str(area_labels[i]),
                keywords=keywords(corpus, area_tfidf[i]),
                centroid=centroids[a].astype(np.float32),
                members=_ranked(rows, scores),
                threshold=MIN_AREA_COSINE,
            )
        )
    for j, g in enumerate(groups):
        phrases = [pretty(corpus.phrases[p], title_case=False) for p in g.phrases]
        kws = phrases + [w for w in keywords(corpus, tech_tfidf[j]) if w not in phrases]
        topics.append(
            TopicDraft(
                key=f"technique-{j:02d}",
                kind="technique",
                label=str(tech_labels[kept[j]]),
                keywords=kws[:10],
                centroid=g.centroid.astype(np.float32),
                members=_ranked(g.members, g.scores),
                phrases=phrases,
                threshold=g.threshold,
                mention_threshold=g.mention_threshold,
            )
        )
    assigned = np.zeros(n, dtype=bool)
    for rows in area_members:
        assigned[rows] = True
    return TopicModel(topics=topics, n_papers=n, seed=seed, without_area=np.flatnonzero(~assigned).tolist())


# ---------------------------------------------------------------------------------------------------
# Naming: which of a topic's phrases describe it


def class_tfidf(corpus: PhraseCorpus, members: Sequence[np.ndarray], title_weight: float = 3.0) -> np.ndarray:
    """c-TF-IDF (BERTopic's W(x, c) = tf(x, c) / |c| * log(1 + A / f(x))), one row per topic.

    Topics may overlap (techniques do), so f(x) and A come from the whole corpus rather than from the
    sum of the topics.
    """
    weighted = (corpus.title * title_weight + corpus.abstract).tocsr()  # titles say what a paper is about
    tf = np.asarray((_indicator(members, corpus.title.shape[0]) @ weighted).todense(), dtype=np.float64)
    freq = np.asarray(weighted.sum(axis=0), dtype=np.float64).ravel()
    avg_words = freq.sum() / max(len(members), 1)
    idf = np.log1p(avg_words / np.maximum(freq, 1e-9))
    return tf / np.maximum(tf.sum(axis=1, keepdims=True), 1e-9) * idf


def keywords(corpus: PhraseCorpus, scores: np.ndarray, n: int = 10) -> list[str]:
    """Top `n` phrases of one topic's c-TF-IDF row, skipping phrases that repeat a chosen one's stems."""
    chosen: list[str] = []
    seen: list[frozenset[str]] = []
    for j in np.argsort(-scores, kind="stable")[: n * 5].tolist():
        if scores[j] <= 0 or len(chosen) >= n:
            break
        stems = frozenset(corpus.keys[j].split())
        if any(stems <= s or s <= stems for s in seen):
            continue
        seen.append(stems)
        chosen.append(pretty(corpus.phrases[j], title_case=False))
    return chosen


def _indicator(members: Sequence[np.ndarray], n_docs: int) -> sp.csr_matrix:
    """Topics x papers 0/1 matrix."""
    empty = [np.zeros(0, np.int64)]
    rows = np.concatenate([np.full(len(m), i, dtype=np.int64) for i, m in enumerate(members)] + empty)
    cols = np.concatenate([np.asarray(m, dtype=np.int64) for m in members] + empty)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(members), n_docs))


def label_candidates(
    corpus: PhraseCorpus, members: Sequence[np.ndarray], n: int = 8, min_share: float = 0.05
) -> list[list[str]]:
    """Names for each topic, best first.

    A name should cover much of the topic and be rare elsewhere, so phrases are ranked by their term
    in KL(topic || corpus): p * log(p / q), where p and q are the shares of papers that use the phrase
    in the topic and in the corpus (a title use counts 1, an abstract-only use 1/4). c-TF-IDF ranks
    by distinctiveness and would name a broad area after its most peculiar phrase. Fragments
    (`PhraseCorpus.complete` < 0.5: "Video", "Medical") count 0.75x, and two or three words get a
    1.35x / 1.7x bonus: "Autonomous Driving" beats "Driving", "Video" still beats "Frame". A name
    must be used by at least `min_share` of the topic's papers.
    """
    in_title = (corpus.title > 0).astype(np.float32)
    in_text = ((corpus.title + corpus.abstract) > 0).astype(np.float32)
    uses = in_title * 0.75 + in_text * 0.25  # 1 with a title use, 1/4 for abstract-only
    sizes = np.array([max(len(m), 1) for m in members], dtype=np.float64)[:, None]
    p = np.asarray((_indicator(members, corpus.title.shape[0]) @ uses).todense(), dtype=np.float64) / sizes
    q = np.asarray(uses.mean(axis=0), dtype=np.float64).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where((p > q) & (p >= min_share), p * np.log(p / np.maximum(q, 1e-12)), 0.0)
    ranked = kl * (1.0 + 0.35 * (corpus.n_words - 1)) * np.where(corpus.complete >= 0.5, 1.0, 0.75)
    out = []
    for row in ranked:
        top = np.argsort(-row, kind="stable")[:n]
        out.append([pretty(corpus.phrases[j]) for j in top.tolist() if row[j] > 0])
    return out


def _ranked(rows: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    order = np.lexsort((rows, -scores))  # best score first, then row index
    return [(int(rows[i]), round(float(scores[i]), 4)) for i in order]


def _technique_names(corpus: PhraseCorpus, title_df: np.ndarray, group: TechniqueGroup) -> list[str]:
    """Names for a technique, best first: its trigger phrase, completed when titles usually complete
    it ("Driving" -> "Autonomous Driving", "Cache" -> "KV Cache"), and joined with a second, unrelated
    trigger of similar weight ("Pruning and Sparsity"); then the other triggers alone."""
    main = first = group.phrases[0]
    main_stems = set(corpus.keys[main].split())
    longer = [
        j
        for j in np.flatnonzero((title_df >= 0.5 * title_df[main]) & (corpus.complete >= 0.5)).tolist()
        if corpus.n_words[j] == corpus.n_words[main] + 1 and main_stems < set(corpus.keys[j].split())
    ]
    if longer:
        main = max(longer, key=lambda j: (title_df[j], -j))
    names = [pretty(corpus.phrases[main])]
    for p in group.phrases[1:]:
        if is_acronym(corpus.phrases[p], corpus.phrases[main]):
            continue  # "Reinforcement Learning", not "Reinforcement Learning and RL"
        if is_acronym(corpus.phrases[main], corpus.phrases[p]):
            names.insert(0, pretty(corpus.phrases[p]))  # the expansion names it better than "RL"
            break
        if title_df[p] >= 0.4 * title_df[first] and corpus.n_words[main] + corpus.n_words[p] <= 3:
            names.insert(0, f"{names[0]} and {pretty(corpus.phrases[p])}")
            break
    return names + [pretty(corpus.phrases[p]) for p in group.phrases[1:]]
