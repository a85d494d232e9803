"""Core commands: init (migrate), demo, pipeline, run (embedded), web, worker, papers export."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import ensure_database, fail, progress_bar, session_factory, settings
from app.config import Settings
from app.readiness import DatabaseNotReady, describe, upgrade_schema
from app.security.redact import redact_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from app.jobs.confirmations import ConfirmationThread

log = logging.getLogger("papertrend")


def migrate(cfg: Settings, revision: str = "head") -> None:
    """Bring the database to `revision` with Alembic (creates the SQLite file if needed)."""
    try:
        upgrade_schema(cfg.effective_database_url, revision)
    except DatabaseNotReady as exc:
        fail(str(exc))


def init(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the target database only.")] = False,
) -> None:
    """Create or upgrade the database schema (idempotent)."""
    cfg = settings()
    target = describe(cfg.effective_database_url)
    if dry_run:
        typer.echo(f"would migrate {target} to the latest schema")
        return
    started = time.perf_counter()
    try:
        migrate(cfg)
    except Exception as exc:
        fail(f"could not migrate {target}: {type(exc).__name__}: {redact_text(str(exc).splitlines()[0])}")
    typer.echo(f"database ready: {target} ({time.perf_counter() - started:.1f}s)")


def pipeline(
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Skip the live sources.")] = False,
    no_digests: Annotated[bool, typer.Option("--no-digests", help="Skip digest build and delivery.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what each stage would do; change nothing.")
    ] = False,
) -> None:
    """Run every stage once, in order: ingest, embed, index, topics, trends, digests, delivery."""
    from app.jobs.pipeline import plan_pipeline, run_pipeline

    cfg = settings()
    factory = session_factory(cfg)
    if dry_run:
        for line in plan_pipeline(cfg, factory):
            typer.echo(line)
        return
    with progress_bar("embedding", None) as advance:
        report = run_pipeline(
            cfg, factory, ingest=not no_ingest, digests=not no_digests, embed_progress=advance
        )
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise SystemExit(1)


def demo(
    force: Annotated[bool, typer.Option("--force", help="Load even if the database has papers.")] = False,
) -> None:
    """Load the bundled demo papers when the database is empty, then embed and build topics."""
    from app.jobs.demo import load_demo

    cfg = settings()
    factory = session_factory(cfg, may_migrate=True)  # a newcomer may run it before `init`
    for line in load_demo(cfg, factory, force=force, echo=typer.echo):
        typer.echo(line)


def _serve(cfg: Settings, host: str, port: int, *, embedded: bool) -> None:
    import uvicorn

    from app.logs import uvicorn_log_config
    from app.main import create_app

    ensure_database(cfg, may_migrate=True)
    mode = "web app + scheduler" if embedded and cfg.scheduler_enabled else "web app"
    typer.echo(f"papertrend {mode} on {describe(cfg.effective_database_url)}")
    if cfg.uses_file_outbox:
        typer.echo(f"mail goes to the outbox folder {cfg.outbox_dir} (browse it at /outbox)")
    typer.echo(f"open http://{host}:{port}/ in your browser (Ctrl+C stops)")
    app = create_app(cfg, run_scheduler=embedded)
    # The access log goes through the log redaction (app.security.logs): no signed token reaches it.
    # Forwarded headers are read by the app itself, from TRUSTED_PROXIES only (app.http.client).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=cfg.log_level.lower(),
        log_config=uvicorn_log_config(cfg.log_level, cfg.log_format) or uvicorn.config.LOGGING_CONFIG,
        proxy_headers=False,
    )


def _mode_line(cfg: Settings) -> str:
    return "scale-out (PostgreSQL task queue)" if cfg.scale_out else "embedded"


def run(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Embedded mode: the web app and the scheduler in one process."""
    cfg = settings()
    if cfg.scale_out:
        fail(
            "this database runs in scale-out mode: start `papertrend web` (any number) and "
            "`papertrend worker` (one or more); set RUN_MODE=embedded for one process with its own scheduler"
        )
    _serve(cfg, host, port, embedded=True)


def web(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    scheduler: Annotated[
        bool, typer.Option("--scheduler", help="Refused: scheduled jobs run in `papertrend worker`.")
    ] = False,
) -> None:
    """The web app only (no scheduler): run any number of these behind a load balancer."""
    cfg = settings()
    if scheduler:
        where = "`papertrend worker`" if cfg.scale_out else "`papertrend run` (embedded mode)"
        fail(f"`papertrend web` never runs the scheduler; scheduled jobs run in {where}")
    _serve(cfg, host, port, embedded=False)


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, max=64, help="Tasks run at once; default WORKER_CONCURRENCY."),
    ] = None,
) -> None:
    """Scheduled jobs and mail sending, no web app: run any number, on any machines."""
    cfg = settings()
    factory = session_factory(cfg)
    if cfg.scale_out:
        from app.jobs.queue import run_worker

        tasks = concurrency or cfg.worker_concurrency
        typer.echo(
            f"worker ({_mode_line(cfg)}, {tasks} tasks at once) on {describe(cfg.effective_database_url)}"
        )
        typer.echo("SIGTERM or Ctrl+C stops after the running tasks (30 s at most)")
        confirmations = _worker_confirmations(cfg, factory)
        try:
            run_worker(cfg, factory, concurrency=tasks)
        finally:
            if confirmations is not None:
                confirmations.stop()
        return
    # Embedded mode (RUN_MODE=embedded): APScheduler, each slot claimed once in the job_slots table.
    from app.jobs.scheduler import start_scheduler

    if concurrency is not None:
        fail("--concurrency applies to scale-out mode; embedded mode runs one job at a time")
    scheduler = start_scheduler(cfg, factory)
    confirmations = _worker_confirmations(cfg, factory)
    typer.echo(f"worker ({_mode_line(cfg)}) running; Ctrl+C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
        if confirmations is not None:
            confirmations.stop()


def _worker_confirmations(cfg: Settings, factory: sessionmaker[Session]) -> ConfirmationThread | None:
    """Queued confirmation emails sent within seconds by this worker, when the workers send them."""
    if not cfg.confirmations_by_worker:
        return None
    from app.jobs.confirmations import for_worker

    typer.echo("this worker also sends queued confirmation emails (every few seconds)")
    return for_worker(cfg, factory)


papers_app = typer.Typer(help="Papers in the database.", no_args_is_help=True)


@papers_app.command("export")
def papers_export(
    fmt: Annotated[str, typer.Option("--format", help="Only jsonl is supported.")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="File to write; default stdout.")] = None,
) -> None:
    """Every paper with its fields, one JSON object per line: a backup a person can read."""
    from app.jobs.export import iter_paper_dicts

    if fmt != "jsonl":
        fail(f"unsupported format {fmt!r}; use --format jsonl")
    cfg = settings()
    factory = session_factory(cfg)
    tmp = out.with_suffix(out.suffix + ".tmp") if out else None
    handle = tmp.open("w", encoding="utf-8") if tmp else sys.stdout
    count = 0
    try:
        with factory() as session:
            for record in iter_paper_dicts(session):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    finally:
        if tmp:
            handle.close()
    if out and tmp:
        tmp.replace(out)  # a half-written backup never replaces a good one
        typer.echo(f"exported {count} papers to {out}", err=True)


def register(root: typer.Typer) -> None:
    root.command()(init)
    root.command()(demo)
    root.command()(pipeline)
    root.command()(run)
    root.command()(web)
    root.command()(worker)
    root.add_typer(papers_app, name="papers")
