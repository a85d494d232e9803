"""`papertrend mail ...`: the suppression list, bounce imports, and resuming paused sending."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, settings, unit_of_work


def register(root: typer.Typer) -> None:
    mail_app = typer.Typer(help="Suppression list, bounces, and the state of sending.", no_args_is_help=True)
    mail_app.command("suppress")(suppress_cmd)
    mail_app.command("unsuppress")(unsuppress_cmd)
    mail_app.command("import-bounces")(import_bounces)
    mail_app.command("resume")(resume_cmd)
    root.add_typer(mail_app, name="mail")


def _address(raw: str) -> str:
    from app.subscribers.validation import InvalidInput, normalize_email

    try:
        return normalize_email(raw)
    except InvalidInput as exc:
        fail(exc.message)


def suppress_cmd(
    email: Annotated[str, typer.Argument(help="Address never to mail again.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown on /admin).")] = "operator decision",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the address, change nothing.")] = False,
) -> None:
    """Add an address to the suppression list (queued emails to it are skipped)."""
    from app.subscribers.suppression import suppress

    address = _address(email)
    with unit_of_work(settings(), dry_run=dry_run) as session:
        added = suppress(
            session, address, kind="manual", reason=reason, source="manual", now=datetime.now(UTC)
        )
    state = "suppressed" if added else "was already suppressed"
    typer.echo(f"{'dry run: ' if dry_run else ''}{address} {state}")


def unsuppress_cmd(
    email: Annotated[str, typer.Argument(help="Address to allow again.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Change nothing.")] = False,
) -> None:
    """Remove an address from the suppression list (it must still be a confirmed subscriber to get mail)."""
    from app.subscribers.suppression import unsuppress

    address = _address(email)
    with unit_of_work(settings(), dry_run=dry_run) as session:
        removed = unsuppress(session, address, datetime.now(UTC))
    if not removed:
        fail(f"{address} is not on the suppression list")
    typer.echo(f"{'dry run: ' if dry_run else ''}{address} removed from the suppression list")


def import_bounces(
    file: Annotated[Path, typer.Argument(help="JSON list, JSON lines, or CSV (email,kind,reason).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and count, change nothing.")] = False,
) -> None:
    """Apply bounces and complaints from a provider export: hard bounces and complaints suppress."""
    from app.subscribers.suppression import apply_events, parse_import
    from app.subscribers.validation import InvalidInput

    started = time.perf_counter()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    try:
        events = parse_import(text)
    except InvalidInput as exc:
        fail(f"{file}: {exc.message}")
    except ValueError as exc:
        fail(f"{file}: not valid JSON: {exc}")
    with unit_of_work(settings(), dry_run=dry_run) as session:
        counts = apply_events(session, events, source="import", now=datetime.now(UTC))
    typer.echo(
        f"{'dry run: ' if dry_run else ''}{len(events)} events: {counts['suppressed']} newly suppressed, "
        f"{counts['already']} already suppressed, {counts['recorded']} soft bounces recorded "
        f"({time.perf_counter() - started:.1f}s)"
    )


def resume_cmd() -> None:
    """Resume sending after it paused on too many errors (fix the cause first: see /admin)."""
    from app.mail.pause import resume

    with unit_of_work(settings()) as session:
        count = resume(session, datetime.now(UTC))
    typer.echo("sending resumed" if count else "sending was not paused")
