"""Readable exports of the database (papers as JSON objects) for backups and other tools."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.early.queries import predictions
from app.ingest.queries import papers_after
from app.models import Paper

EXPORT_FIELDS = (
    "source", "source_id", "arxiv_id", "arxiv_version", "title", "abstract", "authors", "categories",
    "primary_category", "comment", "published_at", "updated_at_source", "announced_date", "abs_url",
    "pdf_url", "code_url", "project_url", "upvotes", "comments_count", "github_stars", "hf_date",
    "hf_listed", "keywords", "withdrawn", "raw",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def paper_dict(paper: Paper) -> dict[str, Any]:
    record = {"id": paper.public_id}
    record.update({name: _plain(getattr(paper, name)) for name in EXPORT_FIELDS})
    return record


def iter_paper_dicts(session: Session, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every paper in id order, streamed in batches so memory stays flat at any size."""
    last_id = 0
    while True:
        rows = papers_after(session, last_id, batch)
        if not rows:
            return
        chances = predictions(session, [p.id for p in rows])
        for paper in rows:
            record = paper_dict(paper)
            found = chances.get(paper.id)
            # The early-trending estimate travels along (a re-import ignores it: it is recomputed).
            record["trend_probability"] = found[0].probability if found else None
            record["trend_reasons"] = [r.get("text") for r in found[0].reasons] if found else []
            record["trend_reliability"] = found[0].reliability if found else None
            record["trend_model"] = found[1].name if found else None
            yield record
        last_id = rows[-1].id
        session.expunge_all()
