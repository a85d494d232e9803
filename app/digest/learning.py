"""What a subscriber's feedback teaches their digest: pure, from the marked papers to a profile.

"More like this" and seed papers pull the profile towards a paper, "less like this" pushes it
away (a Rocchio update of the interest vector, kept small: paper-to-paper cosines run higher than
the interest text's, and a large step let whole neighbouring fields through in the relevance
benchmark), and the words several marked papers share become weighted terms (the ranking uses
the negative ones; see `selection`):

    direction = normalize(interest + BETA * mean(liked) - GAMMA * mean(disliked))
    term weight(stem) = (number of liked titles with the stem) - (number of disliked titles with it),
        kept when at least `MIN_SUPPORT` marked titles share it (one paper's odd word teaches nothing)

Topics and authors are counted the same way (liked minus disliked, over the marked papers),
for the "what your digest has learned" page; the ranking uses the direction, the nearest marked
papers and the terms (see `selection`). Muted topics are not learned: they remove.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from app.digest.textmatch import STOP_WORDS, stem, words

Vector = npt.NDArray[np.float32]
BETA = 0.2
GAMMA = 0.2
MIN_SUPPORT = 2
MAX_TERMS = 12


@dataclass(frozen=True)
class Marked:
    """One paper the subscriber marked: kind is more | less | seed."""

    paper_id: int
    kind: str
    title: str
    vector: Vector | None = None
    topic_ids: tuple[int, ...] = ()
    authors: tuple[str, ...] = ()

    @property
    def liked(self) -> bool:
        return self.kind in ("more", "seed")


@dataclass
class Learned:
    direction: Vector | None = None  # the interest vector moved by feedback; None without either
    terms: dict[str, float] = field(default_factory=dict)  # stem → weight (+ liked, − disliked)
    words: dict[str, str] = field(default_factory=dict)  # stem → the word as most often written
    topics: dict[int, float] = field(default_factory=dict)
    authors: dict[str, float] = field(default_factory=dict)


def learn(interest: Vector | None, marked: Sequence[Marked]) -> Learned:
    """The learned profile of one subscriber (see the module docstring for the rules)."""
    liked = [m.vector for m in marked if m.liked and m.vector is not None]
    disliked = [m.vector for m in marked if m.kind == "less" and m.vector is not None]
    direction: Vector | None = None
    if interest is not None or liked:
        base = np.zeros_like(liked[0] if liked else interest, dtype=np.float32)
        if interest is not None:
            base = base + interest
        if liked:
            base = base + BETA * np.mean(liked, axis=0)
        if disliked:
            base = base - GAMMA * np.mean(disliked, axis=0)
        norm = float(np.linalg.norm(base))
        direction = (base / norm).astype(np.float32) if norm > 0 else None
    terms: Counter[str] = Counter()
    support: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    topics: Counter[int] = Counter()
    authors: Counter[str] = Counter()
    for m in marked:
        sign = 1 if m.liked else -1
        seen = set()
        for word in words(m.title):
            if word in STOP_WORDS or len(word) < 3 or word.isdigit():
                continue
            s = stem(word)
            shown.setdefault(s, Counter())[word] += 1
            seen.add(s)
        for s in seen:
            terms[s] += sign
            support[s] += 1
        for t in m.topic_ids:
            topics[t] += sign
        for a in m.authors:
            authors[a] += sign
    kept = sorted(
        (s for s in terms if support[s] >= MIN_SUPPORT and terms[s] != 0),
        key=lambda s: (-abs(terms[s]), s),
    )[:MAX_TERMS]
    return Learned(
        direction=direction,
        terms={s: float(terms[s]) for s in kept},
        words={s: shown[s].most_common(1)[0][0] for s in kept},
        topics={t: float(v) for t, v in topics.items() if v},
        authors={a: float(v) for a, v in authors.items() if v >= MIN_SUPPORT},
    )
