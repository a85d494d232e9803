"""One topic build: from paper vectors and texts to named, scored research areas, their subtopics,
and techniques.

This module owns the orchestration (cluster areas, split them into subtopics, mine techniques, name
all three; names are ranked in `naming`), the choice of one name per topic (two subtopics that name the
same thing are one), the keywords, and the dataclasses the service layer stores. It is pure:
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
strings; member row indices refer to those lists. Defaults: sqrt(n / 64) areas (2..60), each split
into subtopics of about sqrt(n) papers (`subtopics`), up to n / 50 techniques (30..150) of at least
max(3, sqrt(n) / 4) papers each. Every paper has one area and one subtopic inside it (unless it is
farther than MIN_AREA_COSINE from every area) and 0..MAX_TECHNIQUES techniques, each with a score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from app.topics.clustering import TechniqueGroup, merge_groups, mine_techniques
from app.topics.fields import field_labels
from app.topics.kmeans import default_n_areas, normalize_rows, spherical_kmeans
from app.topics.labeling import (
    PhraseCorpus,
    build_corpus,
    is_acronym,
    label_ok,
    pretty,
    same_thing,
)
from app.topics.naming import indicator, rank_names
from app.topics.subtopics import Subtopic, merge_subtopics, split_areas

TopicKind = Literal["area", "subtopic", "technique"]

# A paper carries at most this many techniques (its best-scoring ones); `tracking` places new papers
# the same way.
MAX_TECHNIQUES = 3

# A paper whose title names a subtopic joins it only if its cosine to the subtopic's centre reaches
# this (a title may use a subtopic's name in another sense).
NAMED_MIN_COSINE = 0.35

# Two subtopics of different areas with the same best name and centroids at least this close are one
# subject that k-means cut at an area border.
SAME_SUBJECT_COSINE = 0.8

# A subtopic's name must be written in at least this share of its titles.
SUBTOPIC_NAME_SHARE = 0.06

# A paper further than this (cosine) from every area centroid has no area: an outlier the service
# can show as "unassigned". On the 25k arXiv sample fewer than 1% of papers fall below it.
MIN_AREA_COSINE = 0.3


# An area's name must be written in at least this share of its titles: a rarer phrase names one
# subject inside the area ("Gaussian Splatting" for all of 3D vision), and a reader of the area would
# find most of its papers off that name.
AREA_NAME_SHARE = 0.04

# The broad names a research area may take when no phrase of its own is written often enough in its
# titles. Phrase mining never proposes them (every word in them is a generic word, too broad for a
# subtopic or a technique), yet "LLMs" is how researchers name the area of papers about LLM training,
# data and evaluation. Each is written in titles in the ways the pattern lists.
BROAD_AREA_NAMES: dict[str, str] = {
    "Large Language Models": r"\blarge language models?\b|\bllms?\b",
    "Multimodal LLMs": r"\bmultimodal large language models?\b|\bmllms?\b",
    "Language Models": r"\blanguage models?\b",
    "Neural Networks": r"\bneural networks?\b",
    "Deep Learning": r"\bdeep learning\b",
    "Machine Learning": r"\bmachine learning\b",
}
# A broad name must be written in this share of the area's titles, and this many times as often as in
# the corpus's.
BROAD_NAME_SHARE = 0.08
BROAD_NAME_LIFT = 1.5


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
    # Subtopics only: the key of their area in the same build (or, for a stored topic, its slug).
    parent: str | None = None


@dataclass
class TopicModel:
    """The result of `build_topic_model`: areas first (largest first), then subtopics (by area, largest
    first), then techniques."""

    topics: list[TopicDraft]
    n_papers: int
    seed: int
    without_area: list[int]  # rows that belong to no area (farther than MIN_AREA_COSINE from all)

    def of_kind(self, kind: TopicKind) -> list[TopicDraft]:
        return [t for t in self.topics if t.kind == kind]


def default_max_techniques(n: int) -> int:
    """Up to 250 techniques: one per 50 papers, at least 150. A small corpus needs room for the
    techniques it has (the 2.7k demo: quantization, pruning, distillation, LoRA, representation
    learning, and the smaller mixture-of-experts, federated and contrastive learning, emotion
    recognition); only phrases that pass the naming rules compete, and each needs
    `default_min_technique_size` papers. Over the cap the largest are kept."""
    return int(min(250, max(150, n // 50)))


def default_min_technique_size(n: int) -> int:
    """A technique needs max(3, 0.0015 n) members: 3 on the seed papers, 4 on the 2.7k demo, 38 on the
    25k sample, 375 at 250k. A concept a community follows is written in a fixed share of titles
    whatever the corpus size, so the bar is a share; at sqrt(n) / 4 (13 on the demo) the demo's
    time-series, graph and KV-cache papers made no topic at all."""
    return max(3, round(0.0015 * max(n, 0)))


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
    # A technique whose best name is the same thing as a larger technique's ("AI Agents" after "LLM
    # Agents", "Explainable AI" after "Explainability") is that technique: its papers join it.
    title_df = np.diff(corpus.title.tocsc().indptr)
    tech_labels: list[str | None] = []
    joins: dict[int, list[int]] = {}
    for j, names in enumerate(_technique_names(corpus, title_df, g) for g in groups):
        used = [(h, lab) for h, lab in enumerate(tech_labels) if lab]
        holder = next((h for h, u in used if names and same_thing(names[0], u)), None)
        if holder is not None:
            joins.setdefault(holder, []).append(j)
            tech_labels.append(None)
            continue
        tech_labels.append(next((c for c in names if not any(same_thing(c, u) for _, u in used)), None))
    for holder, parts in joins.items():
        groups[holder] = merge_groups(groups[holder], [groups[j] for j in parts])
    area_rows = [area_members[a] for a in order]
    area_centroids = centroids[order] if order else centroids[:0]
    area_names = [
        [name for name, _ in names]
        for names in rank_names(corpus, x, area_rows, area_centroids, min_title_share=AREA_NAME_SHARE, n=40)
    ]
    # A technique keeps its name; an area takes its next name (an area is broader than any one
    # technique, and a reader of "Remote Sensing" expects the remote-sensing papers, not an area).
    kept = [j for j, lab in enumerate(tech_labels) if lab]
    groups = _at_most_techniques([groups[j] for j in kept], n)
    area_labels = _area_labels(area_names, [str(tech_labels[j]) for j in kept])
    # An area named after one subject inside it (or after nothing) takes its field's name, so that its
    # subtopic may take the subject's ("3D Vision" holding "Gaussian Splatting").
    area_labels = field_labels(corpus, area_rows, area_labels, [str(tech_labels[j]) for j in kept])
    subs, sub_labels = _named_subtopics(x, corpus, area_rows, area_labels, n=n, seed=seed)
    # An area whose titles write no phrase of its own often enough: a broad name they do write ("Large
    # Language Models"), else its largest subtopic's.
    _broad_area_labels(titles, area_rows, area_labels)
    for i, label in enumerate(area_labels):
        if not label:  # no phrase of its titles names it: its largest subtopic with a free name does
            own = sorted((j for j, sub in enumerate(subs) if sub.area == i), key=lambda j: -len(subs[j].rows))
            free = [
                sub_labels[j] for j in own if not any(same_thing(sub_labels[j], u) for u in area_labels if u)
            ]
            area_labels[i] = next(
                iter(free),
                next(
                    f"Other {w}"
                    for w in ("Topics", "Research", "Work", "Subjects", "Studies")
                    if f"Other {w}" not in area_labels
                ),
            )
    # An area holds the papers of its subtopics (a paper whose title names a subtopic moved with it).
    area_rows = [
        np.sort(np.concatenate([s.rows for s in subs if s.area == i] + [rows[:0]]))
        for i, rows in enumerate(area_rows)
    ]
    area_tfidf = class_tfidf(corpus, area_rows)
    sub_tfidf = class_tfidf(corpus, [s.rows for s in subs])
    tech_tfidf = class_tfidf(corpus, [g.members for g in groups])

    topics: list[TopicDraft] = []
    for i, a in enumerate(order):
        rows = area_rows[i]
        scores = np.clip(x[rows] @ centroids[a], 0.0, 1.0)
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
    for j, sub in enumerate(subs):
        topics.append(
            TopicDraft(
                key=f"subtopic-{j:03d}",
                kind="subtopic",
                label=sub_labels[j],
                keywords=keywords(corpus, sub_tfidf[j]),
                centroid=sub.centroid.astype(np.float32),
                members=_ranked(sub.rows, sub.scores),
                threshold=round(float(np.quantile(sub.scores, 0.1)), 4),
                parent=f"area-{sub.area:02d}",
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
    for rows in area_rows:
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
    tf = np.asarray((indicator(members, corpus.title.shape[0]) @ weighted).todense(), dtype=np.float64)
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


def _at_most_techniques(groups: list[TechniqueGroup], n: int) -> list[TechniqueGroup]:
    """Each paper keeps its MAX_TECHNIQUES best techniques (by score, then the smaller technique: a
    paper that names "Emotion Recognition" and "Fine-Tuning" in its title is about the former)."""
    if not groups:
        return groups
    rows = np.concatenate([g.members for g in groups])
    which = np.concatenate([np.full(len(g.members), j) for j, g in enumerate(groups)])
    scores = np.concatenate([g.scores for g in groups])
    sizes = np.concatenate([np.full(len(g.members), len(g.members)) for g in groups])
    order = np.lexsort((which, sizes, -scores, rows))  # per paper: best score, then most specific
    rows, which = rows[order], which[order]
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    dropped = {
        (int(r), int(w))
        for r, w in zip(rows[rank >= MAX_TECHNIQUES], which[rank >= MAX_TECHNIQUES], strict=True)
    }
    out = []
    for j, g in enumerate(groups):
        keep = np.asarray([(int(r), j) not in dropped for r in g.members], dtype=bool) if dropped else None
        if keep is None or keep.all():
            out.append(g)
            continue
        out.append(replace(g, members=g.members[keep], scores=g.scores[keep]))
    return out


def _broad_area_labels(titles: Sequence[str], area_rows: list[np.ndarray], labels: list[str]) -> None:
    """Name each area without a name of its own (an empty label) by the broad name written most in its
    titles (`BROAD_AREA_NAMES`), if it is written in at least BROAD_NAME_SHARE of them and BROAD_NAME_LIFT
    times as often as in all titles; each broad name is used once. In place."""
    unnamed = [i for i, label in enumerate(labels) if not label and len(area_rows[i])]
    if not unnamed:
        return
    lowered = [t.lower() for t in titles]
    written = {
        name: np.fromiter((bool(re.search(pattern, t)) for t in lowered), dtype=bool, count=len(lowered))
        for name, pattern in BROAD_AREA_NAMES.items()
    }
    options = []
    for i in unnamed:
        for rank, (name, hits) in enumerate(written.items()):
            share = float(hits[area_rows[i]].mean())
            if share >= BROAD_NAME_SHARE and share >= BROAD_NAME_LIFT * float(hits.mean()):
                options.append((share, i, rank, name))
    # The most written first; on a tie the earlier area, then the earlier (narrower) name.
    for _, i, _, name in sorted(options, key=lambda o: (-o[0], o[1], o[2])):
        if not labels[i] and not any(same_thing(name, u) for u in labels if u):
            labels[i] = name


def _area_labels(names: list[list[str]], taken: list[str]) -> list[str]:
    """One label per area, in order (largest first), never naming what another area or a technique
    names; an area whose every candidate is taken keeps its first candidate that no other area uses."""
    used = list(taken)
    out: list[str] = []
    for cands in names:
        choice = next((c for c in cands if not any(same_thing(c, u) for u in used)), None)
        if choice is None:
            choice = next((c for c in cands if not any(same_thing(c, u) for u in out)), None)
        if choice is None:  # nothing its titles say often enough: its largest subtopic names it later
            out.append("")
            continue
        used.append(choice)
        out.append(choice)
    return out


def _named_subtopics(
    x: np.ndarray,
    corpus: PhraseCorpus,
    area_rows: list[np.ndarray],
    area_labels: list[str],
    *,
    n: int,
    seed: int,
) -> tuple[list[Subtopic], list[str]]:
    """Subtopics of every area with their labels; two subtopics that name the same thing are one.

    Largest first, each subtopic takes its best name. If a subtopic of the same area already holds
    that name (or its acronym), the two are one subject split by k-means and are merged; otherwise it
    takes its best name no other subtopic holds. A subtopic left without any name its titles support
    joins the nearest named subtopic of its area (or, alone in its area, is named after the area).
    """
    subs = split_areas(x, area_rows, n_total=n, seed=seed)
    subs.sort(key=lambda s: (-len(s.rows), s.area, int(s.rows[0])))
    names = rank_names(
        corpus,
        x,
        [s.rows for s in subs],
        np.stack([s.centroid for s in subs]),
        min_title_share=SUBTOPIC_NAME_SHARE,
        parents=area_rows,
        parent_of=[s.area for s in subs],
    )
    kept: list[Subtopic] = []
    labels: list[str] = []
    unnamed: list[Subtopic] = []
    column = {phrase.lower(): j for j, phrase in reversed(list(enumerate(corpus.phrases)))}
    in_title = corpus.title.tocsc()

    def written(label: str, rows: np.ndarray) -> int:
        """How many of these papers write the label in their title."""
        j = column.get(label.lower())
        return 0 if j is None else int((in_title[:, j][rows] > 0).sum())

    for sub, cands in zip(subs, names, strict=True):
        if not cands:
            unnamed.append(sub)
            continue
        top = cands[0][0]
        holder = next((i for i, lab in enumerate(labels) if same_thing(top, lab)), None)
        if holder is not None and kept[holder].area == sub.area:
            kept[holder] = merge_subtopics(x, kept[holder], sub)
            continue
        # Not its area's name either: a subtopic names a part of the area ("Segmentation" holds
        # "Medical Image Segmentation", not a second "Segmentation").
        free = next(
            (c for c, _ in cands if not any(same_thing(c, lab) for lab in [*labels, area_labels[sub.area]])),
            None,
        )
        if free is None:
            if holder is not None and float(kept[holder].centroid @ sub.centroid) >= SAME_SUBJECT_COSINE:
                kept[holder] = merge_subtopics(x, kept[holder], sub)
            else:
                unnamed.append(sub)
            continue
        kept.append(sub)
        labels.append(free)
    for sub in unnamed:
        same_area = [i for i, k in enumerate(kept) if k.area == sub.area]
        area_label = area_labels[sub.area]
        if same_area:
            best = max(same_area, key=lambda i: float(kept[i].centroid @ sub.centroid))
            merged = merge_subtopics(x, kept[best], sub)
            # Joined to its neighbour, a group must leave that neighbour's name written in enough of
            # the titles (SUBTOPIC_NAME_SHARE); else the name of one small subject would stand over
            # papers about something else, and the group takes its area's name while no subtopic has it.
            if (
                written(labels[best], merged.rows) >= SUBTOPIC_NAME_SHARE * len(merged.rows)
                or not area_label
                or any(same_thing(area_label, lab) for lab in labels)
            ):
                kept[best] = merged
                continue
        label = area_label or "Other Topics"
        # Only a real name is matched: "Other Topics" is no subject ("Topic Modeling" is one).
        holder = next((i for i, lab in enumerate(labels) if area_label and same_thing(label, lab)), None)
        if holder is not None:  # named like a subtopic elsewhere: the same subject, one subtopic
            kept[holder] = merge_subtopics(x, kept[holder], sub)
            continue
        kept.append(sub)
        labels.append(label)
    kept = _follow_names(x, corpus, kept, labels)
    order = sorted(range(len(kept)), key=lambda i: (kept[i].area, -len(kept[i].rows), int(kept[i].rows[0])))
    return [kept[i] for i in order], [labels[i] for i in order]


def _follow_names(
    x: np.ndarray, corpus: PhraseCorpus, subs: list[Subtopic], labels: list[str]
) -> list[Subtopic]:
    """A paper whose title names a subtopic joins it (the closest one when its title names several),
    if it is not far from it (cosine >= NAMED_MIN_COSINE; in another area, at least as close as its
    own subtopic), and with it that subtopic's area: a reader
    of "Remote Sensing" expects the remote-sensing papers there, wherever k-means drew the borders.
    Centroids are recomputed from the new members."""
    # pretty() only changes the case of ASCII text, so lowering the phrase itself gives the same key
    # (a fifth of a second less on 25k papers, where 20k phrases are looked up for a few hundred names).
    column = {
        (" ".join(p.split()) if p.isascii() else pretty(p)).lower(): j for j, p in enumerate(corpus.phrases)
    }
    title = corpus.title.tocsc()
    sub_of = np.full(x.shape[0], -1)
    area_of = np.full(x.shape[0], -1)
    own = np.full(x.shape[0], -np.inf)  # cosine to the paper's own subtopic
    for i, sub in enumerate(subs):
        sub_of[sub.rows] = i
        area_of[sub.rows] = sub.area
        own[sub.rows] = x[sub.rows] @ sub.centroid
    best = np.full(x.shape[0], -np.inf)
    target = sub_of.copy()
    for i, (sub, label) in enumerate(zip(subs, labels, strict=True)):
        j = column.get(label.lower())
        if j is None:
            continue
        rows = title.indices[title.indptr[j] : title.indptr[j + 1]]
        cos = x[rows] @ sub.centroid
        # Into another area only when the named subtopic is at least as close as the paper's own.
        allowed = (area_of[rows] == sub.area) | (cos >= own[rows])
        better = (cos > best[rows]) & (cos >= NAMED_MIN_COSINE) & allowed
        target[rows[better]] = i
        best[rows[better]] = cos[better]
    if np.array_equal(target, sub_of):
        return subs
    out = []
    for i, sub in enumerate(subs):
        rows = np.flatnonzero(target == i)
        if len(rows) == 0:
            rows = sub.rows  # never empty a named subtopic: it keeps what k-means gave it
            target[rows] = i
        centroid = normalize_rows(x[rows].mean(axis=0, keepdims=True))[0]
        out.append(Subtopic(sub.area, rows, np.clip(x[rows] @ centroid, 0.0, 1.0), centroid))
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
    if not label_ok(pretty(corpus.phrases[main])):
        # An ordinary word ("Cache", "Memory") names no technique: take the completion titles use most.
        longer = [
            j
            for j in np.flatnonzero((title_df >= 0.2 * title_df[main]) & (corpus.complete >= 0.5)).tolist()
            if corpus.n_words[j] > corpus.n_words[main] and main_stems < set(corpus.keys[j].split())
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
        if (
            title_df[p] >= 0.4 * title_df[first]
            and corpus.n_words[main] + corpus.n_words[p] <= 3
            and label_ok(names[0])
            and label_ok(pretty(corpus.phrases[p]))
        ):
            names.insert(0, f"{names[0]} and {pretty(corpus.phrases[p])}")
            break
    names += [pretty(corpus.phrases[p]) for p in group.phrases[1:]]
    return [name for name in names if label_ok(name)]
