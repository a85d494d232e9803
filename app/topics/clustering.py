"""Grouping papers into topics: research areas (spherical k-means) and techniques (key-phrase groups).

Areas partition the embedding space: every paper gets its nearest area centroid. Techniques cut across
areas ("quantization" appears in vision, language and speech papers alike), so flat clustering of whole
abstracts cannot find them; they are seeded by key phrases mined from titles, grown by the papers that
mention the phrase or sit very close to the phrase group's centroid, and merged when they share papers.
This module is pure: arrays and a `PhraseCorpus` in, arrays and dataclasses out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp

from app.topics.kmeans import default_n_areas, normalize_rows, spherical_kmeans
from app.topics.labeling import FIELD_WORDS, PhraseCorpus, initials, is_acronym, label_ok, pretty, word_root

__all__ = [
    "TechniqueGroup",
    "default_n_areas",
    "merge_groups",
    "mine_techniques",
    "normalize_rows",
    "spherical_kmeans",
    "technique_scores",
]

# A paper that names the technique in its title is a member for sure; repeated mentions in the
# abstract nearly so; a single mention in passing ("unlike quantization, we ...") needs support from
# the embedding; and a paper that never names it must be closer to the centroid than most papers that do.
TITLE_SCORE = 1.0
ABSTRACT_SCORE = 0.8
MENTION_SCORE = 0.6
EMBEDDING_SCORE = 0.5
MIN_AREAS_FOR_SPREAD = 8
# How close, from a typical paper to a typical naming paper, the papers that write a technique's
# word must be for all of them to join it (see `_alike`).
ALIKE = 0.85


@dataclass(frozen=True)
class TechniqueGroup:
    """One technique: its trigger phrases (corpus columns, strongest first) and its scored members."""

    phrases: list[int]
    members: np.ndarray  # row indices, ascending
    scores: np.ndarray  # score in [0, 1] per member
    centroid: np.ndarray  # unit vector
    threshold: float  # cosine above which a paper joins without naming the phrase
    mention_threshold: float  # cosine above which a single abstract mention is enough


def technique_scores(
    title_hits: np.ndarray,
    abstract_hits: np.ndarray,
    cosine: np.ndarray,
    threshold: float,
    mention_threshold: float,
) -> np.ndarray:
    """Membership score of each paper in a technique (0 = not a member); shared with `assign_to_topics`."""
    score = np.zeros(len(cosine), dtype=np.float32)
    # Papers that never name the technique join only above `threshold`, with a score that grows from
    # EMBEDDING_SCORE / 2 at the threshold to EMBEDDING_SCORE at a perfect match.
    near = cosine >= threshold
    span = max(1.0 - threshold, 1e-6)
    score[near] = EMBEDDING_SCORE * (0.5 + 0.5 * np.clip((cosine[near] - threshold) / span, 0.0, 1.0))
    score[(abstract_hits >= 1) & (cosine >= mention_threshold)] = MENTION_SCORE
    score[abstract_hits >= 2] = ABSTRACT_SCORE
    score[title_hits >= 1] = TITLE_SCORE
    return score


def merge_groups(holder: TechniqueGroup, others: list[TechniqueGroup]) -> TechniqueGroup:
    """One technique from several that name the same thing ("LLM Agents", "AI Agents", "Agentic AI"):
    every member of any (its best score), the holder's phrases first, its centroid and thresholds."""
    rows = np.concatenate([holder.members, *(g.members for g in others)])
    scores = np.concatenate([holder.scores, *(g.scores for g in others)])
    order = np.lexsort((-scores, rows))  # per row, its best score first
    rows, scores = rows[order], scores[order]
    first = np.r_[True, rows[1:] != rows[:-1]]
    phrases = list(dict.fromkeys([*holder.phrases, *(p for g in others for p in g.phrases)]))
    return TechniqueGroup(
        phrases, rows[first], scores[first], holder.centroid, holder.threshold, holder.mention_threshold
    )


def _columns_sum(mat: sp.csc_matrix, cols: list[int]) -> np.ndarray:
    out = np.zeros(mat.shape[0], dtype=np.float32)
    for j in cols:
        lo, hi = mat.indptr[j], mat.indptr[j + 1]
        out[mat.indices[lo:hi]] += mat.data[lo:hi]
    return out


