"""The digest's "likely to trend in your topics" section: off by default, turned on from the preference
page, then mailed through a real SMTP server with the papers' chances and reasons. Both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.early.service import EarlyOptions, ensure_bundled
from app.mail.senders import make_sender
from app.models import Paper, Subscriber, Topic, TrendPrediction
from tests.digest.digest_support import add_paper
from tests.mail.mail_support import (
    DAY,
    SmtpServer,
    build,
    csrf_from,
    make_app,
    path_of,
    seed_world,
    send,
    settings_for,
)

SECTION = "LIKELY TO TREND IN YOUR TOPICS"


def _predict(session: Session, chances: dict[int, tuple[float, str]]) -> None:
    """Predictions as the scoring step stores them (by the bundled model's version)."""
    model = ensure_bundled(session, EarlyOptions())
    assert model is not None
    for paper_id, (probability, reason) in chances.items():
        session.add(
            TrendPrediction(
                paper_id=paper_id,
                model_id=model.id,
                probability=probability,
                reasons=[{"code": "code_link", "text": reason, "lift": 0.8}],
                reliability="moderate",
                reliability_note="starting model",
                inputs={"code_link": 1.0},
            )
        )


def test_likely_section_only_when_the_subscriber_asks_for_it(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    seed_world(session_factory, ["reader@example.org"], papers=3)
    with session_scope(session_factory) as s:
        _predict(s, {pid: (0.6, "code released") for pid in s.scalars(select(Paper.id))})
    build(settings, session_factory)
    send(settings, session_factory)
    (first,) = smtp.handler.to("reader@example.org")
    text = first.message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert SECTION not in text  # off by default

    # The preference page offers the section, unticked; the reader turns it on with 2 papers per digest.
    prefs = path_of(re.search(r"^\s*Preferences: (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
    app = make_app(settings, session_factory, make_sender(settings))
    app.state.clock = lambda: DAY
    client = TestClient(app)
    page = client.get(prefs).text
    assert 'name="include_likely" value="1">' in page
    with session_scope(session_factory) as s:
        quant = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
    form = {"csrf_token": csrf_from(page), "frequency": "daily", "send_hour": "7", "timezone": "UTC",
            "max_papers": "2", "include_trending": "", "include_likely": "1",
            "topics": [str(quant.id)]}  # fmt: skip
    assert "Saved" in client.post(prefs, data=form).text
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber.include_likely)).one() is True
    assert 'name="include_likely" value="1" checked>' in client.get(prefs).text

    # The next day: five quantization papers with their chances, one unrelated likely paper.
    next_day = DAY + timedelta(days=1)
    with session_scope(session_factory) as s:
        quant = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
        rl = s.scalars(select(Topic).where(Topic.slug == "reinforcement-learning")).one()
        q = [
            add_paper(
                s,
                f"Quantized attention kernels, study {i}",
                day=next_day.date(),
                topics={quant: 0.9 - i / 100},
            )
            for i in range(5)
        ]
        other = add_paper(s, "Offline policy search at scale", day=next_day.date(), topics={rl: 0.9})
        chances = {q[0].id: (0.05, "x"), q[1].id: (0.1, "x"),
                   q[2].id: (0.55, "authors with 4 featured papers"), q[3].id: (0.35, "code released"),
                   q[4].id: (0.12, "x"), other.id: (0.9, "x")}  # fmt: skip
        _predict(s, chances)
        titles = {p.id: p.title for p in [*q, other]}
    build(settings, session_factory, next_day)
    send(settings, session_factory, next_day)
    second = smtp.handler.to("reader@example.org")[-1].message
    text = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = second.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert SECTION in text and "Likely to trend in your topics" in html
    likely = text.split(SECTION, 1)[1].split("-- ", 1)[0]
    # The two main picks are the best-fitting papers; of the rest, the likely ones above 20 %, best first.
    assert titles[q[2].id] in likely and titles[q[3].id] in likely
    assert likely.index(titles[q[2].id]) < likely.index(titles[q[3].id])
    assert "55 % chance to trend in Quantization: authors with 4 featured papers" in likely
    assert titles[q[4].id] not in likely and titles[other.id] not in text  # too unlikely / not their topic
    assert "55 % chance to trend" in html
