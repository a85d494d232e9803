"""Rows for tests, written through the models: the one paper factory of the suite.

`make_paper` builds a `Paper` from the fields a test names and fills the rest the way
ingest would: the source is `arxiv_api` for a paper with an arXiv id and `file` otherwise,
the source id is the arXiv id (else a hash of the text), the primary category is the first
category, `day` is the announcement day and `text_hash` is the hash ingest stores for the
title and abstract. Any other column can be passed as a keyword. `add_paper` also adds and
flushes it. The stage helpers (`tests.digest.digest_support.add_paper`, the site's seed,
the embed corpus) build their papers through it. `add_topic` adds a topic of any kind (an area,
a subtopic with `parent`, a technique), its slug taken from the label unless given.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.ingest.records import paper_text_hash
from app.models import Paper, Topic


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


def add_topic(
    session: Session,
    label: str,
    *,
    kind: str = "area",
    parent: Topic | None = None,
    slug: str | None = None,
    **columns: Any,
) -> Topic:
    """A Topic added and flushed; a subtopic names its area with `parent` (sets `parent_id`)."""
    topic = Topic(
        slug=slug or "-".join(label.lower().split()),
        label=label,
        kind=kind,
        parent_id=parent.id if parent is not None else None,
        **columns,
    )
    session.add(topic)
    session.flush()
    return topic
