"""The source-neutral paper record every parser produces, and the text helpers around it.

`PaperRecord` is what one source says about one paper at one moment. The upsert merges it
into the `papers` row; `text_hash(embedding_text(title, abstract))` is the fingerprint of
the text the encoder sees, so a changed title or abstract marks the paper for re-embedding.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.ingest.parse.links import http_url


@dataclass
class PaperRecord:
    """One paper as one source describes it; `None` and empty values mean "not given"."""

    source: str
    source_id: str
    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    comment: str | None = None
    published_at: datetime | None = None
    updated_at_source: datetime | None = None
    announced_date: date | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    upvotes: int | None = None
    comments_count: int | None = None
    github_stars: int | None = None
    hf_date: date | None = None
    hf_listed: bool | None = None  # listed on HF Daily Papers: True/False when the source says
    keywords: list[str] = field(default_factory=list)
    withdrawn: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Links a source gave are kept only as absolute http(s) URLs (app.ingest.parse.links).
        self.abs_url = http_url(self.abs_url)
        self.pdf_url = http_url(self.pdf_url)
        self.code_url = http_url(self.code_url)
        self.project_url = http_url(self.project_url)

    @property
    def key(self) -> tuple[str, str]:
        """Identity across sources: ("arxiv", id) for arXiv papers, else (source, source_id)."""
        if self.arxiv_id:
            return ("arxiv", self.arxiv_id)
        return (self.source, self.source_id)


def embedding_text(title: str, abstract: str) -> str:
    """The exact text the encoder sees (whitespace-normalised title + ". " + abstract)."""
    return " ".join((title + ". " + abstract).split())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paper_text_hash(title: str, abstract: str) -> str:
    """Paper.text_hash: always `text_hash(embedding_text(title, abstract))`."""
    return text_hash(embedding_text(title, abstract))


def title_key(title: str) -> str:
    """Stable id for a paper known only by its title (case and spacing do not matter)."""
    normal = " ".join(title.casefold().split())
    return "t:" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:24]


# Bump when a parser changes what it makes of the same raw item: every item is then re-parsed.
PARSER_VERSION = "2"


def fingerprint_bytes(source: str, data: bytes) -> str:
    """Fingerprint of a raw item as received (a JSONL line): same bytes, same source → nothing new."""
    digest = hashlib.sha256(f"{PARSER_VERSION}\0{source}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def fingerprint_value(source: str, value: Any) -> str:
    """Fingerprint of a decoded raw item (canonical JSON, so key order does not matter)."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return fingerprint_bytes(source, blob.encode("utf-8"))


# --- arXiv identifiers ----------------------------------------------------------------

# New style (2007-04 on): YYMM.NNNN (to 2014) or YYMM.NNNNN; old style: archive(.SUBJ)/YYMMNNN.
_NEW_ID = re.compile(r"(?<![\w.])(\d{4}\.\d{4,5})(?:v(\d+))?(?![\dA-Za-z])")
_OLD_ID = re.compile(r"(?<![\w.-])([a-z][a-z-]*)(?:\.[A-Za-z]{2})?/(\d{7})(?:v(\d+))?(?!\w)")


_STRICT_PREFIX = re.compile(
    r"^(?:arxiv:|oai:arxiv\.org:|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)", re.I
)


def parse_arxiv_id(value: str | None, *, strict: bool = False) -> tuple[str, int | None] | None:
    """Find an arXiv id in an id, URL or OAI identifier: ("2501.01234", 2), ("hep-th/9901001", None).

    The version suffix is split off; an old-style id with a subject class
    (`math.GT/0309136`) is normalised to its archive (`math/0309136`), as arXiv does.
    With `strict`, the whole value must be the id (optionally prefixed `arXiv:` or an
    arxiv.org URL): used for `id` columns of files, where other id schemes may appear.
    Returns None when the text holds no arXiv id.
    """
    if not value:
        return None
    text = _STRICT_PREFIX.sub("", value.strip())
    if strict:
        text = text.removesuffix(".pdf")
    for pattern, build in ((_NEW_ID, _new_id), (_OLD_ID, _old_id)):
        match = pattern.fullmatch(text) if strict else pattern.search(text)
        if match:
            found = build(match)
            if found is not None:
                return found
    return None


def _new_id(match: re.Match[str]) -> tuple[str, int | None] | None:
    if not _plausible_new_id(match.group(1)):
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def _old_id(match: re.Match[str]) -> tuple[str, int | None]:
    return f"{match.group(1)}/{match.group(2)}", int(match.group(3)) if match.group(3) else None


def _plausible_new_id(ident: str) -> bool:
    yymm, number = ident.split(".")
    month = int(yymm[2:])
    if not 1 <= month <= 12:
        return False
    # Five-digit numbers started in 2015; four-digit ones ended with 2014.
    return (len(number) == 5) == (int(yymm[:2]) >= 15)


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str, version: int | None = None) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}" + (f"v{version}" if version else "")
