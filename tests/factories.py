"""Rows for tests, written through the models: the one paper factory of the suite.

`make_paper` builds a `Paper` from the fields a test names and fills the rest the way
ingest would: the source is `arxiv_api` for a paper with an arXiv id and `file` otherwise,
the source id is the arXiv id (else a hash of the text), the primary category is the first
category, `day` is the announcement day and `text_hash` is the hash ingest stores for the
title and abstract. Any other column can be passed as a keyword. `add_paper` also adds and
flushes it. The stage helpers (`tests.digest.digest_support.add_paper`, the site's seed,
the embed corpus) build their papers through it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.ingest.records import paper_text_hash
from app.models import Paper


def make_paper(
    title: str,
    abstract: str = "",
    *,
    arxiv_id: str | None = None,
    source: str | None = None,
    source_id: str | None = None,
    categories: list[str] | None = None,
    day: date | None = None,
    authors: list[str] | None = None,
    **columns: Any,
) -> Paper:
    """A Paper that is not added to any session (see the module docstring for the defaults)."""
    categories = list(categories or [])
    values: dict[str, Any] = {
        "source": source or ("arxiv_api" if arxiv_id else "file"),
        "source_id": source_id or arxiv_id or paper_text_hash(title, abstract)[:16],
        "arxiv_id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": list(authors or []),
        "categories": categories,
        "primary_category": categories[0] if categories else None,
        "announced_date": day,
        "text_hash": paper_text_hash(title, abstract),
    }
    values.update(columns)
    return Paper(**values)


def add_paper(session: Session, title: str, abstract: str = "", **fields: Any) -> Paper:
    """`make_paper`, added to the session and flushed (so it has its id)."""
    paper = make_paper(title, abstract, **fields)
    session.add(paper)
    session.flush()
    return paper
