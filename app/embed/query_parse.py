"""Reading a search box: arXiv ids, "quoted phrases", words, and the full-text expressions for them.

Pure: plain strings in, plain data out. User text never reaches a full-text parser as is: words
are reduced to letters and digits, so no input can make SQLite FTS5 or PostgreSQL's
`to_tsquery` fail with a syntax error. Queries are bounded: MAX_QUERY_CHARS of text,
MAX_TERMS words, MAX_PHRASES quoted phrases of MAX_PHRASE_WORDS words each (`shortened`
says when something was left out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.ingest.records import parse_arxiv_id

MAX_QUERY_CHARS = 300
MAX_TERMS = 12
# Each quoted phrase is an extra full-text condition (a chain of <-> on PostgreSQL): a query
# keeps at most MAX_PHRASES of them, each cut to its first MAX_PHRASE_WORDS words.
MAX_PHRASES = 4
MAX_PHRASE_WORDS = 8
# Words too common to narrow a search over abstracts; kept only when a query has nothing else.
_STOPWORD_TEXT = """
a about an and are as at be by can do does for from how in into is it its of on or our over so than that the
their them these this to under using via vs we what when which while who why with without
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]+)[\"“”„«»]")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    text: str = ""  # what the encoder sees: the query without ids and quote marks
    terms: tuple[str, ...] = ()  # lower-cased words outside quotes, stopwords dropped
    phrases: tuple[tuple[str, ...], ...] = ()  # quoted phrases; every result must contain them
    arxiv_ids: tuple[str, ...] = field(default=())
    prefix: bool = False  # a single word: also match words that start with it
    shortened: bool = False  # phrases or words past the caps were left out

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases or self.arxiv_ids)

    @property
    def has_words(self) -> bool:
        return bool(self.terms or self.phrases)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s")


def stem(word: str) -> str:
    """A crude English stem (one common suffix off), for comparing words without a full stemmer."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def parse_query(raw: str) -> ParsedQuery:
    text = " ".join((raw or "").split())[:MAX_QUERY_CHARS]
    ids: list[str] = []
    kept: list[str] = []
    for token in text.split(" "):
        parsed = parse_arxiv_id(token.strip(".,;()[]<>'\""), strict=True) if token else None
        if parsed and parsed[0] not in ids:
            ids.append(parsed[0])
        elif token:
            kept.append(token)
    rest = " ".join(kept)
    phrases: list[tuple[str, ...]] = []
    shortened = False
    for match in _QUOTED.finditer(rest):
        phrase = tuple(words(match.group(1)))
        if not phrase or phrase in phrases:  # a quoted single word is a required word
            continue
        if len(phrases) == MAX_PHRASES or len(phrase) > MAX_PHRASE_WORDS:
            shortened = True
            if len(phrases) == MAX_PHRASES:
                continue
        phrases.append(phrase[:MAX_PHRASE_WORDS])
    outside = _QUOTED.sub(" ", rest)
    all_terms = list(dict.fromkeys(words(outside)))
    terms = [t for t in all_terms if t not in STOPWORDS] or all_terms
    shortened = shortened or len(terms) > MAX_TERMS
    terms = terms[:MAX_TERMS]
    semantic = " ".join(re.sub(r"[\"“”„«»]", " ", rest).split())
    prefix = len(terms) == 1 and not phrases and len(terms[0]) >= 3 and terms[0] not in STOPWORDS
    return ParsedQuery(
        raw=raw,
        text=semantic,
        terms=tuple(terms),
        phrases=tuple(dict.fromkeys(phrases)),
        arxiv_ids=tuple(ids),
        prefix=prefix,
        shortened=shortened,
    )


# --- SQLite FTS5 -------------------------------------------------------------------------


def _fts5_term(term: str, prefix: bool = False) -> str:
    return f'"{term}"' + ("*" if prefix else "")


def fts5_match(query: ParsedQuery, *, any_term: bool) -> str | None:
    """An FTS5 MATCH expression: phrases always required; words all required, or any of them."""
    parts = [_fts5_term(" ".join(p)) for p in query.phrases]
    terms = [_fts5_term(t, query.prefix) for t in query.terms]
    if terms:
        parts.append(("(" + " OR ".join(terms) + ")") if any_term and len(terms) > 1 else " AND ".join(terms))
    return " AND ".join(parts) if parts else None


def fts5_phrases(query: ParsedQuery) -> str | None:
    if not query.phrases:
        return None
    return " AND ".join(_fts5_term(" ".join(p)) for p in query.phrases)


# --- PostgreSQL to_tsquery -----------------------------------------------------------------


def _ts_term(term: str, prefix: bool = False) -> str:
    return term + (":*" if prefix else "")


def tsquery(query: ParsedQuery, *, any_term: bool) -> str | None:
    """Text for `to_tsquery('english', ...)` with the same meaning as `fts5_match`."""
    parts = ["(" + " <-> ".join(p) + ")" for p in query.phrases]
    terms = [_ts_term(t, query.prefix) for t in query.terms]
    if terms:
        parts.append("(" + (" | " if any_term else " & ").join(terms) + ")")
    return " & ".join(parts) if parts else None


def tsquery_phrases(query: ParsedQuery) -> str | None:
    if not query.phrases:
        return None
    return " & ".join("(" + " <-> ".join(p) + ")" for p in query.phrases)
