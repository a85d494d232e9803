"""Re-parsing stored raw items after a parser fix, without fetching anything again.

Every paper keeps each source's raw item (`papers.raw[source]`). `reparse_papers` runs the
current parser of each source over those items and merges the results back with the usual
rules, so a corrected parser fixes the stored papers in place. Fingerprints in
`paper_sources` are left alone: they describe what was received, which has not changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.parse.arxiv_api import record_from_api_entry
from app.ingest.parse.arxiv_oai import record_from_oai
from app.ingest.parse.arxiv_rss import record_from_rss_item
from app.ingest.parse.common import ItemError
from app.ingest.parse.files import record_from_row
from app.ingest.parse.hf_daily import record_from_hf_item
from app.ingest.queries import RawItem, upsert_items
from app.ingest.records import PaperRecord
from app.ingest.report import IngestReport
from app.models import Paper

LIVE_PARSERS: dict[str, Callable[[Any], PaperRecord]] = {
    "arxiv_api": record_from_api_entry,
    "arxiv_oai": record_from_oai,
    "arxiv_rss": record_from_rss_item,
    "hf_daily": record_from_hf_item,
}


def parser_for(source: str) -> Callable[[Any], PaperRecord]:
    """The parser of a live source; any other source name was a file."""
    if source in LIVE_PARSERS:
        return LIVE_PARSERS[source]
    return lambda raw: record_from_row(raw, source=source)


def reparse_papers(
    session: Session,
    *,
    sources: Sequence[str] | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Re-parse every stored raw item (of `sources`, or all) and merge the records back."""
    report = IngestReport(source="reparse")
    started = time.perf_counter()
    last_id = 0
    while True:
        rows = session.execute(
            select(Paper.id, Paper.raw).where(Paper.id > last_id).order_by(Paper.id).limit(batch)
        ).all()
        if not rows:
            break
        last_id = rows[-1][0]
        items: list[RawItem] = []
        for paper_id, raw in rows:
            for source, item in (raw or {}).items():
                if sources and source not in sources:
                    continue
                report.fetched += 1
                # A unique non-matching fingerprint: never skipped, never stored (see below).
                items.append(
                    RawItem(f"paper {paper_id} ({source})", (source, item), f"reparse:{paper_id}:{source}")
                )
        result = upsert_items(session, items, _parse_pair, record_sources=False)
        report.add_counts(
            new=result.new, updated=result.updated, unchanged=result.unchanged, errors=result.errors
        )
        if progress is not None:
            progress(len(rows))
    report.duration_s = time.perf_counter() - started
    return report


def _parse_pair(value: tuple[str, Any]) -> PaperRecord:
    source, raw = value
    record = parser_for(source)(raw)
    if record.source != source and source in LIVE_PARSERS:
        raise ItemError(f"raw item of {source} parsed as {record.source}")
    return record
