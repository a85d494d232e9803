"""arXiv API (Atom) responses, parsed with feedparser; the 2025+ and the legacy format alike.

`parse_api_feed` splits a response into raw entry dicts (JSON-able: what the paper's raw
record keeps) and maps each with `record_from_api_entry`. An error feed (one entry titled
"Error") raises `ApiErrorFeed`; XML that is not well-formed (a truncated transfer) raises
ParseError, since the entries of a cut document cannot be trusted.
"""

from __future__ import annotations

from typing import Any

from app.ingest.parse.arxiv import arxiv_id_in, arxiv_record, read_feed
from app.ingest.parse.common import (
    Parsed,
    ParseError,
    author_list,
    cut,
    optional_int,
    parse_datetime,
)
from app.ingest.records import PaperRecord

SOURCE = "arxiv_api"


class ApiErrorFeed(ParseError):
    """The API answered with an error feed; the message is arXiv's."""


def _entry_raw(entry: Any) -> dict[str, Any]:
    primary = entry.get("arxiv_primary_category")
    return {
        "id": entry.get("id"),
        "title": entry.get("title"),
        "summary": entry.get("summary"),
        "published": entry.get("published"),
        "updated": entry.get("updated"),
        "authors": [a.get("name") for a in entry.get("authors", []) if isinstance(a, dict)],
        "categories": [t.get("term") for t in entry.get("tags", []) if isinstance(t, dict)],
        "primary_category": primary.get("term") if isinstance(primary, dict) else None,
        "comment": entry.get("arxiv_comment"),
        "journal_ref": entry.get("arxiv_journal_ref"),
        "doi": entry.get("arxiv_doi"),
        "links": [
            {k: link.get(k) for k in ("href", "rel", "title", "type") if link.get(k)}
            for link in entry.get("links", [])
            if isinstance(link, dict)
        ],
    }


def _is_error_entry(raw: dict[str, Any]) -> bool:
    return (raw.get("title") or "").strip() == "Error" and "/api/errors" in (raw.get("id") or "")


def parse_api_feed(data: bytes) -> Parsed:
    """Records of one API page; `total` is opensearch:totalResults."""
    feed = read_feed(data, "Atom")
    if not feed.get("feed") and not feed.get("entries"):
        raise ParseError("not an Atom feed")
    total = optional_int(feed["feed"].get("opensearch_totalresults"), "totalResults")
    parsed = Parsed(total=total)
    for number, entry in enumerate(feed.get("entries", []), start=1):
        raw = _entry_raw(entry)
        if _is_error_entry(raw):
            raise ApiErrorFeed(f"arXiv API error: {cut(raw.get('summary') or 'no message')}")
        parsed.add(f"entry {number}", raw.get("id"), record_from_api_entry, raw)
    return parsed


def record_from_api_entry(raw: dict[str, Any]) -> PaperRecord:
    """One API entry (as kept in `raw`) to a record."""
    arxiv_id, version = arxiv_id_in(raw.get("id"), shown=raw.get("id"))
    return arxiv_record(
        SOURCE,
        arxiv_id,
        version,
        raw,
        abstract=raw.get("summary"),
        primary_category=raw.get("primary_category"),
        comment=raw.get("comment"),
        authors=author_list(raw.get("authors")),
        published_at=parse_datetime(raw.get("published")),
        updated_at_source=parse_datetime(raw.get("updated")),
    )
