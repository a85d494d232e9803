"""`papertrend ingest ...`: files and the live sources, their status, and the OAI-PMH backfill.

The live-source commands come from the source registry (`app.ingest.registry`): `register`
adds one command per registered source, named and described by its record. The options a
source has on the command line (`--since`, `--from`, `--date`...) are the functions in
`SOURCE_OPTIONS`; a source without an entry there gets a plain command with `--dry-run`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import database_errors, fail, progress_bar, session_factory, settings, unit_of_work
from app.ingest.report import IngestReport

INGEST_HELP = "Pull papers from files, arXiv (API, OAI-PMH, RSS) and Hugging Face Daily Papers."
MAX_ERRORS_SHOWN = 10


def print_report(report: IngestReport) -> None:
    typer.echo(report.summary())
    shown = report.errors[:MAX_ERRORS_SHOWN]
    for message in shown:
        print(f"  skipped {message}" if report.skipped else f"  error: {message}", file=sys.stderr)
    if len(report.errors) > len(shown):
        print(f"  … {report.skipped or len(report.errors)} in all", file=sys.stderr)


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


def _run_live(
    name: str,
    options: dict[str, Any],
    *,
    dry_run: bool,
    progress_label: str | None = None,
) -> None:
    from app.ingest.flows import run_source

    cfg = settings()
    factory = session_factory(cfg)
    with database_errors():
        if progress_label:
            with progress_bar(progress_label, None) as advance:
                report = run_source(factory, cfg, name, dry_run=dry_run, options=options, progress=advance)
        else:
            report = run_source(factory, cfg, name, dry_run=dry_run, options=options)
    typer.echo(report.summary())
    if report.failed:
        fail(f"{name} failed: {report.errors[-1] if report.errors else 'unknown error'}")
    for message in report.errors[:MAX_ERRORS_SHOWN]:
        print(f"  skipped {message}", file=sys.stderr)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2025-03-18 (got {value!r})")


CategoriesOption = Annotated[
    str | None,
    typer.Option("--categories", help="Space-separated arXiv categories (default: ARXIV_CATEGORIES)."),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Fetch and count, write nothing.")]


def arxiv_command(
    since: Annotated[
        str | None, typer.Option("--since", help="Fetch papers changed since this date (default: watermark).")
    ] = None,
    max_results: Annotated[
        int, typer.Option("--max", min=1, max=30000, help="Most entries to fetch.")
    ] = 30000,
    sort: Annotated[str, typer.Option("--sort", help="updated (new versions too) or submitted.")] = "updated",
    categories: CategoriesOption = None,
    dry_run: DryRunOption = False,
) -> None:
    if sort not in {"updated", "submitted"}:
        fail("--sort must be 'updated' or 'submitted'")
    start = _date(since, "--since")
    options: dict[str, Any] = {
        "since": datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None,
        "max_results": max_results,
        "sort_by": "lastUpdatedDate" if sort == "updated" else "submittedDate",
    }
    if categories:
        options["categories"] = categories.split()
    _run_live("arxiv_api", options, dry_run=dry_run)


def _oai_options(
    from_: str | None, until: str | None, set_spec: str | None, fmt: str | None
) -> dict[str, Any]:
    if fmt is not None and fmt not in {"arXiv", "arXivRaw"}:
        fail("--format must be arXiv or arXivRaw")
    return {
        "from_date": _date(from_, "--from"),
        "until": _date(until, "--until"),
        "set_spec": set_spec,
        "metadata_prefix": fmt,
    }


FromOption = Annotated[str | None, typer.Option("--from", help="First datestamp to harvest (YYYY-MM-DD).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Last datestamp to harvest (YYYY-MM-DD).")]
SetOption = Annotated[
    str | None, typer.Option("--set", help="OAI-PMH set (default: OAI_SET), e.g. cs or cs:cs:LG.")
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="arXiv or arXivRaw (default: OAI_METADATA_PREFIX).")
]


def oai_command(
    from_: FromOption = None,
    until: UntilOption = None,
    set_spec: SetOption = None,
    fmt: FormatOption = None,
    dry_run: DryRunOption = False,
) -> None:
    _run_live(
        "arxiv_oai", _oai_options(from_, until, set_spec, fmt), dry_run=dry_run, progress_label="harvesting"
    )


def backfill_command(
    from_: Annotated[str, typer.Option("--from", help="First datestamp to harvest (YYYY-MM-DD).")],
    until: UntilOption = None,
    set_spec: SetOption = None,
    fmt: FormatOption = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget an interrupted backfill and start over.")
    ] = False,
) -> None:
    """OAI-PMH harvest from a date, committed page by page; run it again to resume after an interruption."""
    options = _oai_options(from_, until, set_spec, fmt) | {"backfill": True}
    if restart:
        from app.ingest.bookkeeping import set_cursor
        from app.ingest.sources.arxiv_oai import BACKFILL_STATE

        with database_errors(), unit_of_work(settings()) as session:
            set_cursor(session, BACKFILL_STATE, None)
    _run_live("arxiv_oai", options, dry_run=False, progress_label=f"backfill from {from_}")


def rss_command(categories: CategoriesOption = None, dry_run: DryRunOption = False) -> None:
    _run_live("arxiv_rss", {"categories": categories.split()} if categories else {}, dry_run=dry_run)


def hf_command(
    day: Annotated[list[str] | None, typer.Option("--date", help="A day to fetch (repeatable).")] = None,
    week: Annotated[str | None, typer.Option("--week", help="An ISO week, e.g. 2025-W07.")] = None,
    month: Annotated[str | None, typer.Option("--month", help="A month, e.g. 2025-02.")] = None,
    refresh_days: Annotated[
        int | None,
        typer.Option("--days", min=0, max=31, help="Refresh window in days (default: HF_REFRESH_DAYS)."),
    ] = None,
    dry_run: DryRunOption = False,
) -> None:
    options: dict[str, Any] = {"week": week, "month": month}
    if day:
        options["days"] = [d for d in (_date(v, "--date") for v in day) if d]
    if refresh_days is not None:
        options["refresh_days"] = refresh_days
    _run_live("hf_daily", options, dry_run=dry_run)


def all_command() -> None:
    """Every enabled live source once (INGEST_SOURCES); one failing does not stop the others."""
    from app.ingest.flows import run_all_sources

    cfg = settings()
    with database_errors():
        reports = run_all_sources(session_factory(cfg), cfg)
    for report in reports:
        typer.echo(report.summary())
    failed = [r.source for r in reports if r.failed]
    if failed:
        fail(f"failed: {', '.join(failed)} (see `papertrend ingest status`)")


def reparse_command(
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only raw items of this source (repeatable).")
    ] = None,
    dry_run: DryRunOption = False,
) -> None:
    """Re-parse the raw items stored with every paper (after a parser fix); fetches nothing."""
    from app.ingest.queries import count_papers
    from app.ingest.reparse import reparse_papers

    cfg = settings()
    with database_errors(), unit_of_work(cfg, dry_run=dry_run) as session:
        total = count_papers(session)
        with progress_bar("re-parsing", total) as advance:
            report = reparse_papers(session, sources=source or None, progress=advance)
        report.dry_run = dry_run
    print_report(report)


def status_command(
    runs: Annotated[int, typer.Option("--runs", help="How many recent runs to list.")] = 10,
) -> None:
    """The last runs, and each live source's last success, lag and watermark."""
    from app.ingest import registry
    from app.ingest.bookkeeping import format_lag, recent_runs, source_status
    from app.models._common import utcnow

    cfg = settings()
    now = utcnow()
    factory = session_factory(cfg)
    with database_errors(), factory() as session:
        statuses = source_status(session, registry.status_keys())
        recent = recent_runs(session, runs)
    enabled = set(cfg.ingest_sources.split())
    extra_states = {key for source in registry.SOURCES.values() for key in source.extra_states}
    typer.echo(f"{'source':<18} {'enabled':<8} {'last run':<8} {'last success':<17} {'lag':<10} watermark")
    for row in statuses:
        if row.source in extra_states and row.last_status is None and not row.pending_cursor:
            continue  # e.g. no backfill was ever run
        last_ok = row.last_ok.strftime("%Y-%m-%d %H:%M") if row.last_ok else "never"
        watermark = (row.watermark or "-") + (" (harvest in progress)" if row.pending_cursor else "")
        typer.echo(
            f"{row.source:<18} {'yes' if row.source in enabled else '-':<8} {row.last_status or '-':<8} "
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


def _plain_command(name: str) -> Callable[..., None]:
    """The command of a source without options of its own: run it once (or `--dry-run`)."""

    def command(dry_run: DryRunOption = False) -> None:
        _run_live(name, {}, dry_run=dry_run)

    return command


# The command-line options of a source, by source name (see the module docstring).
SOURCE_OPTIONS: dict[str, Callable[..., None]] = {
    "arxiv_api": arxiv_command,
    "arxiv_oai": oai_command,
    "arxiv_rss": rss_command,
    "hf_daily": hf_command,
}
SOURCE_EXTRAS: dict[str, list[tuple[str, Callable[..., None]]]] = {
    "arxiv_oai": [("backfill", backfill_command)]
}


def build_ingest_app() -> typer.Typer:
    """The `ingest` group: files, one command per registered live source, all, reparse, status."""
    from app.ingest import registry

    app = typer.Typer(name="ingest", help=INGEST_HELP, no_args_is_help=True)
    app.command("file")(file_command)
    for source in registry.SOURCES.values():
        app.command(source.command, help=source.help)(
            SOURCE_OPTIONS.get(source.name) or _plain_command(source.name)
        )
        for name, command in SOURCE_EXTRAS.get(source.name, []):
            app.command(name)(command)
    app.command("all")(all_command)
    app.command("reparse")(reparse_command)
    app.command("status")(status_command)
    return app


def register(root: typer.Typer) -> None:
    root.add_typer(build_ingest_app(), name="ingest")
