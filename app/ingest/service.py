"""Ingest services: files and each live source into `papers`. They never commit.

Each function takes the session, an adapter (a source client) and plain values, and
returns an `IngestReport`. Transactions, job-run rows and watermarks that must survive a
failure are handled by the caller (`app.ingest.flows`, the CLI).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.ingest.live import ingest_arxiv_api, ingest_arxiv_oai, ingest_arxiv_rss, ingest_hf_daily
from app.ingest.parse.common import ItemError
from app.ingest.parse.files import SOURCE_NAME, record_from_row
from app.ingest.queries import RawItem, UpsertResult, upsert_items
from app.ingest.records import PaperRecord, fingerprint_bytes, fingerprint_value
from app.ingest.report import IngestReport
from app.ingest.sources.files import FileFormatError, RawRow, decode_line, iter_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from app.config import Settings

__all__ = [
    "FileFormatError",
    "IngestReport",
    "ingest_arxiv_api",
    "ingest_arxiv_oai",
    "ingest_arxiv_rss",
    "ingest_file",
    "ingest_hf_daily",
    "run_all_sources",
    "run_source",
]

FILE_BATCH = 2000


def apply_result(report: IngestReport, result: UpsertResult) -> None:
    report.add_counts(
        new=result.new, updated=result.updated, unchanged=result.unchanged, errors=result.errors
    )


def _batches(rows: Iterator[RawRow], source: str, report: IngestReport) -> Iterator[list[RawItem]]:
    batch: list[RawItem] = []
    for row in rows:
        report.fetched += 1
        if row.error is not None:
            report.skipped += 1
            report.add_error(f"{row.where}: {row.error}")
            continue
        fingerprint = (
            fingerprint_bytes(source, row.data)
            if row.data is not None
            else fingerprint_value(source, row.value)
        )
        # Undecoded JSONL lines travel as bytes and are decoded only if their fingerprint is new.
        batch.append(RawItem(row.where, row.data if row.value is None else row.value, fingerprint))
        if len(batch) >= FILE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_file(
    session: Session,
    path: Path,
    *,
    source: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Upsert every paper of a JSON / JSONL / CSV file (optionally .gz).

    Bad rows are reported by line (or item) number and skipped; a file that cannot be read
    at all raises FileFormatError with one clear message, before anything is written.
    Papers are keyed by arXiv id when they have one, else by (source, id or title hash).
    """
    source = source or "file"
    if not SOURCE_NAME.match(source):
        raise FileFormatError(
            f"invalid source name {source!r}: use up to 32 lowercase letters, digits, _ . : -"
        )
    started = time.perf_counter()
    report = IngestReport(source=f"file:{source}", dry_run=dry_run)

    def parse(value: Any) -> PaperRecord:
        if isinstance(value, bytes):
            try:
                value = decode_line(value)
            except ValueError as exc:
                raise ItemError(str(exc)) from None
        return record_from_row(value, source=source)

    for batch in _batches(iter_rows(Path(path), decode=False), source, report):
        apply_result(report, upsert_items(session, batch, parse, dry_run=dry_run))
        if progress is not None:
            progress(len(batch))
    if report.fetched and report.skipped == report.fetched:
        first = report.errors[0] if report.errors else "no readable rows"
        raise FileFormatError(f"{path}: no paper could be read ({report.skipped} bad rows; first: {first})")
    if report.fetched == 0:
        report.notes.append("the file holds no papers")
    report.duration_s = time.perf_counter() - started
    return report


def run_source(
    session_factory: sessionmaker[Session], settings: Settings, name: str, **options: Any
) -> IngestReport:
    """Run one live source in its own transaction with a JobRun (see app.ingest.flows.run_source)."""
    from app.ingest import flows as ingest_flows

    return ingest_flows.run_source(session_factory, settings, name, **options)


def run_all_sources(session_factory: sessionmaker[Session], settings: Settings) -> list[IngestReport]:
    """Run every enabled live source in turn; one failing never stops the others."""
    from app.ingest import flows as ingest_flows

    return ingest_flows.run_all_sources(session_factory, settings)
