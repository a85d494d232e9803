"""Early trending in a real browser at phone and desktop widths: the Likely tab, the chip, the API field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.browser.conftest import LiveServer, free_port, start_live, stop_live
from tests.browser.pages import WIDTHS, axe_violations, open_page, save_screenshot
from tests.early.site_seed import add_predictions
from tests.web.apputil import build_app
from tests.web.seed import seed


@pytest.fixture
def early_server(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[LiveServer]:
    with session_scope(session_factory) as session:
        seeded = seed(session)
        add_predictions(session, seeded)
    database = str(session_factory.kw["bind"].dialect.name)
    live = start_live(build_app(session_factory, tmp_path), free_port(), seeded, database)
    yield live
    stop_live(live)


@pytest.mark.parametrize("width", WIDTHS)
def test_likely_tab_chip_and_api_field(browser: Any, early_server: LiveServer, width: int) -> None:
    opened = open_page(browser, early_server.url + "/", width=width)
    page = opened.page
    try:
        # The chip is on today's cards; opening it shows the reasons and how reliable the number is.
        chips = page.locator("article.card details.chance")
        assert chips.count() == 3
        first = chips.first
        assert first.locator(".chance-pct").inner_text().endswith("%")
        assert not first.locator(".chance-note").is_visible()
        first.locator("summary").click()
        assert first.locator(".chance-note").is_visible()
        assert "Reliability:" in first.locator(".chance-note").inner_text()
        box = first.locator("summary").bounding_box()
        assert (
            box is not None and box["x"] + box["width"] <= width and box["height"] >= 24
        )  # a finger-sized target
        # The tab: today's papers, most likely first.
        page.get_by_role("link", name="Likely to trend").click()
        page.wait_for_url("**/likely")
        assert page.locator('.tabs a[aria-current="page"]').inner_text() == "Likely to trend"
        shown = page.locator("article.card .chance-pct").all_inner_texts()
        assert len(shown) == 3
        assert page.locator(".chance-banner").is_visible()
        assert "Starting model" in page.locator(".chance-banner").inner_text()
        opened.assert_clean()
        # The JSON API gives the same numbers, with the reasons.
        body = page.request.get(early_server.url + "/api/v1/likely").json()
        values = [item["trend_probability"] for item in body["items"]]
        assert values == sorted(values, reverse=True)
        assert shown == ["<1 %" if v < 0.005 else f"{round(v * 100)} %" for v in values]
        assert all(isinstance(item["trend_prediction"]["reasons"], list) for item in body["items"])
        # The paper page has its own section.
        page.locator("article.card .card-title a").first.click()
        page.wait_for_url("**/papers/**")
        section = page.locator("section.chance-detail")
        assert section.is_visible() and "Chance to trend" in section.inner_text()
        opened.assert_clean()
    finally:
        opened.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_early_trending_pages_have_no_serious_accessibility_violations(
    browser: Any, early_server: LiveServer, scheme: str
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in ("/likely", "/", "/papers/2611.10000", "/about"):
        for width in WIDTHS:
            opened = open_page(browser, early_server.url + path, width=width, scheme=scheme)
            try:
                opened.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                violations = axe_violations(opened.page)
                if violations:
                    found[f"{path} @ {width}px"] = violations
            finally:
                opened.close()
    assert found == {}


def test_screenshots_of_early_trending(browser: Any, early_server: LiveServer) -> None:
    if early_server.database != "sqlite":
        pytest.skip("screenshots are taken once, from the SQLite run")
    for path, width, scheme, name in [
        ("/likely", 1280, "light", "likely-1280"),
        ("/likely", 375, "light", "likely-375"),
        ("/likely", 375, "dark", "likely-dark-375"),
        ("/papers/2611.10001", 1280, "light", "paper-chance-1280"),
    ]:
        opened = open_page(browser, early_server.url + path, width=width, scheme=scheme)
        try:
            if path == "/likely":
                opened.page.locator("details.chance summary").first.click()
            save_screenshot(opened.page, name)
            opened.assert_clean()
        finally:
            opened.close()
