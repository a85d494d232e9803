"""A live server over the seeded database and a headless chromium for the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.live import LiveServer, free_port, seeded_database, start_live, stop_live
from tests.web.apputil import build_app

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(
            f"chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` (make browser)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[LiveServer]:
    seeded, database = seeded_database(session_factory)
    port = free_port()
    live = start_live(build_app(session_factory, tmp_path), port, seeded, database)
    yield live
    stop_live(live)