def _grow(
    x: np.ndarray, title: sp.csc_matrix, abstract: sp.csc_matrix, col_sets: list[list[int]]
) -> list[TechniqueGroup | None]:
    """Members of the groups triggered by each set of phrase columns (None: nobody names them)."""
    return list(_grow_lazily(x, title, abstract, col_sets))


def _grow_lazily(
    x: np.ndarray, title: sp.csc_matrix, abstract: sp.csc_matrix, col_sets: list[list[int]]
) -> Iterator[TechniqueGroup | None]:
    """`_grow`, 32 groups at a time as they are consumed: the candidates after the last chosen
    technique (often half of the shortlist) are never computed."""
    for lo in range(0, len(col_sets), 32):  # one matrix product per batch; bounded memory on big corpora
        batch = col_sets[lo : lo + 32]
        hits = [(_columns_sum(title, cols), _columns_sum(abstract, cols)) for cols in batch]
        cores = [np.flatnonzero((t >= 1) | (a >= 2)) for t, a in hits]
        centroids = normalize_rows(np.stack([x[c].mean(axis=0) if len(c) else x[0] * 0 for c in cores]))
        cosines = x @ centroids.T
        for i, cols in enumerate(batch):
            core = cores[i]
            if len(core) == 0:
                yield None
                continue
            cosine = cosines[:, i]
            core_cos = cosine[core]
            # Thresholds follow how tight the group is: a paper that never names the technique must be
            # closer to the centroid than 90% of the papers that do; a single mention needs the median.
            threshold = float(max(np.quantile(core_cos, 0.9), 0.5))
            mention_threshold = float(np.quantile(core_cos, 0.5))
            score = technique_scores(hits[i][0], hits[i][1], cosine, threshold, mention_threshold)
            members = np.flatnonzero(score > 0)
            group = TechniqueGroup(cols, members, score[members], centroids[i], threshold, mention_threshold)
            yield group


class _Rows:
    """A set of row indices (distinct) with its mask, for many overlap coefficients with other sets:
    a look-up per row of the other set instead of an intersection (a sort of both) per pair."""

    def __init__(self, rows: np.ndarray, n_rows: int) -> None:
        self.size = len(rows)
        self.mask = np.zeros(n_rows, dtype=bool)
        self.mask[rows] = True

    def overlap(self, other: np.ndarray) -> float:
        """Overlap coefficient |self & other| / min(|self|, |other|) with sorted, distinct `other`."""
        if self.size == 0 or len(other) == 0:
            return 0.0
        return int(np.count_nonzero(self.mask[other])) / min(self.size, len(other))


