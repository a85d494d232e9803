"""The new preference fields and the "what your digest has learned" page in a real browser, at phone
and desktop widths: exclusions, followed authors, a named interest, the quiet note, then the profile
page with the papers a followed name matched and a reset of what was learned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.models import Feedback, Paper, Subscriber, SubscriberInterest
from app.models.subscriber import new_link_key
from app.subscribers.tokens import TokenSigner
from tests.browser.live import LiveServer
from tests.browser.pages import open_page

SECRET = "test-secret-key-" + "x" * 32


def _subscriber(factory: sessionmaker[Session]) -> tuple[int, str, str]:
    with session_scope(factory) as session:
        paper = session.scalars(select(Paper).order_by(Paper.id)).first()
        assert paper is not None and paper.authors
        sub = Subscriber(
            email="profile.reader@example.org", status="confirmed", link_key=new_link_key(),
            confirmed_at=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(sub)
        session.flush()
        now = datetime.now(UTC)
        session.add(Feedback(subscriber_id=sub.id, kind="more", paper_id=paper.id, created_at=now))
        return sub.id, sub.link_key, paper.authors[0]


@pytest.mark.parametrize("width", [375, 1280])
def test_new_preference_fields_and_the_profile_page(
    browser: Any, live_server: LiveServer, session_factory: sessionmaker[Session], width: int
) -> None:
    sid, key, author = _subscriber(session_factory)
    token = TokenSigner([SECRET]).preferences_token(sid, key)
    opened = open_page(browser, f"{live_server.url}/preferences/{token}", width=width)
    page = opened.page
    try:
        page.locator("#exclude").fill("survey, benchmark")
        page.locator("#authors").fill(author)
        page.locator("input[name=interest_name]").first.fill("Side project")
        page.locator("input[name=interest_keywords]").first.fill("sign language")
        page.get_by_label("Send a short note when nothing new matches", exact=False).check()
        with page.expect_navigation():  # the saved page, not the form before it answered
            page.get_by_role("button", name="Save preferences").click()
        page.get_by_text("Saved.", exact=False).wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        with session_scope(session_factory) as session:
            sub = session.get(Subscriber, sid)
            assert sub is not None
            assert sub.exclude_keywords == ["survey", "benchmark"] and sub.authors == [author]
            assert sub.quiet_note
            stmt = select(SubscriberInterest).where(SubscriberInterest.subscriber_id == sid)
            (named,) = session.scalars(stmt)
            assert named.name == "Side project" and named.keywords == ["sign language"]
        page.get_by_role("link", name="What your digest has learned").click()
        page.get_by_role("heading", name="What your digest has learned").wait_for()
        assert page.get_by_role("heading", name=author).is_visible()
        assert page.locator(".sub-papers li").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("button", name="Reset what was learned").click()
        page.get_by_text("Forgotten: 1", exact=False).wait_for()
        with session_scope(session_factory) as session:
            kinds = session.scalars(select(Feedback.kind).where(Feedback.subscriber_id == sid)).all()
            assert "more" not in kinds
        assert not opened.console_errors
    finally:
        page.context.close()
