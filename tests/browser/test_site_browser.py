"""The site in a real browser at phone and desktop widths: tabs, topic filter, disclosure, search, charts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.live import LiveServer
from tests.browser.pages import WIDTHS, open_page, save_screenshot


@pytest.mark.parametrize("width", WIDTHS)
def test_trending_tabs_and_topic_filter(browser: Any, live_server: LiveServer, width: int) -> None:
    opened = open_page(browser, live_server.url + "/", width=width)
    page = opened.page
    try:
        assert page.locator("article.card").count() == 4
        assert page.locator('.tabs a[aria-current="page"]').inner_text() == "Today"
        page.get_by_role("link", name="This week").click()
        page.wait_for_url("**/?window=week")
        assert page.locator("article.card").count() == 8
        assert page.locator('.tabs a[aria-current="page"]').inner_text() == "This week"
        page.locator(".filter-chips a", has_text="Quantization of large language models").click()
        page.wait_for_url("**topic=quantization**")
        assert "window=week" in page.url
        active = page.locator('.filter-chips a[aria-current="true"]')
        assert active.count() == 1 and "Quantization" in active.inner_text()
        titles = page.locator(".card-title").all_inner_texts()
        assert titles and all("Robust" not in t for t in titles)
        # Date navigation: back one day with papers, in the day view.
        page.goto(live_server.url + "/")
        page.get_by_role("link", name="← Previous day").click()
        page.wait_for_url("**date=2026-11-24**")
        assert "24 Nov 2026" in page.locator(".lede").inner_text()
        opened.assert_clean()
    finally:
        opened.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_why_trending_disclosure(browser: Any, live_server: LiveServer, width: int) -> None:
    opened = open_page(browser, live_server.url + "/", width=width)
    page = opened.page
    try:
        first = page.locator("article.card").first
        table = first.locator(".why-table")
        assert not table.is_visible()
        first.locator(".why summary").click()
        assert table.is_visible()
        parts = table.locator("tbody th").all_inner_texts()
        assert parts[0].startswith("Upvotes") and any(p.startswith("Recency") for p in parts)
        opened.assert_clean()
    finally:
        opened.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_search_from_the_header_and_filters(browser: Any, live_server: LiveServer, width: int) -> None:
    opened = open_page(browser, live_server.url + "/topics", width=width)
    page = opened.page
    try:
        box = page.get_by_role("searchbox", name="Search papers")
        box.fill("int8 matrix")
        box.press("Enter")
        page.wait_for_url("**/search?q=int8+matrix")
        assert "1 result" in page.locator(".result-info").inner_text()
        assert "LLM.int8()" in page.locator(".card-title").first.inner_text()
        page.get_by_label("Topic", exact=True).select_option("diffusion-models")
        page.get_by_label("Words or a description").fill("paper")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**topic=diffusion-models**")
        titles = page.locator(".card-title").all_inner_texts()
        assert titles and all("diffusion" in t or "Older work" in t for t in titles)
        opened.assert_clean()
    finally:
        opened.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_topic_page_with_its_chart(browser: Any, live_server: LiveServer, width: int) -> None:
    opened = open_page(browser, live_server.url + "/topics", width=width)
    page = opened.page
    try:
        assert page.locator("svg.sparkline").count() == 3
        page.get_by_role("link", name="Quantization of large language models").first.click()
        page.wait_for_url("**/topics/quantization")
        # One drawing shows per screen size: the wide one on a desktop, the last 12 weeks on a phone.
        figure = page.locator("figure.chart:visible")
        assert figure.count() == 1
        assert (
            "chart-narrow" in (figure.get_attribute("class") or "")
            if width < 640
            else "chart-wide" in (figure.get_attribute("class") or "")
        )
        chart = figure.locator("svg.week-chart")
        box = chart.bounding_box()
        assert box is not None and box["width"] <= width and box["height"] > 80
        # Labels stay readable: the tick text is drawn at 9 px or more.
        tick = figure.locator("text.tick").first.bounding_box()
        assert tick is not None and tick["height"] >= 9
        assert figure.locator("rect.bar").count() >= 8
        assert figure.locator("polyline.baseline").count() == 1
        figure.locator(".chart-data summary").click()
        assert figure.locator(".chart-data table").is_visible()
        subscribe = page.get_by_role("link", name="Subscribe to this topic")
        assert subscribe.get_attribute("href") == "/subscribe?topic=quantization"
        opened.assert_clean()
    finally:
        opened.close()


def test_screenshots_of_the_main_pages(browser: Any, live_server: LiveServer) -> None:
    if live_server.database != "sqlite":
        pytest.skip("screenshots are taken once, from the SQLite run")
    shots = [
        ("/", 1280, "light", "trending-1280"),
        ("/", 375, "light", "trending-375"),
        ("/?window=week", 1280, "dark", "trending-week-dark-1280"),
        ("/topics", 1280, "light", "topics-1280"),
        ("/topics/quantization", 1280, "light", "topic-1280"),
        ("/topics/quantization", 375, "dark", "topic-dark-375"),
        ("/papers/2611.10000", 1280, "light", "paper-1280"),
        ("/search?q=quantization", 375, "light", "search-375"),
        ("/status", 1280, "light", "status-1280"),
    ]
    for path, width, scheme, name in shots:
        opened = open_page(browser, live_server.url + path, width=width, scheme=scheme)
        try:
            if name.startswith("trending-1280"):
                opened.page.locator(".why summary").first.click()
            save_screenshot(opened.page, name)
            opened.assert_clean()
        finally:
            opened.close()
