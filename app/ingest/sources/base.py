"""What a live source's run is given, and the steps every run shares.

A live source is one module in this package with a client (a `SourceClient`) and a run:

    def run(session: Session, client: TheClient, job: SourceRun) -> IngestReport

The run decides what to fetch (from the source's watermark in `source_state` and the
job's options), upserts each parsed page with `upsert_parsed`, moves the watermark in the
same transaction, and returns the report. It never commits: `app.ingest.flows.run_source`
owns the transaction, the JobRun row and the client's lifetime. A network or upstream
failure does not raise out of a run: it is recorded on the report (`report.fail`), what was
fetched before it stays in the session, and the watermark stays where it was so the next
run covers the gap. Long harvests call `job.checkpoint()` after each page to commit it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.ingest.parse.common import Parsed
from app.ingest.queries import RawItem, upsert_items
from app.ingest.records import PaperRecord, fingerprint_value
from app.ingest.report import IngestReport


@dataclass
class SourceRun:
    """What a run needs besides its session and client: settings, the time, its options."""

    settings: Settings
    now: datetime
    checkpoint: Callable[[], None]  # commits what the session holds (no-op in a dry run)
    options: dict[str, Any] = field(default_factory=dict)  # from the CLI; empty when scheduled
    progress: Callable[[int], None] | None = None

    @property
    def categories(self) -> list[str]:
        """The arXiv categories to fetch: the command's `--categories`, else ARXIV_CATEGORIES."""
        return list(self.options.get("categories") or self.settings.categories)


def _same(record: PaperRecord) -> PaperRecord:
    return record


def upsert_parsed(session: Session, parsed: Parsed, report: IngestReport) -> None:
    """Upsert a parsed page; items that failed to parse count as fetched and skipped."""
    report.fetched += len(parsed.records) + len(parsed.errors)
    report.add_counts(new=0, updated=0, unchanged=0, errors=parsed.errors)
    items = [RawItem(r.source_id, r, fingerprint_value(r.source, r.raw)) for r in parsed.records]
    result = upsert_items(session, items, _same)
    report.add_counts(
        new=result.new, updated=result.updated, unchanged=result.unchanged, errors=result.errors
    )


def parse_watermark(value: str | None) -> datetime | None:
    """A stored timestamp watermark (naive ones are UTC); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
