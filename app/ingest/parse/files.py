"""Rows of paper files (JSON, JSONL, CSV) to records.

One mapping covers the formats met in practice: the project's own arXiv crawl samples
(`id, title, abstract, categories, primary_category, authors, comment, announced_date,
hf_daily_listed, hf_daily_date`: whether and when Hugging Face Daily Papers listed it), the
Kaggle/Cornell arXiv snapshot (`versions`, `authors_parsed`, space-separated `categories`),
title/abstract-only lists, CSV exports without abstracts, and `papertrend papers export` lines
(which keep their original source and id; `hf_listed` there).
"""

from __future__ import annotations

import re
from typing import Any

from app.ingest.parse.common import (
    ItemError,
    author_list,
    category_list,
    clean_abstract,
    clean_optional,
    clean_title,
    keyword_list,
    looks_withdrawn,
    optional_int,
    parse_date,
    parse_datetime,
)
from app.ingest.parse.links import http_url
from app.ingest.records import PaperRecord, abs_url, parse_arxiv_id, pdf_url, title_key

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,31}$")
ID_KEYS = ("arxiv_id", "arxivId", "id", "paper_id", "entry_id")


def _first(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return value
    return None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value)


def _kaggle_authors(value: Any) -> list[str]:
    # [["Balázs", "C.", ""], ...]: last name, first names, suffix.
    names = []
    for parts in value:
        if not isinstance(parts, list) or not parts:
            raise ItemError("authors_parsed is not a list of name parts")
        last = str(parts[0] or "").strip()
        first = str(parts[1] or "").strip() if len(parts) > 1 else ""
        suffix = str(parts[2] or "").strip() if len(parts) > 2 else ""
        name = " ".join(p for p in (first, last, suffix) if p)
        if name:
            names.append(" ".join(name.split()))
    return names


def _versions(row: dict[str, Any]) -> tuple[int | None, Any, Any]:
    """(latest version, first created, latest created) from a Kaggle `versions` list."""
    versions = row.get("versions")
    if not isinstance(versions, list) or not versions:
        return None, None, None
    numbers = []
    for item in versions:
        label = item.get("version") if isinstance(item, dict) else item
        match = re.fullmatch(r"v?(\d+)", str(label or "").strip())
        if match:
            numbers.append(int(match.group(1)))
    first = versions[0].get("created") if isinstance(versions[0], dict) else None
    last = versions[-1].get("created") if isinstance(versions[-1], dict) else None
    return (max(numbers) if numbers else None), first, last


def _identity(row: dict[str, Any], source: str, title: str) -> tuple[str, str, str | None, int | None]:
    """(source, source_id, arxiv_id, version) of a row."""
    for key in ID_KEYS:
        value = row.get(key)
        if value is None or value == "":
            continue
        parsed = parse_arxiv_id(str(value), strict=True)
        if parsed:
            return source, parsed[0], parsed[0], parsed[1]
    # An exported non-arXiv paper keeps the source and id it had.
    row_source, row_id = row.get("source"), row.get("source_id")
    if isinstance(row_source, str) and SOURCE_NAME.match(row_source) and row_id not in (None, ""):
        return row_source, str(row_id), None, None
    other = _first(row, "source_id", "id", "paper_id")
    if other is not None:
        return source, str(other).strip()[:200], None, None
    return source, title_key(title), None, None


def record_from_row(row: dict[str, Any], *, source: str) -> PaperRecord:
    """Map one decoded row to a record; raises ItemError naming what is wrong."""
    if not isinstance(row, dict):
        raise ItemError(f"expected an object with a title, got {type(row).__name__}")
    title = clean_title(row.get("title"))
    rec_source, source_id, arxiv_id, version = _identity(row, source, title)
    kaggle_version, first_created, last_created = _versions(row)

    if isinstance(row.get("authors_parsed"), list) and row["authors_parsed"]:
        authors = _kaggle_authors(row["authors_parsed"])
    else:
        authors = author_list(row.get("authors"))
    categories = category_list(row.get("categories"))
    primary = clean_optional(row.get("primary_category")) or (categories[0] if categories else None)
    if primary and primary not in categories:
        categories.insert(0, primary)
    comment = clean_optional(_first(row, "comment", "comments"))
    explicit_version = optional_int(_first(row, "arxiv_version", "version"), "version")
    version = explicit_version or version or kaggle_version
    withdrawn_value = row.get("withdrawn")
    withdrawn = _as_bool(withdrawn_value) if withdrawn_value not in (None, "") else looks_withdrawn(comment)
    hf_date = parse_date(_first(row, "hf_date", "hf_daily_date"))
    listed_value = _first(row, "hf_listed", "hf_daily_listed")
    # A listing day means listed; an explicit false is a known "not listed" (a label), not a gap.
    hf_listed = True if hf_date else (_as_bool(listed_value) if listed_value is not None else None)

    return PaperRecord(
        source=rec_source,
        source_id=source_id,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        title=title,
        abstract=clean_abstract(_first(row, "abstract", "summary")),
        authors=authors,
        categories=categories,
        primary_category=primary,
        comment=comment,
        published_at=parse_datetime(_first(row, "published_at", "published", "created") or first_created),
        updated_at_source=parse_datetime(_first(row, "updated_at_source", "updated") or last_created),
        announced_date=parse_date(_first(row, "announced_date", "announced")),
        abs_url=http_url(row.get("abs_url")) or (abs_url(arxiv_id) if arxiv_id else None),
        pdf_url=http_url(row.get("pdf_url")) or (pdf_url(arxiv_id) if arxiv_id else None),
        code_url=http_url(_first(row, "code_url", "github_repo", "githubRepo")),
        project_url=http_url(_first(row, "project_url", "project_page", "projectPage")),
        upvotes=optional_int(row.get("upvotes"), "upvotes"),
        comments_count=optional_int(_first(row, "comments_count", "num_comments", "numComments"), "comments"),
        github_stars=optional_int(_first(row, "github_stars", "githubStars"), "github_stars"),
        hf_date=hf_date,
        hf_listed=hf_listed,
        keywords=keyword_list(_first(row, "keywords", "ai_keywords")),
        withdrawn=withdrawn,
        raw=row,
    )
