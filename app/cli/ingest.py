"""`papertrend ingest ...`: files and the live sources, their status, and the OAI-PMH backfill."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from app.cli.common import fail, progress_bar, session_factory, settings, unit_of_work
from app.ingest.report import IngestReport

ingest_app = typer.Typer(
    name="ingest",
    help="Pull papers from files, arXiv (API, OAI-PMH, RSS) and Hugging Face Daily Papers.",
    no_args_is_help=True,
)

MAX_ERRORS_SHOWN = 10


def register(root: typer.Typer) -> None:
    root.add_typer(ingest_app, name="ingest")


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn database failures into one readable line."""
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
        if "no such table" in text or "does not exist" in text:
            fail(f"the database is not initialised ({text}); run `papertrend init` first")
        fail(f"database error: {text}")
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0]}")


def print_report(report: IngestReport) -> None:
    typer.echo(report.summary())
    shown = report.errors[:MAX_ERRORS_SHOWN]
    for message in shown:
        print(f"  skipped {message}" if report.skipped else f"  error: {message}", file=sys.stderr)
    if len(report.errors) > len(shown):
        print(f"  … {report.skipped or len(report.errors)} in all", file=sys.stderr)


@ingest_app.command("file")
def file_command(
    path: Annotated[Path, typer.Argument(help="JSON list, JSONL or CSV file of papers; .gz accepted.")],
    source: Annotated[
        str | None, typer.Option("--source", help="Source name stored with the papers (default: file).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and count, write nothing.")] = False,
) -> None:
    """Load papers from a file. Papers with an arXiv id merge with the same paper from any source."""
    from app.ingest.bookkeeping import record_run
    from app.ingest.service import FileFormatError, ingest_file
    from app.models._common import utcnow

    cfg = settings()
    started_at = utcnow()
    try:
        with (
            database_errors(),
            progress_bar(f"ingesting {path.name}", None) as advance,
            unit_of_work(cfg, dry_run=dry_run) as session,
        ):
            report = ingest_file(session, path, source=source, dry_run=dry_run, progress=advance)
            if not dry_run:
                record_run(session, report, started_at=started_at)
    except FileFormatError as exc:
        fail(str(exc))
    print_report(report)


@ingest_app.command("status")
def status_command(
    runs: Annotated[int, typer.Option("--runs", help="How many recent runs to list.")] = 10,
) -> None:
    """The last runs, and each live source's last success, lag and watermark."""
    from app.ingest.bookkeeping import LIVE_SOURCES, format_lag, recent_runs, source_status
    from app.models._common import utcnow

    cfg = settings()
    now = utcnow()
    factory = session_factory(cfg)
    with database_errors(), factory() as session:
        statuses = source_status(session, list(LIVE_SOURCES))
        recent = recent_runs(session, runs)
    enabled = set(cfg.ingest_sources.split())
    typer.echo(f"{'source':<11} {'enabled':<8} {'last run':<8} {'last success':<17} {'lag':<10} watermark")
    for row in statuses:
        last_ok = row.last_ok.strftime("%Y-%m-%d %H:%M") if row.last_ok else "never"
        watermark = (row.watermark or "-") + (" (harvest in progress)" if row.pending_cursor else "")
        typer.echo(
            f"{row.source:<11} {'yes' if row.source in enabled else 'no':<8} {row.last_status or '-':<8} "
            f"{last_ok:<17} {format_lag(row.lag(now)):<10} {watermark}"
        )
    if recent:
        typer.echo("\nrecent runs:")
    for run in recent:
        stats = run.stats or {}
        when = run.started_at.strftime("%Y-%m-%d %H:%M")
        took = stats.get("duration_s")
        line = (
            f"  {when}  {run.job.removeprefix('ingest:'):<16} {run.status:<8} "
            f"{stats.get('fetched', 0)} fetched, {stats.get('new', 0)} new, {stats.get('updated', 0)} updated"
        )
        if took is not None:
            line += f" ({took:.1f}s)"
        if run.error:
            line += f"  {run.error[:120]}"
        typer.echo(line)
