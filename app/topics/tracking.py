"""Topic identity across rebuilds, and placing new papers in existing topics between rebuilds.

`match_topics` pairs the topics of a new build with the stored ones (Hungarian assignment on centroid
cosine blended with member Jaccard, per kind), so ids, slugs and labels survive a rebuild; unmatched new
topics are emerging, unmatched stored ones dormant. `assign_to_topics` scores new papers against frozen
topics exactly as a build would have. Pure: arrays and dataclasses in and out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from app.topics.clustering import normalize_rows, technique_scores
from app.topics.labeling import build_corpus, label_key
from app.topics.model import MAX_TECHNIQUES, MIN_AREA_COSINE, NAMED_MIN_COSINE, TopicDraft, TopicKind

# Used for technique topics stored without their own thresholds: typical values of a 25k-paper build
# (the 90th percentile and the median cosine of the papers that name the technique).
DEFAULT_TECHNIQUE_THRESHOLD = 0.78
DEFAULT_MENTION_THRESHOLD = 0.65


@dataclass(frozen=True)
class TopicRef:
    """A stored topic as `match_topics` needs it: id, kind, centroid and (optionally) member paper ids."""

    id: int
    kind: TopicKind
    centroid: np.ndarray
    member_ids: frozenset[int] = field(default_factory=frozenset)
    label: str = ""


@dataclass
class TopicMatch:
    """Result of `match_topics`. New topics are named by their index in `new`; stored ones by
    `TopicRef.id` (or, when `old` holds drafts, by their index in `old`)."""

    mapping: dict[int, int]  # new index -> stored id
    emerging: list[int]  # new indices that matched nothing
    dormant: list[int]  # stored ids that nothing matched
    similarity: dict[int, tuple[float, float]]  # new index -> (centroid cosine, member Jaccard) of its match

    @property
    def kept_share(self) -> float:
        """Share of the stored topics that live on in the new build."""
        total = len(self.mapping) + len(self.dormant)
        return len(self.mapping) / total if total else 1.0


def refs_from_drafts(
    topics: Sequence[TopicDraft], ids: Sequence[int], paper_ids: Sequence[int] | None = None
) -> list[TopicRef]:
    """`TopicRef`s for drafts stored under `ids` (member rows mapped through `paper_ids`)."""
    refs = []
    for topic, topic_id in zip(topics, ids, strict=True):
        rows = [r for r, _ in topic.members]
        members = frozenset(int(paper_ids[r]) for r in rows) if paper_ids is not None else frozenset(rows)
        refs.append(TopicRef(topic_id, topic.kind, topic.centroid, members, topic.label))
    return refs


def _membership(sets: Sequence[Sequence[int]], index: dict[int, int]) -> sp.csr_matrix:
    rows = [i for i, s in enumerate(sets) for _ in s]
    cols = [index.setdefault(int(p), len(index)) for s in sets for p in s]
    shape = (len(sets), max(len(index), 1))
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)


def _jaccard(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> np.ndarray:
    index: dict[int, int] = {}
    ma, mb = _membership(a, index), _membership(b, index)
    ma.resize((ma.shape[0], max(len(index), 1)))
    mb.resize((mb.shape[0], max(len(index), 1)))
    inter = np.asarray((ma @ mb.T).todense(), dtype=np.float64)
    sizes_a = np.array([len(s) for s in a], dtype=np.float64)[:, None]
    sizes_b = np.array([len(s) for s in b], dtype=np.float64)[None, :]
    return inter / np.maximum(sizes_a + sizes_b - inter, 1.0)


def _centroids(items: Sequence[TopicRef | TopicDraft], dim: int) -> np.ndarray:
    """Unit centroids; a missing or malformed one (a topic stored without centroid) is all zeros."""
    rows = [np.asarray(t.centroid, dtype=np.float32).ravel() for t in items]
    return normalize_rows(np.stack([r if r.shape == (dim,) else np.zeros(dim, np.float32) for r in rows]))


def match_topics(
    old: Sequence[TopicRef | TopicDraft],
    new: Sequence[TopicDraft],
    *,
    new_member_ids: Sequence[int] | None = None,
    min_cosine: float = 0.8,
    min_jaccard: float = 0.3,
    cosine_weight: float = 0.7,
) -> TopicMatch:
    """Match new topics to stored ones, one to one and within the same kind.

    The cost is 1 - (w * centroid cosine + (1 - w) * member Jaccard) (cosine alone when either side has
    no members); the Hungarian assignment minimises it, and a pair is accepted when its cosine reaches
    `min_cosine` or its Jaccard `min_jaccard` (a topic whose papers stayed but whose centre drifted is
    still the same topic). Members are compared as ids: `TopicRef.member_ids`, or the rows of an old
    draft; new rows are mapped through `new_member_ids` when given.
    """
    ids = [o.id if isinstance(o, TopicRef) else i for i, o in enumerate(old)]
    old_sets = [sorted(o.member_ids if isinstance(o, TopicRef) else (r for r, _ in o.members)) for o in old]
    new_sets = [[new_member_ids[r] if new_member_ids is not None else r for r, _ in t.members] for t in new]
    dim = next((np.asarray(t.centroid).size for t in new if np.asarray(t.centroid).size), 0)
    mapping: dict[int, int] = {}
    similarity: dict[int, tuple[float, float]] = {}
    for kind in ("area", "subtopic", "technique"):
        olds = [j for j, o in enumerate(old) if o.kind == kind]
        news = [i for i, t in enumerate(new) if t.kind == kind]
        if not olds or not news or not dim:
            continue
        cos = _centroids([new[i] for i in news], dim) @ _centroids([old[j] for j in olds], dim).T
        a, b = [new_sets[i] for i in news], [old_sets[j] for j in olds]
        has_members = any(a) and any(b)
        jac = _jaccard(a, b) if has_members else np.zeros_like(cos)
        sim = cosine_weight * cos + (1 - cosine_weight) * jac if has_members else cos
        for r, c in zip(*linear_sum_assignment(-sim), strict=True):
            if cos[r, c] >= min_cosine or jac[r, c] >= min_jaccard:
                mapping[news[r]] = ids[olds[c]]
                similarity[news[r]] = (round(float(cos[r, c]), 4), round(float(jac[r, c]), 4))
    matched = set(mapping.values())
    return TopicMatch(
        mapping=mapping,
        emerging=[i for i in range(len(new)) if i not in mapping],
        dormant=[i for i in ids if i not in matched],
        similarity=similarity,
    )


def should_relabel(
    old_keywords: Sequence[str], new_keywords: Sequence[str], min_overlap: float = 0.3
) -> bool:
    """Labels travel with the id; rename only when the top keywords changed (Jaccard < `min_overlap`)."""
    a = {label_key(k) for k in old_keywords[:10]}
    b = {label_key(k) for k in new_keywords[:10]}
    return bool(a or b) and len(a & b) / max(len(a | b), 1) < min_overlap


def assign_to_topics(
    vectors: np.ndarray,
    texts: Sequence[str | tuple[str, str]],
    topics: Sequence[TopicDraft],
    *,
    min_area_cosine: float | None = None,
) -> list[list[tuple[int, float]]]:
    """Place papers in existing topics: per paper, (index into `topics`, score in [0, 1]), best first.

    Areas: the nearest area centroid, if its cosine reaches `min_area_cosine` (when given), else the
    area's `threshold`, else MIN_AREA_COSINE. Subtopics: the nearest subtopic whose `parent` is the
    paper's area (the nearest of all when that area has none here). Techniques: the same rule as a
    build (a trigger phrase in
    the title or twice in the abstract, once plus a close embedding, or a very close embedding alone),
    with the topic's `phrases` (its first keyword when empty) and thresholds. Give `texts` as (title,
    abstract) pairs to score exactly as a build; a plain string counts as an abstract, so a phrase must
    occur twice (title and abstract, as in "title. abstract") or once with a close embedding. A paper
    keeps its MAX_TECHNIQUES best techniques.
    """
    out: list[list[tuple[int, float]]] = [[] for _ in range(len(texts))]
    if not len(texts) or not topics:
        return out
    x = normalize_rows(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))
    areas = [i for i, t in enumerate(topics) if t.kind == "area"]
    if areas:
        cos = x @ _centroids([topics[i] for i in areas], x.shape[1]).T
        best = np.argmax(cos, axis=1)
        for row, a in enumerate(best.tolist()):
            topic = topics[areas[a]]
            floor = min_area_cosine if min_area_cosine is not None else topic.threshold
            if cos[row, a] >= (MIN_AREA_COSINE if floor is None else floor):
                out[row].append((areas[a], round(float(np.clip(cos[row, a], 0.0, 1.0)), 4)))
    subtopics = [i for i, t in enumerate(topics) if t.kind == "subtopic"]
    titles = [t[0] if isinstance(t, tuple) else "" for t in texts]
    if subtopics:
        _place_in_subtopics(x, titles, topics, subtopics, out)
    techniques = [i for i, t in enumerate(topics) if t.kind == "technique"]
    if techniques:
        pairs = [t if isinstance(t, tuple) else ("", t) for t in texts]
        triggers = {i: topics[i].phrases or topics[i].keywords[:1] for i in techniques}
        vocabulary = sorted({p for ps in triggers.values() for p in ps})
        corpus = build_corpus([p[0] for p in pairs], [p[1] for p in pairs], vocabulary=vocabulary)
        column = {k.replace(" ", ""): j for j, k in enumerate(corpus.keys)}
        title, abstract = corpus.title.tocsc(), corpus.abstract.tocsc()
        for i in techniques:
            topic = topics[i]
            cols = sorted({column[k] for k in (_compact_key(p) for p in triggers[i]) if k in column})
            t_hits = np.asarray(title[:, cols].sum(axis=1)).ravel() if cols else np.zeros(len(texts))
            a_hits = np.asarray(abstract[:, cols].sum(axis=1)).ravel() if cols else np.zeros(len(texts))
            centroid = _centroids([topic], x.shape[1])[0]
            scores = technique_scores(
                t_hits,
                a_hits,
                x @ centroid,
                topic.threshold if topic.threshold is not None else DEFAULT_TECHNIQUE_THRESHOLD,
                topic.mention_threshold if topic.mention_threshold is not None else DEFAULT_MENTION_THRESHOLD,
            )
            for row in np.flatnonzero(scores > 0).tolist():
                out[row].append((i, round(float(scores[row]), 4)))
    return [_at_most_techniques(sorted(hits, key=lambda h: (-h[1], h[0])), topics) for hits in out]


def _at_most_techniques(
    hits: list[tuple[int, float]], topics: Sequence[TopicDraft]
) -> list[tuple[int, float]]:
    """A paper's MAX_TECHNIQUES best techniques (hits are sorted best first); other kinds untouched."""
    kept, seen = [], 0
    for index, score in hits:
        if topics[index].kind == "technique":
            seen += 1
            if seen > MAX_TECHNIQUES:
                continue
        kept.append((index, score))
    return kept


