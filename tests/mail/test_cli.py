"""`papertrend digest ...` and `papertrend mail ...` as a user runs them (typer runner, real SMTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import digest as digest_cli
from app.cli import mail as mail_cli
from app.config import get_settings
from app.db import session_scope
from app.models import Delivery, Digest, Suppression
from app.models.digest import MailAlert
from tests.mail.mail_support import MAIL_FROM, SECRET, SmtpServer, seed_world


@pytest.fixture
def cli(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[typer.Typer]:
    url = session_factory.kw["bind"].url.render_as_string(hide_password=False)
    env = {"DATABASE_URL": url, "SMTP_URL": smtp.url, "SECRET_KEY": SECRET, "VAR_DIR": str(tmp_path),
           "BASE_URL": "https://news.example.org", "MAIL_FROM": MAIL_FROM}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    root = typer.Typer()
    digest_cli.register(root)
    mail_cli.register(root)
    yield root
    get_settings.cache_clear()


def test_digest_build_dry_run_then_build_then_send(
    cli: typer.Typer, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)  # `digest send` works on the real clock: build for today
    seed_world(session_factory, ["a@example.org", "b@example.org"], send_hour=0, day=now)
    runner = CliRunner()
    dry = runner.invoke(cli, ["digest", "build", "--dry-run", "--now", now.isoformat()])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.output and "2 digests built" in dry.output
    with session_scope(session_factory) as s:
        assert s.scalars(select(Digest)).all() == []
    built = runner.invoke(cli, ["digest", "build", "--now", now.isoformat()])
    assert built.exit_code == 0 and "2 emails queued" in built.output
    due = runner.invoke(cli, ["digest", "send", "--dry-run"])
    assert due.exit_code == 0 and "2 emails due now" in due.output and smtp.received == []
    sent = runner.invoke(cli, ["digest", "send"])
    assert sent.exit_code == 0 and "2 sent" in sent.output and "via SMTP" in sent.output
    assert sorted(r.rcpt for r in smtp.received) == ["a@example.org", "b@example.org"]
    again = runner.invoke(cli, ["digest", "build", "--now", now.isoformat()])
    assert "0 digests built" in again.output and "2 already built" in again.output


def test_digest_commands_fail_with_one_clear_line(
    cli: typer.Typer, session_factory: sessionmaker[Session]
) -> None:
    result = CliRunner().invoke(cli, ["digest", "build", "--now", "yesterday-ish"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "papertrend: error: --now: 'yesterday-ish' is not an ISO date-time such as 2026-05-04T07:30:00Z"
    ]
    with session_scope(session_factory) as s:
        s.add(MailAlert(kind="paused", message="paused for the test"))
    paused = CliRunner().invoke(cli, ["digest", "send"])
    assert paused.exit_code == 2 and "sending is paused" in paused.output
    assert CliRunner().invoke(cli, ["mail", "resume"]).output.strip() == "sending resumed"


def test_mail_suppress_unsuppress_and_import(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["mail", "suppress", "Someone@Example.org"]).output.strip() == (
        "someone@example.org suppressed"
    )
    assert "already" in runner.invoke(cli, ["mail", "suppress", "someone@example.org"]).output
    bad = runner.invoke(cli, ["mail", "suppress", "not an address"])
    assert bad.exit_code == 1 and "papertrend: error:" in bad.output
    assert runner.invoke(cli, ["mail", "unsuppress", "someone@example.org"]).exit_code == 0
    missing = runner.invoke(cli, ["mail", "unsuppress", "someone@example.org"])
    assert missing.exit_code == 1 and "not on the suppression list" in missing.output
    export = tmp_path / "bounces.csv"
    export.write_text(
        "email,kind,reason\nx@example.org,bounce,550 5.1.1\ny@example.org,soft_bounce,mailbox full\n"
    )
    dry = runner.invoke(cli, ["mail", "import-bounces", str(export), "--dry-run"])
    assert dry.exit_code == 0 and "dry run: 2 events: 1 newly suppressed" in dry.output
    with session_scope(session_factory) as s:
        assert s.scalars(select(Suppression)).all() == []
    done = runner.invoke(cli, ["mail", "import-bounces", str(export)])
    assert "1 newly suppressed" in done.output and "1 soft bounces recorded" in done.output
    with session_scope(session_factory) as s:
        assert s.scalars(select(Suppression.email)).all() == ["x@example.org"]
        assert s.scalars(select(Delivery)).all() == []
    broken = tmp_path / "broken.json"
    broken.write_text('[{"email": "z@example.org", "kind": "exploded"}]')
    failed = runner.invoke(cli, ["mail", "import-bounces", str(broken)])
    assert failed.exit_code == 1 and "unknown kind" in failed.output
    assert runner.invoke(cli, ["mail", "import-bounces", str(tmp_path / "nope.csv")]).exit_code == 1
