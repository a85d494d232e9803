"""`papertrend digest build|send`: build due digests into the outbox, then deliver the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, progress_bar, session_factory, settings, unit_of_work
from app.config import Settings

if TYPE_CHECKING:
    from app.mail.compose import MailSetup


def register(root: typer.Typer) -> None:
    digest_app = typer.Typer(
        help="Personal email digests: build the due ones, send the outbox.", no_args_is_help=True
    )
    digest_app.command("build")(build)
    digest_app.command("send")(send)
    root.add_typer(digest_app, name="digest")


def parse_now(value: str | None) -> datetime:
    """`--now` as an ISO date-time; without a zone it is UTC."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now: {value!r} is not an ISO date-time such as 2026-05-04T07:30:00Z")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mail_setup(cfg: Settings) -> MailSetup:
    from app.mail.compose import MailSetup
    from app.mail.dkim import DkimError
    from app.mail.message import HeaderError

    try:
        return MailSetup.from_settings(cfg)
    except (DkimError, HeaderError) as exc:
        fail(str(exc))


def build(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute the digests, write nothing.")] = False,
    now: Annotated[str, typer.Option("--now", help="Pretend it is this UTC time (ISO), for tests.")] = "",
) -> None:
    """Build the digests that are due (send hour reached in each subscriber's time zone) into the outbox."""
    from app.embed.encoder import SentenceTransformerEncoder
    from app.jobs.mailing import build_digests

    cfg = settings()
    moment = parse_now(now)
    setup = mail_setup(cfg)
    encoder = SentenceTransformerEncoder.from_settings(cfg)  # loads the model only if an interest needs it
    try:
        with unit_of_work(cfg, dry_run=dry_run) as session, progress_bar("rendering", None) as advance:
            report = build_digests(session, cfg, setup, encoder, moment, progress=advance)
    except Exception as exc:
        fail(f"digest build failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    prefix = "dry run, nothing written: " if dry_run else ""
    typer.echo(prefix + report.summary())


def send(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be sent, send nothing.")
    ] = False,
) -> None:
    """Deliver the outbox (digests and confirmations) through SMTP or the file outbox."""
    from app.db import session_scope
    from app.mail.flows import deliver_outbox
    from app.mail.policy import DeliveryPolicy
    from app.mail.queries import outbox_counts
    from app.mail.senders import make_sender

    cfg = settings()
    factory = session_factory(cfg)
    if dry_run:
        with session_scope(factory) as session:
            counts = outbox_counts(session, datetime.now(UTC))
        typer.echo(
            f"dry run: {counts['due']} emails due now, {counts['later']} waiting for a retry, "
            f"sending is {'PAUSED' if counts['paused'] else 'active'}"
        )
        return
    setup = mail_setup(cfg)
    sender = make_sender(cfg)
    try:
        with progress_bar("sending", None) as advance:
            report = deliver_outbox(
                factory, sender, setup, policy=DeliveryPolicy.from_settings(cfg), progress=advance
            )
    except Exception as exc:
        fail(f"digest send failed: {type(exc).__name__}: {exc}")
    finally:
        sender.close()
    target = "the outbox folder " + str(cfg.outbox_dir) if cfg.uses_file_outbox else "SMTP"
    typer.echo(f"{report.summary()} (via {target})")
    if report.paused:
        fail("sending is paused after too many errors; see /admin, then `papertrend mail resume`", code=2)
