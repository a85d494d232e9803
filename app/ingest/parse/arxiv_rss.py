"""arXiv RSS feeds (rss.arxiv.org/rss/{categories}, the 2024+ format), parsed with feedparser.

Each item is one announcement of the day: `new`, `cross`, `replace` or `replace-cross`
(`arxiv:announce_type`). The channel's pubDate is the announcement date (US Eastern, taken
as written). An empty channel is normal on weekends and arXiv holidays.
"""

from __future__ import annotations

import re
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

from app.ingest.parse.arxiv import arxiv_id_in, arxiv_record, read_feed
from app.ingest.parse.common import (
    ItemError,
    Parsed,
    ParseError,
    clean_optional,
    looks_withdrawn,
    parse_date,
    split_authors,
)
from app.ingest.records import PaperRecord

SOURCE = "arxiv_rss"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_DESCRIPTION = re.compile(r"^\s*arXiv:(\S+)\s+Announce Type:\s*(\S+)\s*(?:Abstract:\s*)?(.*)$", re.S)


def _feed_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parsedate_to_datetime(value).date()  # the date as arXiv wrote it (Eastern time)
    except (TypeError, ValueError, IndexError):
        try:
            return parse_date(value)
        except ItemError:
            return None


def _item_raw(entry: Any, feed_date: date | None) -> dict[str, Any]:
    return {
        "id": entry.get("id"),
        "title": entry.get("title"),
        "link": entry.get("link"),
        "description": entry.get("summary"),
        "categories": [t.get("term") for t in entry.get("tags", []) if isinstance(t, dict)],
        "announce_type": entry.get("arxiv_announce_type"),
        "published": entry.get("published"),
        "rights": entry.get("rights"),
        "creator": entry.get("author"),
        "doi": entry.get("arxiv_doi"),
        "journal_ref": entry.get("arxiv_journal_reference"),
        "feed_date": feed_date.isoformat() if feed_date else None,
    }


def parse_rss_feed(data: bytes) -> Parsed:
    """The day's announcements; `feed_date` is the announcement date (None for an empty feed)."""
    feed = read_feed(data, "RSS")
    channel = feed.get("feed") or {}
    if not channel and not feed.get("entries"):
        raise ParseError("not an RSS feed")
    parsed = Parsed(feed_date=_feed_date(channel.get("published") or channel.get("updated")))
    for number, entry in enumerate(feed.get("entries", []), start=1):
        raw = _item_raw(entry, parsed.feed_date)
        parsed.add(f"item {number}", raw.get("id"), record_from_rss_item, raw)
    return parsed


def record_from_rss_item(raw: dict[str, Any]) -> PaperRecord:
    """One RSS item (as kept in `raw`) to a record."""
    match = _DESCRIPTION.match(raw.get("description") or "")
    arxiv_id, version = arxiv_id_in(
        match.group(1) if match else None, raw.get("id"), raw.get("link"), shown=raw.get("id")
    )
    kind = (raw.get("announce_type") or (match.group(2) if match else "") or "").strip().lower()
    abstract = match.group(3) if match else (raw.get("description") or "")
    feed_date = parse_date(raw.get("feed_date"))
    # The announcement date of the paper itself: today's listing for a new submission only.
    first_announced = kind == "new" or (kind == "cross" and version in (None, 1))
    return arxiv_record(
        SOURCE,
        arxiv_id,
        version,
        raw,
        abstract=abstract,
        authors=split_authors(raw.get("creator") or ""),
        announced_date=feed_date if first_announced else None,
        withdrawn=looks_withdrawn(clean_optional(abstract)) if kind.startswith("replace") else False,
    )
