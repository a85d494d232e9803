"""axe-core on the main pages, light and dark: no serious or critical accessibility violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.live import LiveServer
from tests.browser.pages import axe_violations, open_page

PAGES = [
    "/",
    "/?window=week&topic=quantization",
    "/topics",
    "/topics/quantization",
    "/papers/2611.10000",
    "/search?q=quantization",
    "/status",
    "/about",
    "/api",
    "/subscribe?topic=quantization",
    "/topics/no-such-topic",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_have_no_serious_violations(browser: Any, live_server: LiveServer, scheme: str) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in PAGES:
        for width in (375, 1280):
            opened = open_page(browser, live_server.url + path, width=width, scheme=scheme)
            try:
                # Open every disclosure so the content inside is checked too.
                opened.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                violations = axe_violations(opened.page)
                if violations:
                    found[f"{path} @ {width}px"] = violations
            finally:
                opened.close()
    assert found == {}