def _named_in_titles(titles: Sequence[str], labels: Sequence[str]) -> sp.csc_matrix:
    """Papers x labels: whether each title names each label (as `build_corpus` counts phrases)."""
    corpus = build_corpus(list(titles), [""] * len(titles), vocabulary=sorted(set(labels)))
    column = {k.replace(" ", ""): j for j, k in enumerate(corpus.keys)}
    cols = [column.get(_compact_key(label), -1) for label in labels]
    title = corpus.title.tocsc()
    empty = sp.csc_matrix((len(titles), 1), dtype=np.float32)
    return sp.hstack([title[:, c] if c >= 0 else empty for c in cols], format="csc")


def _place_in_subtopics(
    x: np.ndarray,
    titles: Sequence[str],
    topics: Sequence[TopicDraft],
    subtopics: list[int],
    out: list[list[tuple[int, float]]],
) -> None:
    """Each paper joins the closest subtopic its title names (cosine >= NAMED_MIN_COSINE), and that
    subtopic's area; else the nearest subtopic of its area (the nearest of all when its area has none
    here). With no areas among `topics`, a paper joins its nearest subtopic only at or above that
    subtopic's `threshold` (the cosine of its 10% least typical members when built)."""
    keys = {topics[i].key: i for i in range(len(topics)) if topics[i].kind == "area"}
    cos = x @ _centroids([topics[i] for i in subtopics], x.shape[1]).T
    parent = np.asarray([keys.get(topics[i].parent or "", -1) for i in subtopics])
    named_in = _named_in_titles(titles, [topics[i].label for i in subtopics]).tocsr()
    floors = np.asarray([topics[i].threshold if topics[i].threshold is not None else 1.0 for i in subtopics])
    area_cos = x @ _centroids([topics[i] for i in keys.values()], x.shape[1]).T if keys else None
    area_col = {index: c for c, index in enumerate(keys.values())}
    for row in range(x.shape[0]):
        named = np.flatnonzero(named_in[row].toarray().ravel() > 0) if keys else np.zeros(0, np.int64)
        named = named[(cos[row, named] >= NAMED_MIN_COSINE) & (parent[named] >= 0)]
        home = next((i for i, _ in out[row] if topics[i].kind == "area"), None)
        if len(named) and home is not None and (parent == home).any():
            own = float(cos[row, parent == home].max())  # the subtopic of its own area it would get
            named = named[(parent[named] == home) | (cos[row, named] >= own)]
        if len(named) and area_cos is not None:
            # As a build does: the closest subtopic the title names, and with it its area.
            best = int(named[np.argmax(cos[row, named])])
            named_area = int(parent[best])
            score = round(float(np.clip(area_cos[row, area_col[named_area]], 0.0, 1.0)), 4)
            out[row] = [(i, sc) for i, sc in out[row] if topics[i].kind != "area"] + [(named_area, score)]
            out[row].append((subtopics[best], round(float(np.clip(cos[row, best], 0.0, 1.0)), 4)))
            continue
        area = next((i for i, _ in out[row] if topics[i].kind == "area"), None)
        if area is None:
            if keys:
                continue
            # No areas given (subtopics kept alive on their own): the nearest one, if close enough.
            best = int(np.argmax(cos[row]))
            if cos[row, best] >= floors[best]:
                out[row].append((subtopics[best], round(float(np.clip(cos[row, best], 0.0, 1.0)), 4)))
            continue
        mine = np.flatnonzero(parent == area)
        candidates = mine if len(mine) else np.arange(len(subtopics))
        best = int(candidates[np.argmax(cos[row, candidates])])
        out[row].append((subtopics[best], round(float(np.clip(cos[row, best], 0.0, 1.0)), 4)))


def _compact_key(phrase: str) -> str:
    """The spelling-free key `build_corpus` gives a phrase ("Vision-Language" -> visionlanguag)."""
    corpus = build_corpus([phrase], [""], vocabulary=[phrase])
    return corpus.keys[0].replace(" ", "") if corpus.keys else ""
