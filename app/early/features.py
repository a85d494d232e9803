"""The named inputs of the early-trending model, computed as of a paper's announcement day (pure).

Every input is known on the morning the paper is announced; nothing learned afterwards
(upvotes, a listing, a code link that Hugging Face added) ever enters:

* **text**: number of authors (log), a code or data link in the abstract or arXiv comment, a
  project page, a venue named in the comment, whether there is a comment, a "Name: what it
  does" title, title and abstract length, number of categories;
* **categories**: the primary category and each cross-list, one input per category;
* **authors**: how many earlier papers of the authors were featured, as known before the day
  (most by one author, all together, weighted by recency with a 30-day half-life, share of
  authors with one, first and last author), from an `AuthorHistory` fed in the order the
  listings became known, so a paper of day D only ever sees listings known before D;
* **topics**: the momentum of the paper's topics as of the day before (`topic_momentum`,
  filled by the caller from the topic model's daily counts; absent when unknown).

The paper's vector is the model's other input (`model.py`). Rows are plain dicts (missing
means 0), so a model keeps the exact names it learned in its feature list.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

RECENCY_HALF_LIFE_DAYS = 30.0
TOPIC_MOMENTUM_CAP = 5.0

CODE = re.compile(
    r"github\.com|gitlab\.com|bitbucket\.org|huggingface\.co/|"
    r"\b(?:our |the |all |source )?(?:code|codes|implementation|models?|weights|datasets?)"
    r"(?: and [a-z ]{1,30})?\s(?:is|are|will be|has been|have been)\s(?:publicly |openly |made )?"
    r"(?:available|released|open[- ]sourced)|\bopen[- ]sourc",
    re.I,
)
PROJECT = re.compile(r"project page|project website|github\.io|\bwebsite\b|homepage|\bdemo\b", re.I)
VENUE = re.compile(
    r"\baccepted\b|\bto appear\b|\bpublished\b|\b(?:camera[- ]ready|oral|spotlight)\b|"
    r"\b(?:CVPR|ICCV|ECCV|NeurIPS|NIPS|ICLR|ICML|ACL|EMNLP|NAACL|COLING|AAAI|IJCAI|SIGGRAPH|"
    r"KDD|WWW|SIGIR|ICRA|IROS|CoRL|RSS|MICCAI|Interspeech|ICASSP|COLM|TPAMI|JMLR|TMLR)\b",
    re.I,
)
VENUE_NAME = re.compile(
    r"\b(CVPR|ICCV|ECCV|NeurIPS|NIPS|ICLR|ICML|ACL|EMNLP|NAACL|COLING|AAAI|IJCAI|SIGGRAPH(?: Asia)?|KDD|WWW|"
    r"SIGIR|ICRA|IROS|CoRL|RSS|MICCAI|Interspeech|ICASSP|COLM|TPAMI|JMLR|TMLR)(?:\s*'?(\d{2,4}))?",
    re.I,
)
NAMED_TITLE = re.compile(r"^[^:]{2,40}:\s")

GROUPS = ("text", "categories", "authors", "topics")
TEXT = (
    "authors_log", "code_link", "project_page", "venue", "has_comment", "named_title",
    "title_words", "abstract_words", "n_categories",
)  # fmt: skip
AUTHORS = (
    "authors_featured_max", "authors_featured_total", "authors_featured_recent",
    "authors_featured_share", "first_author_featured", "last_author_featured",
)  # fmt: skip
TOPICS = ("topic_momentum",)
CATEGORY_PREFIX = "cat:"
PRIMARY_PREFIX = "primary:"


def group_of(name: str) -> str:
    """The input group a feature belongs to (for ablations and explanations)."""
    if name in TEXT:
        return "text"
    if name in AUTHORS:
        return "authors"
    if name in TOPICS:
        return "topics"
    if name.startswith((CATEGORY_PREFIX, PRIMARY_PREFIX)):
        return "categories"
    raise ValueError(f"unknown feature {name!r}")


@dataclass(frozen=True)
class PaperFacts:
    """What is known about a paper on its announcement morning."""

    day: date
    title: str
    abstract: str = ""
    comment: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    topic_momentum: float | None = None  # None: the topic model said nothing for that day


def author_key(name: str) -> str:
    """One key per spelling of a name: accents, case, dots and spacing do not matter."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[.\-'’,]", " ", text.casefold()).split())


@dataclass(frozen=True)
class Listing:
    """A featured paper: its authors and the day its listing became known."""

    known: date
    authors: tuple[str, ...]


