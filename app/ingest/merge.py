"""Merging what a source says about a paper into the stored row (pure: dicts in, dicts out).

Rules, so that one row per paper stays right whatever order the sources arrive in:
- arXiv metadata (title, abstract, authors, categories, dates, links, withdrawn) comes from
  the arXiv sources and files. A record replaces it when it describes a newer or the same
  version (by version number, else by its `updated` time); an older or undated record only
  fills what is missing. Empty values never erase stored ones.
- Hugging Face is an enrichment source: it owns upvotes, comments, GitHub repo and stars,
  project page, keywords, its listing date and the listed flag, and only fills arXiv metadata that is missing.
- The version only goes up; `withdrawn` is kept, never deleted; the announcement date is the
  first one known. Each source's raw item is kept under its name.
- `text_hash` follows the title and abstract, so a new version's text gets re-embedded.
"""

from __future__ import annotations

from typing import Any

from app.ingest.records import PaperRecord, paper_text_hash

ENRICHMENT_SOURCES = frozenset({"hf_daily"})

METADATA_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "comment",
    "published_at",
    "updated_at_source",
    "abs_url",
    "pdf_url",
)
ENRICHMENT_FIELDS = (
    "upvotes",
    "comments_count",
    "github_stars",
    "code_url",
    "project_url",
    "hf_date",
    "hf_listed",
    "keywords",
)
ROW_FIELDS = (
    "source",
    "source_id",
    "arxiv_id",
    "arxiv_version",
    *METADATA_FIELDS,
    "announced_date",
    *ENRICHMENT_FIELDS,
    "withdrawn",
    "raw",
    "text_hash",
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _is_newer_or_same(record: PaperRecord, row: dict[str, Any]) -> bool:
    """Does the record describe the stored version or a later one?"""
    stored_version = row.get("arxiv_version")
    if record.arxiv_version is not None and stored_version is not None:
        return bool(record.arxiv_version >= stored_version)
    stored_updated = row.get("updated_at_source")
    if record.updated_at_source is not None and stored_updated is not None:
        return bool(record.updated_at_source >= stored_updated)
    if record.arxiv_version is not None:
        return True  # the row has no version: a versioned record is the better description
    return stored_version is None


def new_row(record: PaperRecord) -> dict[str, Any]:
    """The full row for a paper seen for the first time."""
    row: dict[str, Any] = {
        "source": record.source,
        "source_id": record.source_id,
        "arxiv_id": record.arxiv_id,
        "arxiv_version": record.arxiv_version,
        "announced_date": record.announced_date,
        "withdrawn": record.withdrawn,
        "raw": {record.source: record.raw},
    }
    for name in (*METADATA_FIELDS, *ENRICHMENT_FIELDS):
        row[name] = getattr(record, name)
    row["text_hash"] = paper_text_hash(row["title"], row["abstract"] or "")
    return row


def merge(row: dict[str, Any], record: PaperRecord) -> dict[str, Any]:
    """The columns of `row` that change when `record` is merged in (empty: nothing changes)."""
    changes: dict[str, Any] = {}
    authoritative = record.source not in ENRICHMENT_SOURCES
    current = authoritative and _is_newer_or_same(record, row)

    for name in METADATA_FIELDS:
        value = getattr(record, name)
        if _empty(value):
            continue
        if (current or _empty(row.get(name))) and row.get(name) != value:
            changes[name] = value
    for name in ENRICHMENT_FIELDS:
        value = getattr(record, name)
        if _empty(value):
            continue
        if (not authoritative or _empty(row.get(name))) and row.get(name) != value:
            changes[name] = value

    if record.arxiv_id and not row.get("arxiv_id"):
        changes["arxiv_id"] = record.arxiv_id
    if record.arxiv_version is not None and (row.get("arxiv_version") or 0) < record.arxiv_version:
        changes["arxiv_version"] = record.arxiv_version
    if record.announced_date is not None and row.get("announced_date") is None:
        changes["announced_date"] = record.announced_date
    withdrawn = record.withdrawn if current else (bool(row.get("withdrawn")) or record.withdrawn)
    if withdrawn != bool(row.get("withdrawn")):
        changes["withdrawn"] = withdrawn

    raw = row.get("raw") or {}
    if raw.get(record.source) != record.raw:
        changes["raw"] = {**raw, record.source: record.raw}
    if "title" in changes or "abstract" in changes:
        title = changes.get("title", row.get("title") or "")
        abstract = changes.get("abstract", row.get("abstract") or "")
        new_hash = paper_text_hash(title, abstract)
        if new_hash != row.get("text_hash"):
            changes["text_hash"] = new_hash
    return changes
