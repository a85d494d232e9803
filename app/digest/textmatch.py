"""Matching a subscriber's words against papers: stemming, phrases, acronyms and BM25 weighting.

Pure: plain strings in, scores out. Words are lower-cased and stemmed with the Snowball English
stemmer ("GNNs" → "gnn", "quantized" and "quantization" → "quantiz"), so a keyword finds its
plural and its other forms. A keyword of several words is a phrase: its stems must follow each
other in the title or the abstract. An acronym keyword ("GNN") also finds its long form when the
subscriber's own words say what it stands for: a keyword written "graph neural networks (GNN)",
or the acronym and a phrase with those initials both among the keywords or in the interest text.

Scoring is BM25F over two fields: a mention in the title counts `TITLE_WEIGHT` times, and the
term frequency saturates with the usual k1 and b over the pool's average document length:

    tf' = TITLE_WEIGHT * tf_title + tf_abstract
    f(keyword, paper) = tf' / (tf' + k1 * (1 - b + b * length / average_length))   in [0, 1)

`f` is the keyword's share of the most a match can give, so one line in the abstract of a long
paper counts less than the keyword in the title; `bm25` multiplies it by the keyword's idf in the
pool (the plain BM25 ranking of the baseline in the relevance benchmark).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import snowballstemmer

TITLE_WEIGHT = 3.0
K1 = 1.2
B = 0.75
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
_ACRONYM = re.compile(r"^[A-Z][A-Za-z0-9]{1,7}s?$")
_DEFINED = re.compile(r"^(?P<long>.+?)\s*\((?P<short>[A-Za-z0-9-]{2,10})\)\s*$")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "this",
        "to",
        "we",
        "with",
        "via",
        "using",
        "based",
        "toward",
        "towards",
        "new",
    ]
)
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one lower-cased word. Acronyms keep no plural "s" ("gnns" → "gnn"), which the
    Snowball rules leave on words without a vowel."""
    if len(word) > 2 and word.endswith("s") and not re.search(r"[aeiouy]", word[:-1]):
        return word[:-1]
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased words of `text`, hyphens split ("U-Net" → "u", "net"), in order."""
    return [w for token in _WORD.findall(text.lower()) for w in token.replace("'", "").split("-") if w]


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def initials(phrase: str) -> str:
    """Initials of a phrase's words, stop words skipped ("graph neural networks" → "gnn")."""
    return "".join(w[0] for w in words(phrase) if w not in STOP_WORDS)


@dataclass(frozen=True)
class Keyword:
    """One keyword as written, and the stem sequences that count as a mention of it."""

    text: str
    forms: tuple[tuple[str, ...], ...]


def compile_keywords(keywords: Sequence[str], context: str = "") -> list[Keyword]:
    """Keywords ready for matching; `context` is the subscriber's other words (their interest text).

    "graph neural networks (GNN)" gives both forms; an acronym keyword also takes any phrase of
    two to five words in the keywords or in `context` whose initials spell it (plural "s" ignored).
    """
    phrases: list[str] | None = None  # found only when an acronym needs them
    out: list[Keyword] = []
    for raw in keywords:
        text = raw.strip()
        if not text:
            continue
        forms: list[tuple[str, ...]] = []
        defined = _DEFINED.match(text)
        parts = [defined.group("long"), defined.group("short")] if defined else [text]
        for part in parts:
            form = tuple(stems(part))
            if form and form not in forms:
                forms.append(form)
        for part in parts:
            if _ACRONYM.match(part.strip()) and len(words(part)) == 1:
                short = part.strip().lower().removesuffix("s")
                if phrases is None:
                    phrases = [k for k in keywords if len(words(k)) > 1] + _phrases(context)
                for phrase in phrases:
                    form = tuple(stems(phrase))
                    if len(form) > 1 and initials(phrase) == short and form not in forms:
                        forms.append(form)
        if forms:
            out.append(Keyword(text, tuple(forms)))
    return out


def _phrases(text: str) -> list[str]:
    """Runs of two to five words of `text` (between punctuation), for finding acronyms' long forms."""
    out: list[str] = []
    for chunk in re.split(r"[,;:.()\n]", text):
        ws = [w for w in words(chunk)]
        for n in range(2, 6):
            out += [" ".join(ws[i : i + n]) for i in range(len(ws) - n + 1)]
    return out


class TextIndex:
    """Stemmed title and abstract of every paper of a pool, with the statistics BM25 needs."""

    def __init__(self, titles: Sequence[str], abstracts: Sequence[str]) -> None:
        self.title_stems = [stems(t) for t in titles]
        self.title_sets = [frozenset(t) for t in self.title_stems]
        self.abstract_stems = [stems(a) for a in abstracts]
        self.n = len(self.title_stems)
        lengths = np.array(
            [
                TITLE_WEIGHT * len(t) + len(a)
                for t, a in zip(self.title_stems, self.abstract_stems, strict=True)
            ],
            dtype=np.float64,
        )
        average = float(lengths.mean()) if self.n else 1.0
        self.norm = K1 * (1 - B + B * lengths / max(average, 1.0))
        self.postings: dict[str, set[int]] = defaultdict(set)
        for i, (t, a) in enumerate(zip(self.title_stems, self.abstract_stems, strict=True)):
            for s in set(t) | set(a):
                self.postings[s].add(i)
        self._cache: dict[tuple[str, ...], tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]] = {}

    def counts(self, form: tuple[str, ...]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """(weighted term frequency tf', in-title flag) of one stem sequence in every paper."""
        if form not in self._cache:
            tf = np.zeros(self.n)
            in_title = np.zeros(self.n, dtype=bool)
            docs = set.intersection(*(self.postings.get(s, set()) for s in form)) if form else set()
            for i in docs:
                title = _occurrences(self.title_stems[i], form)
                tf[i] = TITLE_WEIGHT * title + _occurrences(self.abstract_stems[i], form)
                in_title[i] = title > 0
            self._cache[form] = (tf, in_title)
        return self._cache[form]

    def idf(self, form: tuple[str, ...]) -> float:
        tf, _ = self.counts(form)
        df = int((tf > 0).sum())
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def match(self, keyword: Keyword) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """(f in [0, 1), in-title flag) of a keyword in every paper: its best form counts."""
        best = np.zeros(self.n)
        in_title = np.zeros(self.n, dtype=bool)
        for form in keyword.forms:
            tf, title = self.counts(form)
            best = np.maximum(best, tf / (tf + self.norm))
            in_title |= title
        return best, in_title

    def any_match(self, keywords: Iterable[Keyword]) -> npt.NDArray[np.bool_]:
        hit = np.zeros(self.n, dtype=bool)
        for keyword in keywords:
            for form in keyword.forms:
                hit |= self.counts(form)[0] > 0
        return hit

    def bm25(self, query: str) -> npt.NDArray[np.float64]:
        """Plain BM25F of a free-text query (each distinct stem a term; stop words dropped)."""
        score = np.zeros(self.n)
        for s in dict.fromkeys(stem(w) for w in words(query) if w not in STOP_WORDS):
            tf, _ = self.counts((s,))
            score += self.idf((s,)) * tf * (K1 + 1) / (tf + self.norm)
        return score


def _occurrences(seq: list[str], form: tuple[str, ...]) -> int:
    n = len(form)
    if n == 1:
        return seq.count(form[0])
    return sum(1 for i in range(len(seq) - n + 1) if tuple(seq[i : i + n]) == form)
