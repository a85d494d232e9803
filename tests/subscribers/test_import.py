"""`papertrend subscribers import` against a real database, mailing through the file outbox or SMTP."""

from __future__ import annotations

import csv
import email
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.subscribers import register
from app.config import get_settings
from app.db import session_scope
from app.models import Delivery, Subscriber, SubscriberEvent, SubscriberTopic, Suppression, Topic
from app.models.statuses import SubscriberStatus
from app.subscribers.import_rows import ImportFileError, parse_subscriber_csv
from tests.digest.digest_support import add_subscriber
from tests.mail.mail_support import SmtpServer

HEADER = "email,topics,frequency,keywords,interest,authors,exclude"
GOOD = [
    'ada@example.org,"llm-agents;diffusion",weekly,"agents, tool use",Planning with language models,'
    "Ada Lovelace|Alan Turing,survey",
    "grace@example.org,diffusion,,,,,",
    "Linus@Example.org,,daily,,,,",
]


@pytest.fixture
def cli(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[typer.Typer]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-" + "x" * 32)
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    with session_scope(session_factory) as s:
        s.add_all([Topic(slug="llm-agents", label="LLM agents"), Topic(slug="diffusion", label="Diffusion")])
    root = typer.Typer()
    register(root)
    root.command("noop")(lambda: None)  # keeps `subscribers` a group, as under the real root
    yield root
    get_settings.cache_clear()


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _csv(tmp_path: Path, rows: list[str], name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _outbox(tmp_path: Path) -> list[email.message.EmailMessage]:
    folder = tmp_path / "var" / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]  # type: ignore[misc]


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_dry_run_checks_everything_and_writes_nothing(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _csv(tmp_path, [*GOOD, "not-an-address,,daily,,,,"])
    code, out, err = _run(cli, "subscribers", "import", str(path), "--dry-run")
    assert code == 1  # a rejected row makes the check fail, dry run or not
    assert "dry run, nothing written: 3 invited; 1 row(s) rejected" in out
    assert "line 5: email:" in err
    assert _count(session_factory, Subscriber) == 0
    assert _count(session_factory, Delivery) == 0
    assert _outbox(tmp_path) == []
    assert not (tmp_path / "list.rejected.csv").exists()


def test_double_opt_in_through_the_file_outbox_and_idempotent_reimport(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.jobs.subscriber_import.SEND_CHUNK", 2)  # sent in two runs
    path = _csv(tmp_path, GOOD)
    code, out, err = _run(cli, "subscribers", "import", str(path))
    assert code == 0, err
    assert "3 invited" in out and "confirmation emails: 3 sent" in out
    mails = _outbox(tmp_path)
    assert sorted(str(m["To"]) for m in mails) == [
        "ada@example.org",
        "grace@example.org",
        "linus@example.org",
    ]
    assert all("/confirm/" in m.get_body(("plain",)).get_content() for m in mails)  # type: ignore[union-attr]
    with session_factory() as s:
        ada = s.scalars(select(Subscriber).where(Subscriber.email == "ada@example.org")).one()
        assert ada.status == SubscriberStatus.PENDING and ada.source == "import"
        assert ada.frequency == "weekly" and ada.keywords == ["agents", "tool use"]
        assert ada.interest_text == "Planning with language models"
        slugs = set(
            s.scalars(select(Topic.slug).join(SubscriberTopic).where(SubscriberTopic.subscriber_id == ada.id))
        )
        assert slugs == {"llm-agents", "diffusion"}
        event = s.scalars(
            select(SubscriberEvent).where(
                SubscriberEvent.subscriber_id == ada.id, SubscriberEvent.kind == "imported"
            )
        ).one()
        # Kept until profiles hold them: nothing of the row is lost.
        assert event.detail["authors"] == ["Ada Lovelace", "Alan Turing"] and event.detail["exclude"] == [
            "survey"
        ]

    # The same file again: nothing changes, nobody gets a second email.
    code, out, _ = _run(cli, "subscribers", "import", str(path))
    assert code == 0 and "3 already invited" in out
    assert len(_outbox(tmp_path)) == 3
    assert _count(session_factory, Subscriber) == 3

    # The operator now attests consent: the pending addresses are confirmed, still no email.
    code, out, _ = _run(cli, "subscribers", "import", str(path), "--confirmed")
    assert code == 0 and "3 confirmed" in out
    assert len(_outbox(tmp_path)) == 3
    with session_factory() as s:
        statuses = set(s.scalars(select(Subscriber.status)))
    assert statuses == {SubscriberStatus.CONFIRMED}


def test_confirmed_import_sends_nothing_and_invitations_go_through_smtp(
    cli: typer.Typer,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTP_URL", smtp.url)
    get_settings.cache_clear()
    code, out, err = _run(cli, "subscribers", "import", str(_csv(tmp_path, GOOD[:2])), "--confirmed")
    assert code == 0, err
    assert "2 added" in out and "confirmation emails" not in out
    assert smtp.received == []
    with session_factory() as s:
        confirmed = s.scalars(select(Subscriber).order_by(Subscriber.email)).all()
        assert [c.status for c in confirmed] == [SubscriberStatus.CONFIRMED] * 2
        assert all(c.confirmed_at is not None for c in confirmed)

    code, out, err = _run(cli, "subscribers", "import", str(_csv(tmp_path, GOOD[2:], "more.csv")))
    assert code == 0, err
    assert "1 invited" in out and "2 sent" not in out
    assert [r.rcpt for r in smtp.received] == ["linus@example.org"]
    assert "/confirm/" in smtp.received[0].raw.decode()


def test_bad_rows_reported_by_line_and_kept_in_a_rejected_file(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_scope(session_factory) as s:
        add_subscriber(s, "left@example.org", status="unsubscribed")
        s.add(Suppression(email="bounced@example.org", kind="hard_bounce", reason="550", source="import"))
    rows = [
        GOOD[1],
        "no-at-sign,,daily,,,,",
        "x@example.org,no-such-topic,daily,,,,",
        "y@example.org,,hourly,,,,",
        "GRACE@example.org,,weekly,,,,",
        "left@example.org,,daily,,,,",
        "bounced@example.org,,daily,,,,",
        "z@example.org,,daily,,,,",
    ]
    path = _csv(tmp_path, rows)
    code, out, err = _run(cli, "subscribers", "import", str(path))
    assert code == 1
    assert (
        "2 invited" in out
        and "1 unsubscribed" in out
        and "1 suppressed" in out
        and "4 row(s) rejected" in out
    )
    assert "line 3: email:" in err
    assert "line 4: topics: no visible topic 'no-such-topic'" in err
    assert "line 5: frequency:" in err
    assert "line 6: grace@example.org already appears on line 2" in err
    with (tmp_path / "list.rejected.csv").open(encoding="utf-8") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["line"] for r in rejected] == ["3", "4", "5", "6"]
    assert rejected[1]["email"] == "x@example.org" and rejected[1]["topics"] == "no-such-topic"
    with session_factory() as s:
        emails = set(s.scalars(select(Subscriber.email)))
        left = s.scalars(select(Subscriber).where(Subscriber.email == "left@example.org")).one()
    assert emails == {"grace@example.org", "z@example.org", "left@example.org"}
    assert left.status == SubscriberStatus.UNSUBSCRIBED  # a list from elsewhere never resubscribes anyone
    assert sorted(str(m["To"]) for m in _outbox(tmp_path)) == ["grace@example.org", "z@example.org"]


def test_file_level_problems_are_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("name,topics\nAda,llm\n", encoding="utf-8")
    code, _, err = _run(cli, "subscribers", "import", str(path))
    assert code == 1 and err.count("\n") == 1 and "no email column" in err
    path.write_bytes(b"email\n\xff\xfe@example.org\n")
    code, _, err = _run(cli, "subscribers", "import", str(path))
    assert code == 1 and "not UTF-8" in err


def test_parse_handles_bom_quotes_blank_lines_and_extra_columns() -> None:
    parsed = parse_subscriber_csv(
        '\ufeffEmail,Topics,Name\n"a@x.org","t1, t2",Ada\n\n"b@x.org","multi\nline",Bob\nc@x.org,,C,extra\n'
    )
    assert [r.email for r in parsed.rows] == ["a@x.org", "b@x.org"]
    assert parsed.rows[0].topic_refs == ("t1", "t2") and parsed.rows[1].topic_refs == ("multi", "line")
    assert parsed.ignored_columns == ["name"]
    assert [str(e) for e in parsed.errors] == ["line 6: 4 cells, the header has 3"]  # b@x.org spans lines 4-5
    with pytest.raises(ImportFileError):
        parse_subscriber_csv("")
