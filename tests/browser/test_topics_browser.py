"""The topic index, an area page with its subtopics and a subtopic page in a real browser, at phone
and desktop widths: the hierarchy is visible and navigable, nothing scrolls sideways, axe is clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.browser.live import LiveServer, free_port, seeded_database, start_live, stop_live
from tests.browser.pages import WIDTHS, axe_violations, open_page, save_screenshot
from tests.web.apputil import build_app
from tests.web.hierarchy import AGENTS, AREA, TRANSLATION, add_hierarchy


@pytest.fixture
def hierarchy_server(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[LiveServer]:
    seeded, database = seeded_database(session_factory)
    with session_scope(session_factory) as session:
        add_hierarchy(session, seeded)
    live = start_live(build_app(session_factory, tmp_path), free_port(), seeded, database)
    yield live
    stop_live(live)


@pytest.mark.parametrize("width", WIDTHS)
def test_index_area_and_subtopic_pages(browser: Any, hierarchy_server: LiveServer, width: int) -> None:
    opened = open_page(browser, hierarchy_server.url + "/topics", width=width)
    page = opened.page
    try:
        # The index: the area's card holds its subtopics, each with its size and a sparkline.
        group = page.locator(f"#sub-{AREA}")
        assert group.is_visible()
        rows = group.locator(".subtopic-row")
        assert rows.count() == 2
        assert rows.first.locator(".subtopic-name").inner_text() == "LLM agents"
        assert rows.first.locator("svg.sparkline").is_visible()
        assert rows.first.locator(".subtopic-size").inner_text().startswith("4")
        assert page.locator("#techniques-title").is_visible()
        assert axe_violations(page) == []
        opened.assert_clean()
        save_screenshot(page, f"topics-areas-{width}")

        # A subtopic page names its area and links to it.
        rows.first.locator(".subtopic-name").click()
        page.wait_for_url(f"**/topics/{AGENTS}")
        assert page.locator("h1").inner_text() == "LLM agents"
        area_line = page.locator(".topic-area")
        assert "A subtopic of the research area Natural language processing" in area_line.inner_text()
        reason = page.locator(".trend-reason")
        assert reason.is_visible() and "2.9×" in reason.inner_text()
        assert axe_violations(page) == []
        opened.assert_clean()

        # The area page lists its subtopics with sizes, sparklines and how each moves.
        page.locator(".breadcrumb a", has_text="Natural language processing").click()
        page.wait_for_url(f"**/topics/{AREA}")
        listed = page.locator("#subtopics .subtopic-row")
        assert listed.count() == 2
        assert [n.inner_text() for n in listed.locator(".subtopic-name").all()] == [
            "LLM agents",
            "Machine translation",
        ]
        for i in range(2):
            assert listed.nth(i).locator("svg.sparkline").is_visible()
            assert listed.nth(i).locator(".trend").is_visible()
        assert "falling" in listed.nth(1).locator(".trend").inner_text()
        assert page.get_by_role("link", name="Subscribe to this area").is_visible()
        assert axe_violations(page) == []
        opened.assert_clean()
        save_screenshot(page, f"area-subtopics-{width}")
        page.locator(f'#subtopics a[href="/topics/{TRANSLATION}"]').click()
        page.wait_for_url(f"**/topics/{TRANSLATION}")
        opened.assert_clean()
    finally:
        opened.close()
