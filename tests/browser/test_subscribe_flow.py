"""The whole subscribe flow in a real browser, with the confirmation email caught by a real SMTP server.

subscribe form (topic pre-filled from a topic page) → confirmation email (aiosmtpd on 127.0.0.1)
→ open the link → confirm with the button → preferences → save → preview of the next digest →
unsubscribe in one click from the link in the email, and the RFC 8058 one-click POST.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.models import Subscriber, SubscriberTopic
from tests.browser.live import LiveServer, free_port, seeded_database, start_live, stop_live
from tests.browser.pages import axe_violations, open_page
from tests.mail.mail_support import SmtpServer, wait_for_mail
from tests.web.apputil import build_app

EMAIL = "new.reader@example.org"


@pytest.fixture
def mail_server(
    session_factory: sessionmaker[Session], smtp: SmtpServer, tmp_path: Path
) -> Iterator[LiveServer]:
    seeded, database = seeded_database(session_factory)
    port = free_port()
    # Links in the emails point at this server, so the browser can follow them.
    app = build_app(
        session_factory,
        tmp_path,
        smtp_url=smtp.url,
        base_url=f"http://127.0.0.1:{port}",
        subscribe_min_seconds=0,
    )
    live = start_live(app, port, seeded, database)
    yield live
    stop_live(live)


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


def _status(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as session:
        return str(session.scalars(select(Subscriber.status).where(Subscriber.email == EMAIL)).one())


@pytest.mark.parametrize("width", [375, 1280])
def test_subscribe_confirm_preferences_preview_unsubscribe(
    browser: Any,
    mail_server: LiveServer,
    smtp: SmtpServer,
    session_factory: sessionmaker[Session],
    width: int,
) -> None:
    opened = open_page(browser, mail_server.url + "/topics/quantization", width=width)
    page = opened.page
    try:
        # From a topic page to the form, with that topic already ticked.
        page.get_by_role("link", name="Subscribe to this topic").click()
        page.wait_for_url("**/subscribe?topic=quantization")
        assert page.get_by_label("Quantization of large language models").is_checked()
        page.get_by_label("Email address").fill(EMAIL)
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        assert _status(session_factory) == "pending"

        # The confirmation email arrived over SMTP; its link opens a page that confirms only with a POST.
        mails = wait_for_mail(smtp, EMAIL)  # sent by the server's confirmation thread, not the request
        assert len(mails) == 1
        text = mails[0].message.get_body(("plain",)).get_content()
        confirm = next(u for u in _links(text) if "/confirm/" in u)
        page.goto(confirm)
        page.get_by_role("heading", name="Confirm your subscription").wait_for()
        assert axe_violations(page) == []
        assert _status(session_factory) == "pending"
        page.get_by_role("button", name="Yes, send me the digest").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
        assert _status(session_factory) == "confirmed"

        # Preferences: the topic chosen on the form is there; add a keyword and save.
        page.get_by_role("link", name="Choose topics, keywords and timing").click()
        page.get_by_role("heading", name="Your digest").wait_for()
        assert axe_violations(page) == []
        assert page.get_by_label("Quantization of large language models").is_checked()
        page.locator("#keywords").fill("int8, outliers")
        page.get_by_role("button", name="Save preferences").click()
        # The heading is on the page before and after saving: wait for the saved page's notice.
        page.get_by_text("Saved. Your next digest will use these settings.").wait_for()
        assert page.locator("#keywords").input_value() == "int8, outliers"
        with session_scope(session_factory) as session:
            sub = session.scalars(select(Subscriber).where(Subscriber.email == EMAIL)).one()
            assert sub.keywords == ["int8", "outliers"]
            topics = session.scalars(
                select(SubscriberTopic.topic_id).where(SubscriberTopic.subscriber_id == sub.id)
            )
            assert list(topics) == [mail_server.seeded.topics["quantization"]]
        preferences_url = page.url

        # The preview of the next digest opens in the browser and sends nothing.
        sent_before = len(smtp.received)
        preview = page.request.get(preferences_url.rstrip("/") + "/preview")
        assert preview.status == 200 and len(smtp.received) == sent_before

        # Unsubscribe from the preferences page: one button, no login.
        page.goto(preferences_url)
        page.get_by_role("link", name="Unsubscribe").click()
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_role("heading", name="You are unsubscribed").wait_for()
        assert axe_violations(page) == []
        assert _status(session_factory) == "unsubscribed"
        unsubscribe_url = page.url
        opened.assert_clean()
    finally:
        opened.close()

    # The RFC 8058 one-click POST a mail client sends works on the same link, and again (idempotent).
    request = browser.new_context().request
    for _ in range(2):
        answer = request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"})
        assert answer.status < 400
    assert _status(session_factory) == "unsubscribed"
    assert urlsplit(unsubscribe_url).hostname == "127.0.0.1"