class AuthorHistory:
    """Featured papers per author, revealed in the order they became known.

    `stats(authors, day)` may be asked for days in any order; each call sees exactly the
    listings known before `day` (the listings are sorted once; a per-author list is searched).
    """

    def __init__(self, listings: Iterable[Listing]) -> None:
        self._by_author: dict[str, list[int]] = defaultdict(list)
        for listing in sorted(listings, key=lambda item: item.known):
            ordinal = listing.known.toordinal()
            for key in {author_key(a) for a in listing.authors if a.strip()}:
                self._by_author[key].append(ordinal)

    def featured_before(self, author: str, day: date) -> tuple[int, float]:
        """(count, recency-weighted count) of the author's listings known before `day`."""
        days = self._by_author.get(author_key(author))
        if not days:
            return 0, 0.0
        limit = day.toordinal()
        # Listings are sorted by day: the ones known before `day` are a prefix.
        lo, hi = 0, len(days)
        while lo < hi:
            mid = (lo + hi) // 2
            if days[mid] < limit:
                lo = mid + 1
            else:
                hi = mid
        decay = math.log(2) / RECENCY_HALF_LIFE_DAYS
        return lo, float(sum(math.exp(-decay * (limit - d)) for d in days[:lo]))

    def features(self, authors: Sequence[str], day: date) -> dict[str, float]:
        if not authors:
            return {}
        counts = [self.featured_before(a, day) for a in authors]
        numbers = [c for c, _ in counts]
        if not any(numbers):
            return {}
        return {
            "authors_featured_max": math.log1p(max(numbers)),
            "authors_featured_total": math.log1p(sum(numbers)),
            "authors_featured_recent": math.log1p(sum(r for _, r in counts)),
            "authors_featured_share": sum(1 for c in numbers if c) / len(numbers),
            "first_author_featured": math.log1p(numbers[0]),
            "last_author_featured": math.log1p(numbers[-1]),
        }


def venue_name(comment: str | None) -> str | None:
    """The venue a comment names ("CVPR 2025"), for the reasons in words; None when it names none."""
    match = VENUE_NAME.search(comment or "") if comment and VENUE.search(comment) else None
    if not match:
        return None
    return f"{match.group(1)} {match.group(2)}" if match.group(2) else match.group(1)


def text_features(facts: PaperFacts) -> dict[str, float]:
    words = (facts.abstract or "") + " " + (facts.comment or "")
    comment = facts.comment or ""
    out = {
        "authors_log": math.log1p(len(facts.authors)),
        "code_link": float(bool(CODE.search(words))),
        "project_page": float(bool(PROJECT.search(words))),
        "venue": float(bool(VENUE.search(comment))),
        "has_comment": float(bool(comment.strip())),
        "named_title": float(bool(NAMED_TITLE.match(facts.title or ""))),
        "title_words": len((facts.title or "").split()) / 10.0,
        "abstract_words": len((facts.abstract or "").split()) / 100.0,
        "n_categories": float(len(facts.categories)),
    }
    return {k: v for k, v in out.items() if v}


def category_features(facts: PaperFacts) -> dict[str, float]:
    out = {CATEGORY_PREFIX + c: 1.0 for c in facts.categories if c}
    if facts.primary_category:
        out[PRIMARY_PREFIX + facts.primary_category] = 1.0
    return out


def topic_features(facts: PaperFacts) -> dict[str, float]:
    if facts.topic_momentum is None or not math.isfinite(facts.topic_momentum):
        return {}
    value = max(-TOPIC_MOMENTUM_CAP, min(TOPIC_MOMENTUM_CAP, facts.topic_momentum))
    return {"topic_momentum": value} if value else {}


def paper_features(facts: PaperFacts, history: AuthorHistory) -> dict[str, float]:
    """All named inputs of one paper, as of its announcement day."""
    return {
        **text_features(facts),
        **category_features(facts),
        **history.features(facts.authors, facts.day),
        **topic_features(facts),
    }


def feature_rows(facts: Sequence[PaperFacts], listings: Iterable[Listing]) -> list[dict[str, float]]:
    """The inputs of many papers, each as of its own day, in input order."""
    history = AuthorHistory(listings)
    return [paper_features(f, history) for f in facts]


def vocabulary(
    rows: Sequence[dict[str, float]], *, min_support: int, groups: Iterable[str] = GROUPS
) -> list[str]:
    """Feature names worth learning: in a wanted group and non-zero in at least `min_support` rows."""
    wanted = set(groups)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for name, value in row.items():
            if value:
                counts[name] += 1
    names = [n for n, c in counts.items() if c >= min_support and group_of(n) in wanted]
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(names, key=lambda n: (order[group_of(n)], n))


def to_matrix(rows: Sequence[dict[str, float]], names: Sequence[str]) -> npt.NDArray[np.float64]:
    """Rows as a dense matrix over `names` (a name a row lacks is 0)."""
    out = np.zeros((len(rows), len(names)), dtype=np.float64)
    column = {n: j for j, n in enumerate(names)}
    for i, row in enumerate(rows):
        for name, value in row.items():
            j = column.get(name)
            if j is not None:
                out[i, j] = value
    return out
