"""End to end against a real SMTP server: subscribe through the form, confirm, get exactly one digest,
nothing on a second run, and the one-click unsubscribe stops the next digest. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.digest.service import DigestOptions
from app.embed.service import load_vectors
from app.mail.compose import MailSetup
from app.mail.flows import deliver_outbox
from app.mail.outcomes import DeliverReport
from app.mail.policy import DeliveryPolicy
from app.mail.senders import make_sender
from app.mail.service import QueueReport, build_and_queue
from app.models import Delivery, Subscriber
from tests.digest.digest_support import add_paper, add_topic
from tests.mail.mail_support import (
    SmtpServer,
    csrf_from,
    deliver_confirmations,
    links_in,
    make_app,
    path_of,
    settings_for,
)


def _seed(factory: sessionmaker[Session], day: datetime) -> dict[str, list[str]]:
    with session_scope(factory) as s:
        quant = add_topic(s, "Quantization")
        rl = add_topic(s, "Reinforcement learning")
        q = [
            add_paper(
                s, f"Low-bit quantization of transformers, part {i}", day=day.date(), topics={quant: 0.9}
            )
            for i in range(3)
        ]
        r = [
            add_paper(s, f"Offline policy optimisation, part {i}", day=day.date(), topics={rl: 0.9})
            for i in range(3)
        ]
        return {"quant_id": [str(quant.id)], "quant": [p.title for p in q], "rl": [p.title for p in r]}


def _build_and_send(
    settings: Settings, factory: sessionmaker[Session], now: datetime
) -> tuple[QueueReport, DeliverReport]:
    """What `papertrend digest build` then `papertrend digest send` do."""
    setup = MailSetup.from_settings(settings)
    with session_scope(factory) as session:
        queued = build_and_queue(
            session,
            setup,
            now=now,
            options=DigestOptions.from_settings(settings, "hashing-test"),
            load_vectors=load_vectors,
        )
    sender = make_sender(settings)
    try:
        sent = deliver_outbox(
            factory, sender, setup, policy=DeliveryPolicy.from_settings(settings), now=lambda: now
        )
    finally:
        sender.close()
    return queued, sent


def test_foundation_subscribe_confirm_digest_unsubscribe(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Requirements 1, 31, 35, 21, 24 and 44 on one real path through the product."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    seeded = _seed(session_factory, now)
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    app = make_app(settings, session_factory, make_sender(settings))
    client = TestClient(app)

    form = client.get("/subscribe")
    assert form.status_code == 200
    answer = client.post(
        "/subscribe",
        data={
            "email": "Reader@Example.org",
            "topics": seeded["quant_id"],
            "csrf_token": csrf_from(form.text),
        },
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    deliver_confirmations(app)  # what the web process's confirmation thread does within seconds

    (confirmation,) = smtp.handler.to("reader@example.org")
    confirm_link = next(
        u for u in links_in(confirmation.message.get_body(("plain",)).get_content()) if "/confirm/" in u
    )
    page = client.get(path_of(confirm_link))
    assert page.status_code == 200
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber.status)).one() == "pending"  # the GET changed nothing
    done = client.post(path_of(confirm_link), data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "You are subscribed" in done.text

    # The subscriber's send hour is 07:00 UTC: build at the next 08:00 after the papers were announced.
    build_time = now.replace(hour=8) + (timedelta(days=1) if now.hour >= 8 else timedelta())
    queued, sent = _build_and_send(settings, session_factory, build_time)
    assert queued.queued == 1 and sent.sent == 1, (queued.summary(), sent.summary())
    digests = smtp.handler.to("reader@example.org")[1:]
    assert len(digests) == 1
    msg = digests[0].message
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for title in seeded["quant"]:
        assert title in text and title in html
    assert not any(title in text for title in seeded["rl"])
    assert "Quantization" in msg["Subject"]

    # Both commands again: nothing new is built or sent.
    queued, sent = _build_and_send(settings, session_factory, build_time + timedelta(minutes=30))
    assert queued.queued == 0 and sent.sent == 0
    assert len(smtp.handler.to("reader@example.org")) == 2

    # One click, as a mail client sends it: form body, no cookies, no CSRF token.
    url = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    one_click = TestClient(app).post(
        path_of(url), data={"List-Unsubscribe": "One-Click"}, follow_redirects=False
    )
    assert one_click.status_code == 200 and "location" not in one_click.headers

    with session_scope(session_factory) as s:
        quant = s.scalars(select(Subscriber)).one()
        assert quant.status == "unsubscribed"
        from app.models import Topic

        topic = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
        add_paper(
            s, "Quantization tomorrow", day=(build_time + timedelta(days=1)).date(), topics={topic: 0.9}
        )
    queued, sent = _build_and_send(settings, session_factory, build_time + timedelta(days=1))
    assert queued.queued == 0 and sent.sent == 0
    assert len(smtp.handler.to("reader@example.org")) == 2
    with session_scope(session_factory) as s:
        kinds = sorted((d.kind, d.status) for d in s.scalars(select(Delivery)))
    assert kinds == [("confirm", "sent"), ("digest", "sent")]


def test_embedded_mode_outbox_page_lets_a_user_click_through(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Without SMTP_URL the confirmation lands in the file outbox, listed at /outbox."""
    settings = settings_for(tmp_path)
    assert settings.uses_file_outbox
    # The outbox opens only to this machine: a loopback client asking for a loopback host.
    app = make_app(settings, session_factory, make_sender(settings))
    client = TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50123))
    form = client.get("/subscribe")
    client.post("/subscribe", data={"email": "local@example.org", "csrf_token": csrf_from(form.text)})
    deliver_confirmations(app)
    listing = client.get("/outbox")
    assert listing.status_code == 200 and "Confirm your subscription" in listing.text
    name = next(part.split('"')[0] for part in listing.text.split('href="/outbox/')[1:])
    shown = client.get(f"/outbox/{name}")
    assert shown.status_code == 200
    confirm = next(u for u in links_in(shown.text) if "/confirm/" in u).split('"')[0].split("<")[0]
    page = client.get(path_of(confirm))
    done = client.post(path_of(confirm), data={"csrf_token": csrf_from(page.text)})
    assert "You are subscribed" in done.text
    html = client.get(f"/outbox/{name}/html")
    assert html.status_code == 200 and "frame-ancestors 'self'" in html.headers["content-security-policy"]
    raw = client.get(f"/outbox/{name}/raw")
    assert raw.headers["content-type"].startswith("message/rfc822") and b"Message-ID" in raw.content
    assert client.get("/outbox/..%2Fsecret_key").status_code == 404


def test_outbox_pages_are_absent_when_smtp_is_configured(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    client = TestClient(make_app(settings, session_factory, make_sender(settings)))
    assert client.get("/outbox").status_code == 404
