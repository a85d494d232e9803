"""Hugging Face Daily Papers (`/api/daily_papers`) responses.

Field names follow HF's OpenAPI types: the item's top-level `publishedAt` is when the paper
was added to Daily Papers, `paper.publishedAt` its arXiv date. Upvotes, comment count,
GitHub repository and stars, project page and `ai_keywords` enrich the arXiv paper; the whole
item (submitter included) is kept as the raw record.
"""

from __future__ import annotations

import json
from typing import Any

from app.ingest.parse.common import (
    ItemError,
    Parsed,
    ParseError,
    author_list,
    clean_abstract,
    clean_title,
    keyword_list,
    optional_int,
    parse_date,
    parse_datetime,
)
from app.ingest.parse.links import http_url
from app.ingest.records import PaperRecord, abs_url, parse_arxiv_id, pdf_url

SOURCE = "hf_daily"


def parse_hf_response(data: bytes) -> Parsed:
    """Records of one page of `/api/daily_papers`; invalid JSON raises ParseError."""
    try:
        document = json.loads(data)
    except UnicodeDecodeError as exc:
        raise ParseError(f"response is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if isinstance(document, dict) and isinstance(document.get("papers"), list):
        document = document["papers"]
    if not isinstance(document, list):
        raise ParseError(f"expected a JSON list of daily papers, got {type(document).__name__}")
    parsed = Parsed()
    for number, item in enumerate(document, start=1):
        paper = item.get("paper") if isinstance(item, dict) else None
        ident = paper.get("id") if isinstance(paper, dict) else None
        parsed.add(f"item {number}", ident, record_from_hf_item, item, width=40)
    return parsed


def record_from_hf_item(item: Any) -> PaperRecord:
    """One daily-papers item (as kept in `raw`) to a record."""
    if not isinstance(item, dict):
        raise ItemError(f"expected an object, got {type(item).__name__}")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise ItemError("no paper object")
    ident = paper.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise ItemError("paper has no id")
    found = parse_arxiv_id(ident, strict=True)
    arxiv_id = found[0] if found else None
    github = http_url(paper.get("githubRepo"))
    return PaperRecord(
        source=SOURCE,
        source_id=arxiv_id or ident.strip()[:200],
        arxiv_id=arxiv_id,
        arxiv_version=found[1] if found else None,
        title=clean_title(paper.get("title") or item.get("title")),
        abstract=clean_abstract(paper.get("summary") or item.get("summary")),
        authors=author_list(paper.get("authors")),
        published_at=parse_datetime(paper.get("publishedAt")),
        abs_url=abs_url(arxiv_id) if arxiv_id else None,
        pdf_url=pdf_url(arxiv_id) if arxiv_id else None,
        code_url=github,
        project_url=http_url(paper.get("projectPage")),
        upvotes=optional_int(paper.get("upvotes"), "upvotes"),
        comments_count=optional_int(item.get("numComments"), "numComments"),
        github_stars=optional_int(paper.get("githubStars"), "githubStars"),
        hf_date=parse_date(item.get("publishedAt") or paper.get("submittedOnDailyAt")),
        hf_listed=True,
        keywords=keyword_list(paper.get("ai_keywords")),
        withdrawn=bool(paper.get("withdrawnAt")),
        raw=item,
    )
