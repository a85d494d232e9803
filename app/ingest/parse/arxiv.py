"""What the arXiv formats (API, OAI-PMH, RSS) share: reading a feed, finding the id, the record."""

from __future__ import annotations

import xml.sax
from typing import Any

import feedparser

from app.ingest.parse.common import (
    ItemError,
    ParseError,
    category_list,
    clean_abstract,
    clean_optional,
    clean_title,
    cut,
    looks_withdrawn,
)
from app.ingest.records import PaperRecord, abs_url, parse_arxiv_id, pdf_url


def read_feed(data: bytes, kind: str) -> Any:
    """feedparser's reading of an Atom or RSS document.

    XML that is not well-formed (a truncated transfer) raises ParseError: the entries of a cut
    document cannot be trusted. Smaller faults feedparser recovers from are let through.
    """
    feed = feedparser.parse(data)
    if feed.get("bozo") and isinstance(feed.get("bozo_exception"), xml.sax.SAXException):
        raise ParseError(f"malformed {kind} XML ({feed['bozo_exception']})")
    return feed


def arxiv_id_in(*texts: str | None, shown: Any) -> tuple[str, int | None]:
    """The arXiv id and version in the first of `texts` that holds one; ItemError naming `shown` if none."""
    for text in texts:
        found = parse_arxiv_id(text)
        if found is not None:
            return found
    raise ItemError(f"no arXiv id in {cut(str(shown), 60)!r}")


def arxiv_record(
    source: str,
    arxiv_id: str,
    version: int | None,
    raw: dict[str, Any],
    *,
    abstract: Any,
    primary_category: Any = None,
    comment: Any = None,
    withdrawn: bool | None = None,
    **details: Any,
) -> PaperRecord:
    """An arXiv paper as one source describes it (`details`: the other `PaperRecord` fields).

    What every arXiv format writes alike is read and cleaned here: the title and categories
    from `raw` (the record as kept), the abstract and comment as the feed wrote them. The
    primary category is `primary_category` where the feed names it, else the first listed
    (arXiv lists the primary first), and it always stands among the categories. The paper is
    withdrawn as `withdrawn` says or, when that is not given, when its comment says so. The
    arXiv id is its source id, and its links carry no version: they always open the latest.
    """
    categories = category_list(raw.get("categories"))
    primary = clean_optional(primary_category) or (categories[0] if categories else None)
    if primary and primary not in categories:
        categories.insert(0, primary)
    comment = clean_optional(comment)
    return PaperRecord(
        source=source,
        source_id=arxiv_id,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        abs_url=abs_url(arxiv_id),
        pdf_url=pdf_url(arxiv_id),
        raw=raw,
        title=clean_title(raw.get("title")),
        abstract=clean_abstract(abstract),
        categories=categories,
        primary_category=primary,
        comment=comment,
        withdrawn=looks_withdrawn(comment) if withdrawn is None else withdrawn,
        **details,
    )
