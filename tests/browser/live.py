"""A live uvicorn server over a seeded database, for the browser tests (not a test module)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.web.seed import Seeded, seed


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
