"""Fixtures of the site tests: a seeded database with real commits and the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.web.apputil import build_app
from tests.web.seed import Seeded, seed


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> Seeded:
    with session_scope(session_factory) as session:
        return seed(session)


@pytest.fixture
def client(session_factory: sessionmaker[Session], seeded: Seeded, tmp_path: Path) -> Iterator[TestClient]:
    app = build_app(session_factory, tmp_path)
    with TestClient(app) as test_client:
        yield test_client
