"""Re-parsing stored raw items after a parser fix, without fetching anything again.

Every paper keeps each source's raw item (`papers.raw[source]`). `reparse_papers` runs the
current parser of each source (`app.ingest.registry.parser_for`) over those items and merges
the results back with the usual rules, so a corrected parser fixes the stored papers in place. Fingerprints in
`paper_sources` are left alone: they describe what was received, which has not changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.ingest import registry
from app.ingest.parse.common import ItemError
from app.ingest.queries import RawItem, raw_items_after, upsert_items
from app.ingest.records import PaperRecord
from app.ingest.report import IngestReport


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
        rows = raw_items_after(session, last_id, batch)
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
    record = registry.parser_for(source)(raw)
    if record.source != source and registry.is_live(source):
        raise ItemError(f"raw item of {source} parsed as {record.source}")
    return record