def _phrase_stats(
    x: np.ndarray, title: sp.csc_matrix, areas: np.ndarray, n_areas: int, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coherence lift and cross-area spread of the papers that name each phrase in their title."""
    g2 = float(np.sum(x.mean(axis=0) ** 2))
    lift = np.zeros(len(cols))
    spread = np.zeros(len(cols))
    for i, j in enumerate(cols.tolist()):
        rows = title.indices[title.indptr[j] : title.indptr[j + 1]]
        m = len(rows)
        # ||mean||^2 of m random unit vectors is about g2 + (1 - g2) / m; the excess over that, scaled
        # to [0, 1], says how much the phrase's papers have in common beyond sharing the corpus.
        base = g2 + (1 - g2) / m
        coh = float(np.sum(x[rows].mean(axis=0) ** 2))
        lift[i] = (coh - base) / max(1 - base, 1e-9)
        # With few areas a phrase's papers sit in one of them by chance: spread means nothing there.
        if n_areas >= MIN_AREAS_FOR_SPREAD:
            spread[i] = 1.0 - np.bincount(areas[rows], minlength=n_areas).max() / m
        else:
            spread[i] = 1.0
    return lift, spread


def mine_techniques(
    vectors: np.ndarray,
    corpus: PhraseCorpus,
    areas: np.ndarray,
    *,
    max_techniques: int,
    min_size: int,
    min_lift: float = 0.08,
    min_spread: float = 0.2,
    merge_overlap: float = 0.5,
    merge_ratio: float = 0.25,
    min_complete: float = 0.3,
    max_abstract_ratio: float = 12.0,
) -> list[TechniqueGroup]:
    """Technique topics seeded by distinctive title phrases, best first.

    A candidate phrase must appear in at least `min_size` / 4 titles, its papers must be more alike than
    chance (coherence lift >= `min_lift`: "model" or "results" papers are not) and spread over several
    areas (a phrase whose papers all sit in one area is that area's name, not a technique). Candidates
    are taken in order of lift^2 * (0.25 + spread) * log(1 + title df). One that shares most of its
    papers with a chosen group of comparable size, or is its acronym, is merged into it ("quantization"
    + "low-bit", "RL" + "reinforcement learning"); one whose phrase is a sub- or super-phrase of the
    group's is dropped ("pruning" vs "token pruning").
    """
    x = normalize_rows(vectors)
    if max_techniques <= 0 or x.shape[0] == 0 or not corpus.keys:
        return []
    title = corpus.title.tocsc()
    abstract = corpus.abstract.tocsc()
    title_df = np.diff(title.indptr)
    # Very common phrases ("reasoning", "video" in 2025) are fields, not techniques; fragments
    # ("retrieval-augmented" 0.0, "sparse" 0.04) are not names at all, but names of methods are often
    # followed by a noun in titles ("LoRA Adapters": LoRA 0.39, Mixture-of-Experts 0.46).
    max_df = max(0.05 * x.shape[0], 50)
    # The papers that name a phrase in the title or twice in the abstract are most of its members: a
    # phrase with far too few of them cannot make a technique and need not be ranked.
    core_df = np.diff(((title > 0).astype(np.int8) + (abstract >= 2).astype(np.int8)).tocsc().indptr)
    # Everyday words are written in abstracts far more often than in titles ("capabilities" 29x,
    # "appearance" 18x, "bottleneck" 15x); names of techniques much less (LoRA 5x, CLIP 9x, pruning 3x).
    abstract_df = np.diff(abstract.indptr)
    # A technique is a phrase that many titles use, not a rare phrase whose few papers happen to be
    # alike (high lift, tiny df): on the demo those filled the list before "Quantization" came up.
    min_titles = max(2, min_size * 2 // 3)
    # A field's own word ("Interpretability": 17 abstracts a title) is no everyday word, however often
    # abstracts use it.
    field_word = np.asarray([p.lower() in FIELD_WORDS for p in corpus.phrases], dtype=bool)
    cols = np.flatnonzero(
        (title_df >= max(2, min_titles))
        & (title_df <= max_df)
        & (core_df >= min_size // 2)
        & (corpus.complete >= min_complete)
        & ((abstract_df <= max_abstract_ratio * np.maximum(title_df, 1)) | field_word)
    )
    # A technique is named by its trigger phrase: an ordinary word ("Memory", "Grounding", "Editing")
    # would take a place among the few techniques of a small corpus and be dropped unnamed later.
    # Single words that name nothing alone ("Federated", "Emotion", "Jailbreak") or are mostly written
    # as the start of longer names ("Hallucination" + detection, mitigation) still say, in a title,
    # which named technique a paper belongs to: they widen a chosen technique (see `_widen`).
    words = np.flatnonzero((corpus.n_words == 1) & (title_df >= max(2, min_size // 4)) & (title_df <= max_df))
    words = np.asarray(
        [
            c
            for c in words.tolist()
            if corpus.complete[c] < min_complete or not label_ok(pretty(corpus.phrases[c]))
        ],
        dtype=np.int64,
    )
    cols = cols[[label_ok(pretty(corpus.phrases[c])) for c in cols.tolist()]] if len(cols) else cols
    if len(cols) == 0:
        return []
    n_areas = int(areas.max()) + 1 if len(areas) else 1
    lift, spread = _phrase_stats(x, title, areas, n_areas, cols)
    # Squared lift: specific techniques ("quantization", 0.26) must beat broad words that many papers
    # use in passing ("pretraining", "transformer", 0.16) even though the latter are far more frequent.
    quality = lift**2 * (0.25 + spread) * np.log1p(title_df[cols])
    ok = (lift >= min_lift) & (spread >= min_spread)
    order = sorted(np.flatnonzero(ok).tolist(), key=lambda i: (-quality[i], corpus.keys[cols[i]]))

    chosen: list[TechniqueGroup] = []

    @cache  # only the shortlisted phrases are ever compared, not all 18k
    def stems(j: int) -> frozenset[str]:
        return frozenset(corpus.keys[j].split())

    def nested(a: int, b: int) -> bool:
        """Same technique under a longer or shorter name: "pruning" / "token pruning", "retrieval" / "RAG"."""
        if stems(a) <= stems(b) or stems(b) <= stems(a):
            return True
        short, long_ = sorted((corpus.keys[a].replace(" ", ""), corpus.keys[b].replace(" ", "")), key=len)
        return len(short) >= 4 and (long_.startswith(short) or long_.endswith(short))

    def synonyms(a: int, b: int) -> bool:
        """An acronym and its expansion: "RL" / "reinforcement learning", "QA" / "question answering"."""
        pa, pb = corpus.phrases[a], corpus.phrases[b]
        return is_acronym(pa, pb) or is_acronym(pb, pa)

    # A long shortlist: many candidates are merged into a chosen group or fall short of `min_size`, and
    # a cut at 4x dropped widely used methods of modest lift ("contrastive learning", "state space").
    def titled(j: int) -> np.ndarray:
        return title.indices[title.indptr[j] : title.indptr[j + 1]]

    @cache  # each candidate is compared with every chosen group: their title rows are kept
    def other_titled(phrases: tuple[int, ...]) -> np.ndarray:
        return np.unique(np.concatenate([titled(p) for p in phrases]))

    shortlist = [int(cols[i]) for i in order[: max_techniques * 10]]
    for col, group in zip(shortlist, _grow_lazily(x, title, abstract, [[c] for c in shortlist]), strict=True):
        if group is None or len(group.members) < min_size:
            continue
        merged = False
        in_title = _Rows(titled(col), x.shape[0])
        in_group = _Rows(group.members, x.shape[0])
        for g, other in enumerate(chosen):
            # Two phrases are one technique when the same papers name them in their titles ("low-bit"
            # papers say "quantization"); sharing neighbours in the embedding is not enough: "jailbreak
            # attacks" and "adversarial attacks", or "emotion recognition" and "sentiment analysis",
            # sit side by side and are followed by different communities.
            overlap = in_title.overlap(other_titled(tuple(other.phrases)))
            if overlap < merge_overlap and not (
                in_group.overlap(other.members) >= merge_overlap / 2
                and any(synonyms(col, p) for p in other.phrases)
            ):
                continue
            same = any(nested(col, p) for p in other.phrases)
            ratio = min(len(group.members), len(other.members)) / max(len(group.members), len(other.members))
            if same:
                merged = True  # the same technique under a longer or shorter name
                if len(stems(col)) < min(len(stems(p)) for p in other.phrases) and len(
                    group.members
                ) >= 1.5 * len(other.members):
                    # The broader name holds much more ("Pruning" around "Token Pruning"): it names the
                    # technique, and the narrower phrase stays a trigger.
                    grown = _grow(x, title, abstract, [[col, *other.phrases]])[0]
                    if grown is not None:
                        chosen[g] = grown
            elif ratio >= merge_ratio or any(synonyms(col, p) for p in other.phrases):
                grown = _grow(x, title, abstract, [[*other.phrases, col]])[0]
                if grown is not None:
                    chosen[g] = grown
                merged = True
            # else: a narrow technique inside a broad one ("chain-of-thought" in "reasoning") stays
            if merged:
                break
        if not merged:
            chosen.append(group)
    # Every candidate is tried before the cap: the ranking favours rare phrases whose few papers are
    # alike, and cutting it early left the demo without "Distillation" or "Remote Sensing". Over the
    # cap, the techniques that most papers name are kept, in the order they were found.
    # The cap comes after widening: a technique that its titles mostly name with a word alone
    # ("MoE", "Federated") is as large as those papers make it.
    chosen = _widen(x, title, abstract, corpus, chosen, words)
    if len(chosen) > max_techniques:
        by_size = sorted(range(len(chosen)), key=lambda g: (-len(chosen[g].members), g))[:max_techniques]
        chosen = [chosen[g] for g in sorted(by_size)]
    return chosen


def _widen(
    x: np.ndarray,
    title: sp.csc_matrix,
    abstract: sp.csc_matrix,
    corpus: PhraseCorpus,
    groups: list[TechniqueGroup],
    words: np.ndarray,
) -> list[TechniqueGroup]:
    """Papers whose title uses a word of a technique's name that names nothing alone (or its acronym)
    join the largest technique named with it: all of them when titles write the word for that
    technique only and its papers are about it as a whole (`_sole_use`, `_alike`: "Contrastive",
    "Federated", "MoE"), else those as close to its centroid as most of the papers that name it (its
    10th percentile): "Image-to-Image Translation" stays out of "Machine Translation"."""
    if not groups or not len(words):
        return groups
    owner: dict[int, int] = {}  # word column -> largest group whose phrases contain it
    # By the word's root: "Interpretable" papers join "Interpretability", "Robotic" ones "Robotics".
    by_root: dict[str, list[int]] = {}
    for w in words.tolist():
        by_root.setdefault(word_root(corpus.keys[w]), []).append(w)
    acronyms = [w for w in words.tolist() if _acronym(corpus.phrases[w])]
    for g in sorted(range(len(groups)), key=lambda g: -len(groups[g].members)):
        for p in groups[g].phrases:
            for part in corpus.keys[p].split():
                for w in by_root.get(word_root(part), []):
                    owner.setdefault(w, g)
            # An acronym written alone names its expansion's technique ("MoE" papers are
            # "Mixture-of-Experts" papers, "NeRF" papers "Neural Radiance Fields" ones).
            for w in acronyms:
                if w not in owner and is_acronym(corpus.phrases[w], corpus.phrases[p]):
                    owner[w] = g
    uses = _word_uses(title, abstract, corpus, list(owner))
    added: dict[int, list[np.ndarray]] = {}
    for w, g in owner.items():
        group = groups[g]
        core = np.unique(
            np.concatenate([title.indices[title.indptr[p] : title.indptr[p + 1]] for p in group.phrases])
        )
        rows = title.indices[title.indptr[w] : title.indptr[w + 1]]
        if len(core) == 0 or len(rows) == 0:
            continue
        near = x[rows] @ group.centroid
        # A word that titles write for this technique only, by papers that are as a whole about it,
        # brings all its papers; any other word only those close to the technique.
        if not (_sole_use(corpus, title, w, group.phrases, uses.get(w, [])) and _alike(x, core, near, group)):
            rows = rows[near >= float(np.quantile(x[core] @ group.centroid, 0.1))]
        added.setdefault(g, []).append(rows)
    out = list(groups)
    for g, parts in added.items():
        group = groups[g]
        new = np.setdiff1d(np.concatenate(parts), group.members)
        if not len(new):
            continue
        members = np.concatenate([group.members, new])
        scores = np.concatenate([group.scores, np.full(len(new), ABSTRACT_SCORE, dtype=group.scores.dtype)])
        order = np.argsort(members, kind="stable")
        out[g] = TechniqueGroup(
            group.phrases,
            members[order],
            scores[order],
            group.centroid,
            group.threshold,
            group.mention_threshold,
        )
    return out


def _acronym(word: str) -> bool:
    """ "MoE", "LoRA", "NeRF", "KV": two capitals at least, and capitals for half the letters or more
    ("Whole-Slide" and "Cross-Task" are not)."""
    letters = [c for c in word if c.isalpha()]
    caps = sum(c.isupper() for c in letters)
    return caps >= 2 and 2 * caps >= len(letters)


def _word_uses(
    title: sp.csc_matrix, abstract: sp.csc_matrix, corpus: PhraseCorpus, words: list[int]
) -> dict[int, list[int]]:
    """For each word, the longer phrases of at least two titles that write it: those that contain it
    (a modifier's completions, "contrastive learning", "contrastive decoding") or, for an acronym,
    those it abbreviates ("segment anything model", "sharpness-aware minimization" for "SAM")."""
    want = {corpus.keys[w]: w for w in words}
    caps = {
        "".join(c for c in corpus.phrases[w] if c.isupper()).lower(): w
        for w in words
        if _acronym(corpus.phrases[w])
    }
    df = np.diff(title.indptr)
    # Hyphenated names are one word to the corpus ("Mixture-of-Experts") and count as longer uses.
    longer = (corpus.n_words >= 2) | np.asarray(["-" in p for p in corpus.phrases], dtype=bool)
    out: dict[int, list[int]] = {}
    for j in np.flatnonzero(longer & (df >= 2)).tolist():
        for part in set(corpus.keys[j].split()):
            if part in want and want[part] != j:
                out.setdefault(want[part], []).append(j)
        w = caps.get(initials(corpus.phrases[j]))
        # Letters alone are weak evidence ("MoE" fits "Motion Estimation"): an expansion is one that
        # some paper writes together with the acronym ("Mixture-of-Experts (MoE)").
        if w is not None and is_acronym(corpus.phrases[w], corpus.phrases[j]):
            seen = [np.union1d(_rows(title, c), _rows(abstract, c)) for c in (w, j)]
            if len(np.intersect1d(seen[0], seen[1], assume_unique=True)):
                out.setdefault(w, []).append(j)
    return out


def _sole_use(
    corpus: PhraseCorpus, title: sp.csc_matrix, word: int, phrases: list[int], uses: list[int]
) -> bool:
    """Whether titles write `word` for one technique only, so that every title that writes it belongs
    there: the word is mostly followed by more words (a modifier such as "Contrastive", "Federated",
    or an acronym) and the technique's own phrases hold at least half the titles of its longer uses.
    "Translation" (mostly a whole name: "machine", "image-to-image" or "speech" translation) and
    "Graph" (graph neural networks, graph transformers, graph reasoning ...) are not."""
    if not uses or (not _acronym(corpus.phrases[word]) and corpus.complete[word] >= 0.3):
        return False
    own = [frozenset(corpus.keys[p].split()) for p in phrases]
    mine = [j for j in uses if j in phrases or any(o <= frozenset(corpus.keys[j].split()) for o in own)]

    def titles(cols: list[int]) -> int:
        return len(np.unique(np.concatenate([_rows(title, j) for j in cols])))

    return bool(mine) and 2 * titles(mine) >= titles(uses)


def _alike(x: np.ndarray, core: np.ndarray, near: np.ndarray, group: TechniqueGroup) -> bool:
    """Whether the papers that write a word are, as a whole, about the technique: their median cosine
    to its centroid covers at least ALIKE of the way from a typical paper's to a typical naming
    paper's (each naming paper measured against the others, so that a small group's own papers do
    not look closer than they are). "Contrastive" and "Federated" papers (0.8-0.9 of the way on the
    25k sample) are; "Long" papers around "Long Video" (0.7) and "Sparse" papers around "Sparse
    Autoencoders" (0.2) are not."""
    return _way(x, core, near, group.centroid) >= ALIKE


def _way(x: np.ndarray, core: np.ndarray, near: np.ndarray, centroid: np.ndarray) -> float:
    """(median of `near` - a typical paper's cosine) / (a naming paper's - a typical paper's)."""
    typical = float(np.median(x[:: max(1, x.shape[0] // 4096)] @ centroid))
    total = x[core].sum(axis=0)
    others = total[None, :] - x[core]  # each naming paper's group without it
    norms = np.linalg.norm(others, axis=1)
    if len(core) < 2 or not np.all(norms > 0):
        return 0.0
    naming = float(np.median(np.einsum("ij,ij->i", others, x[core]) / norms))
    if naming <= typical:
        return 0.0
    return (float(np.median(near)) - typical) / (naming - typical)


def _rows(mat: sp.csc_matrix, col: int) -> np.ndarray:
    return mat.indices[mat.indptr[col] : mat.indptr[col + 1]]
