"""Screenshots of a running papertrend's topics: the topic index and the area with the most subtopics.

Point it at any running instance (the demo: `papertrend init && papertrend demo && papertrend run`):

    .venv/bin/python scripts/screenshots_topics.py                          # http://127.0.0.1:8000
    .venv/bin/python scripts/screenshots_topics.py http://127.0.0.1:8011 --out docs/screenshots

It writes `demo-topics-<width>.png` and `demo-area-<width>.png` at 1280 and 375 px (whole pages up
to 2,400 px tall) and
prints which area it chose and how many subtopics it has; the area is read from the JSON API
(`/api/v1/topics?kind=area`), the one with the most subtopics, the largest on a tie.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any
from urllib.error import URLError
from urllib.request import urlopen

import typer

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (1280, 375)
MAX_HEIGHT = 2400  # the top of a long page (head, subtopics, chart) is what the picture is for


def fetch_json(url: str) -> Any:
    with urlopen(url, timeout=30) as response:
        return json.load(response)


def pick_area(base: str) -> dict[str, Any] | None:
    """The area with the most visible subtopics (then the most papers); None when there is no area."""
    items = fetch_json(f"{base}/api/v1/topics?kind=area")["items"]
    if not items:
        return None
    best: dict[str, Any] = max(items, key=lambda t: (t.get("subtopics", 0), t["size"], t["slug"]))
    return best


def main(
    url: Annotated[str, typer.Argument(help="Base URL of the running instance.")] = "http://127.0.0.1:8000",
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNG files.")] = SCREENSHOTS,
    chromium: Annotated[str, typer.Option("--chromium", help="Chromium executable.")] = "/usr/bin/chromium",
) -> None:
    from playwright.sync_api import sync_playwright

    base = url.rstrip("/")
    try:
        area = pick_area(base)
    except (URLError, OSError, ValueError, KeyError) as exc:
        print(f"cannot read {base}/api/v1/topics: {exc} (is papertrend running there?)", file=sys.stderr)
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    pages = [("demo-topics", "/topics")]
    if area is None:
        print("no research area yet: only the topic index is taken", file=sys.stderr)
    else:
        pages.append(("demo-area", f"/topics/{area['slug']}"))
        subtopics = area.get("subtopics", 0)
        print(f"area: {area['label']} ({area['slug']}), {subtopics} subtopics, {area['size']} papers")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                for name, path in pages:
                    page.goto(base + path, wait_until="load")
                    target = out / f"{name}-{width}.png"
                    height = min(int(page.evaluate("document.documentElement.scrollHeight")), MAX_HEIGHT)
                    clip = {"x": 0, "y": 0, "width": width, "height": height}
                    page.screenshot(path=str(target), full_page=True, clip=clip)
                    print(f"wrote {target}")
                context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    typer.run(main)
