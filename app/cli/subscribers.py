"""`papertrend subscribers import FILE.csv`: bring a subscriber list over from another tool."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, progress_bar, session_factory, settings

if TYPE_CHECKING:
    from app.subscribers.import_rows import RowError


def register(root: typer.Typer) -> None:
    app = typer.Typer(help="Subscriber lists.", no_args_is_help=True)
    app.command("import")(import_cmd)
    root.add_typer(app, name="subscribers")


def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: email, topics, frequency (+ keywords, interest, authors, exclude)."
        ),
    ],
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed",
            help="You attest every address already consented: import as confirmed, send no confirmation.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count every row; write and send nothing.")
    ] = False,
) -> None:
    """Import subscribers. Without --confirmed each new address gets the double opt-in email.

    Rows with a problem are listed with their line number and written, with the reason, to
    FILE.rejected.csv (fix and import that file); the other rows are imported. Addresses already
    here keep their settings, so importing a file twice changes nothing.
    """
    from app.cli.digest import mail_setup
    from app.jobs.subscriber_import import import_subscribers, send_invitations
    from app.mail.policy import DeliveryPolicy
    from app.mail.senders import make_sender
    from app.subscribers.import_rows import ImportFileError, parse_subscriber_csv

    started = time.perf_counter()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError as exc:
        fail(f"{file} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV")
    try:
        parsed = parse_subscriber_csv(text)
    except ImportFileError as exc:
        fail(f"{file}: {exc}")
    cfg = settings()
    factory = session_factory(cfg)
    setup = mail_setup(cfg)
    if parsed.ignored_columns:
        typer.echo(f"ignoring column(s): {', '.join(parsed.ignored_columns)}", err=True)
    with progress_bar("importing", len(parsed.rows)) as advance:
        report = import_subscribers(
            factory,
            parsed,
            setup,
            confirmed=confirmed,
            now=datetime.now(UTC),
            dry_run=dry_run,
            progress=advance,
        )
    for error in report.errors:
        typer.echo(str(error), err=True)
    rows = len(parsed.rows) + len(parsed.errors)
    typer.echo(f"{report.summary()} ({rows} rows, {time.perf_counter() - started:.1f}s)")
    if report.errors and not dry_run:
        rejected = _write_rejected(file, parsed.columns, report.errors)
        typer.echo(f"rejected rows, with the reason, in {rejected}: fix them and import that file", err=True)
    if report.invitations:
        sender = make_sender(cfg)
        try:
            with progress_bar("confirmation emails", len(report.invitations)) as advance:
                sent = send_invitations(
                    factory,
                    sender,
                    setup,
                    report.invitations,
                    policy=DeliveryPolicy.from_settings(cfg),
                    progress=advance,
                )
        finally:
            sender.close()
        left = len(report.invitations) - sent.sent
        target = f"the outbox folder {cfg.outbox_dir}" if cfg.uses_file_outbox else "SMTP"
        typer.echo(
            f"confirmation emails: {sent.summary()} (via {target})"
            + (f"; {left} left for the scheduled delivery run" if left > 0 else "")
        )
    if report.errors:
        raise SystemExit(1)


def _write_rejected(file: Path, columns: list[str], errors: list[RowError]) -> Path:
    """The rejected rows as a CSV of their own, reason first, so nothing of the input is lost."""
    target = file.with_name(file.stem + ".rejected.csv")
    names = [c for c in columns if c]
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "error", *names])
        for error in errors:
            writer.writerow([error.line, error.message, *(error.raw.get(name, "") for name in names)])
    tmp.replace(target)
    return target
