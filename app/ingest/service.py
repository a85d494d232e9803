"""The file ingest service: a JSON, JSONL or CSV file of papers into `papers`. Never commits.

`ingest_file` takes the caller's session (the CLI's unit of work, the demo loader) and
returns an `IngestReport`. Live sources are not here: each runs through
`app.ingest.flows.run_source` (see `app.ingest.registry`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.ingest.parse.common import ItemError
from app.ingest.parse.files import SOURCE_NAME, record_from_row
from app.ingest.queries import Prepared, RawItem, UpsertResult, apply_prepared, prepare_items
from app.ingest.records import PaperRecord, fingerprint_bytes, fingerprint_value
from app.ingest.report import IngestReport
from app.ingest.sources.files import FileFormatError, RawRow, decode_line, iter_rows

__all__ = ["FileFormatError", "ingest_file"]

FILE_BATCH = 2000
T = TypeVar("T")


def apply_result(report: IngestReport, result: UpsertResult) -> None:
    report.add_counts(
        new=result.new, updated=result.updated, unchanged=result.unchanged, errors=result.errors
    )


@dataclass
class _Batch:
    items: list[RawItem] = field(default_factory=list)
    read: int = 0  # rows read, bad ones included
    bad_rows: list[str] = field(default_factory=list)


def _batches(rows: Iterator[RawRow], source: str) -> Iterator[_Batch]:
    batch = _Batch()
    for row in rows:
        batch.read += 1
        if row.error is not None:
            batch.bad_rows.append(f"{row.where}: {row.error}")
        elif row.data is not None and row.value is None:
            # An undecoded JSONL line travels as bytes: decoded only if its fingerprint is new.
            batch.items.append(RawItem(row.where, row.data, fingerprint_bytes(source, row.data)))
        else:
            batch.items.append(RawItem(row.where, row.value, fingerprint_value(source, row.value)))
        if len(batch.items) >= FILE_BATCH or batch.read >= 4 * FILE_BATCH:
            yield batch
            batch = _Batch()
    if batch.read:
        yield batch


def _read_ahead(produce: Callable[[], Iterator[T]], depth: int = 2) -> Iterator[T]:
    """Run `produce` in a thread, `depth` items ahead of the consumer; its errors re-raise here.

    File ingest reads, fingerprints and parses the next batch while this thread writes the
    current one: the database does its share (indexes, full-text) in C or in the server
    without holding the GIL, so the two overlap on a multi-core machine.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(("error", exc))

    thread = threading.Thread(target=work, name="ingest-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=30)


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
    report = IngestReport(source="file" if source == "file" else f"file:{source}", dry_run=dry_run)
    file_path = Path(path)
    db_lock = threading.Lock()  # the session is used by both threads, never at the same time
    dry_run_created: set[Any] | None = set() if dry_run else None

    def parse(value: Any) -> PaperRecord:
        if isinstance(value, bytes):
            try:
                value = decode_line(value)
            except ValueError as exc:
                raise ItemError(str(exc)) from None
        return record_from_row(value, source=source)

    def prepared() -> Iterator[tuple[_Batch, Prepared]]:
        for batch in _batches(iter_rows(file_path, decode=False), source):
            yield batch, prepare_items(session, batch.items, parse, db_lock=db_lock)

    for batch, ready in _read_ahead(prepared):
        report.fetched += batch.read
        report.add_counts(new=0, updated=0, unchanged=0, errors=batch.bad_rows)
        with db_lock:
            result = apply_prepared(session, ready, dry_run=dry_run, dry_run_created=dry_run_created)
        apply_result(report, result)
        if progress is not None:
            progress(batch.read)
    if report.fetched and report.skipped == report.fetched:
        first = report.errors[0] if report.errors else "no readable rows"
        raise FileFormatError(f"{path}: no paper could be read ({report.skipped} bad rows; first: {first})")
    if report.fetched == 0:
        report.notes.append("the file holds no papers")
    report.duration_s = time.perf_counter() - started
    return report
