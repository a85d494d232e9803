"""Helpers shared by the parsers: text clean-up, author lists, dates, and the parse result."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from app.ingest.records import PaperRecord

T = TypeVar("T")


class ParseError(ValueError):
    """A whole response or file could not be read (not one bad item: those become errors)."""


@dataclass
class Parsed:
    """Records parsed from one response or chunk, plus one message per item that was skipped."""

    records: list[PaperRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    total: int | None = None  # total hits upstream, where the response says (opensearch)
    token: str | None = None  # OAI-PMH resumptionToken; None when the list is complete
    feed_date: date | None = None  # RSS announcement date
    response_date: datetime | None = None  # OAI-PMH responseDate
    deleted: list[str] = field(default_factory=list)  # OAI-PMH records with status="deleted"

    def add(self, item: str, shown: Any, build: Callable[[T], PaperRecord], raw: T, width: int = 60) -> None:
        """Keep the record `build` makes of `raw`, or why it cannot be one, naming `item` and `shown`."""
        try:
            self.records.append(build(raw))
        except ItemError as exc:
            self.errors.append(f"{item} ({cut(str(shown), width)}): {exc}")


class ItemError(ValueError):
    """One item cannot become a record; the message says why."""


def clean_title(value: Any) -> str:
    if not isinstance(value, str):
        raise ItemError("title is missing" if value is None else "title is not text")
    title = " ".join(value.split())
    if not title:
        raise ItemError("title is empty")
    return title


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=[ \t]+\S)")


def clean_abstract(value: Any) -> str:
    """Unwrap hard-wrapped lines; keep paragraph breaks (blank or indented lines) as blank lines.

    Only whitespace changes, so `embedding_text` of the result equals that of the input.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ItemError("abstract is not text")
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(value.strip()))
    return "\n\n".join(p for p in paragraphs if p)


def clean_optional(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def split_authors(value: str) -> list[str]:
    """ "A, B and C" → ["A", "B", "C"]; commas inside parentheses (affiliations) do not split."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for char in " ".join(value.split()):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current))
    result: list[str] = []
    for name in names:
        for part in re.split(r"\s+and\s+|^and\s+", name.strip()):
            part = part.strip()
            if part:
                result.append(part)
    return result


def author_list(value: Any) -> list[str]:
    """Authors from a list of names, a list of {"name": ...} objects, or one string."""
    if value is None:
        return []
    if isinstance(value, str):
        return split_authors(value)
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                name = " ".join(item.split())
            elif isinstance(item, dict):
                name = " ".join(str(item.get("name") or "").split())
            else:
                name = ""
            if name:
                out.append(name)
        return out
    raise ItemError("authors is neither text nor a list")


def category_list(value: Any) -> list[str]:
    """Categories from a list or a space/comma-separated string, duplicates removed, order kept."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[\s,;]+", value)
    elif isinstance(value, list):
        items = [str(v) for v in value if v is not None]
    else:
        raise ItemError("categories is neither text nor a list")
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def keyword_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    if isinstance(value, list):
        return [" ".join(str(k).split()) for k in value if k is not None and str(k).strip()]
    raise ItemError("keywords is neither text nor a list")


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 or RFC 2822 text to an aware UTC datetime; a bare date is midnight UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise ItemError(f"not a date: {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ItemError(f"not a date: {text[:40]!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1900 <= parsed.year <= 2999:
        raise ItemError(f"date out of range: {text[:40]!r}")
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """A calendar date from ISO text ("2025-03-18", or a timestamp: its date as written)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ItemError(f"not a date: {value!r}")
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        parsed = parse_datetime(text)
        return parsed.date() if parsed else None


def optional_int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ItemError(f"{name} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ItemError(f"{name} is not a whole number: {str(value)[:20]!r}")


_WITHDRAWN = re.compile(r"\b(this (paper|article|submission) (has been|is) withdrawn|withdrawn by)\b", re.I)


def looks_withdrawn(comment: str | None) -> bool:
    """arXiv marks a withdrawal with a new version whose comment says so."""
    return bool(comment and (_WITHDRAWN.search(comment) or comment.strip().lower().startswith("withdrawn")))


def cut(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
