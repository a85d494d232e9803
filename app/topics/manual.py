"""Topics an operator defines by a name and keywords: which papers they hold, and how strongly.

Pure. A keyword matches a whole word or phrase, case-insensitively, with an optional plural "s"
("sparse autoencoder" matches "Sparse Autoencoders"); a trailing `*` asks for a prefix
("quantiz*" matches quantization, quantized, quantizing). A hit in the title makes a paper a full
member; in the abstract only, it takes two mentions (a single passing mention is not the topic).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TITLE_SCORE = 1.0
ABSTRACT_SCORE_PER_HIT = 0.3
ABSTRACT_SCORE_CAP = 0.8
MIN_SCORE = 0.5


def parse_keywords(text: str) -> list[str]:
    """Comma-separated keywords, trimmed, de-duplicated (case-insensitively), order kept."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in text.split(","):
        word = " ".join(raw.split())
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    return out


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """One regular expression for all keywords, or None when there is none usable."""
    alternatives = []
    for keyword in keywords:
        word = keyword.strip()
        prefix = word.endswith("*")
        word = word.rstrip("*").strip()
        if not word:
            continue
        body = r"[\s\-]+".join(re.escape(part) for part in re.split(r"[\s\-]+", word))
        alternatives.append(body + (r"\w*" if prefix else r"(?:s|es)?") + r"(?!\w)")
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def keyword_score(title: str, abstract: str, pattern: re.Pattern[str]) -> float:
    """1 for a title hit; 0.3 per abstract mention up to 0.8; 0 when nothing matches."""
    if pattern.search(title):
        return TITLE_SCORE
    hits = len(pattern.findall(abstract))
    return min(ABSTRACT_SCORE_CAP, ABSTRACT_SCORE_PER_HIT * hits)


def keyword_members(
    titles: Sequence[str], abstracts: Sequence[str], keywords: Sequence[str], *, min_score: float = MIN_SCORE
) -> list[tuple[int, float]]:
    """(row, score) of the papers the keywords place in the topic."""
    pattern = keyword_pattern(keywords)
    if pattern is None:
        return []
    out = []
    for row, (title, abstract) in enumerate(zip(titles, abstracts, strict=True)):
        score = keyword_score(title, abstract, pattern)
        if score >= min_score:
            out.append((row, score))
    return out
