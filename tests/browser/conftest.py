"""A live server over the seeded database and a headless chromium for the browser tests."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.web.apputil import build_app
from tests.web.seed import Seeded, seed

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


class LiveServer:
    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, url: str, seeded: Seeded, database: str
    ) -> None:
        self.server, self.thread, self.url, self.seeded, self.database = server, thread, url, seeded, database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_live(app: FastAPI, port: int, seeded: Seeded, database: str) -> LiveServer:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    return LiveServer(server, thread, f"http://127.0.0.1:{port}", seeded, database)


def stop_live(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


def seeded_database(session_factory: sessionmaker[Session]) -> tuple[Seeded, str]:
    with session_scope(session_factory) as session:
        seeded = seed(session)
    return seeded, str(session_factory.kw["bind"].dialect.name)


@pytest.fixture
def live_server(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[LiveServer]:
    seeded, database = seeded_database(session_factory)
    port = free_port()
    live = start_live(build_app(session_factory, tmp_path), port, seeded, database)
    yield live
    stop_live(live)
