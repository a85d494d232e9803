"""Opening pages in chromium and checking what every page must satisfy (no CSP errors, no sideways scroll)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDTHS = (375, 1280)


@dataclass
class Opened:
    page: Any
    width: int
    console_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No console errors (a CSP violation shows up there) and nothing wider than the viewport."""
        assert self.console_errors == [], self.console_errors
        scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= self.width + 1, f"page is {scroll_width}px wide at a {self.width}px viewport"

    def close(self) -> None:
        self.page.context.close()


def open_page(browser: Any, url: str, *, width: int, scheme: str = "light") -> Opened:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    opened = Opened(page, width)
    page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.console_errors.append(str(e)))
    page.goto(url, wait_until="load")
    return opened


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core in the page (evaluated over the DevTools protocol, so the page's CSP still holds)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v.get("impact") in impacts
    ]


def save_screenshot(page: Any, name: str, *, full_page: bool = True) -> Path | None:
    """Write docs/screenshots/NAME.png when it is missing or UPDATE_SCREENSHOTS=1 asks for a refresh."""
    path = SCREENSHOTS / f"{name}.png"
    if path.exists() and os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
