"""Helpers for the ingest tests: fixture files, a write counter, and papers by id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.models import Paper

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(*parts: str) -> Path:
    return FIXTURES.joinpath(*parts)


def fixture_bytes(*parts: str) -> bytes:
    return fixture(*parts).read_bytes()


@contextmanager
def count_writes(session: Session) -> Iterator[list[str]]:
    """Every INSERT/UPDATE/DELETE the session's connection sends while the block runs."""
    writes: list[str] = []
    connection = session.connection()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split("(")[0][:60])

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield writes
    finally:
        event.remove(connection, "before_cursor_execute", before)


def paper(session: Session, arxiv_id: str) -> Paper:
    found = session.scalars(select(Paper).where(Paper.arxiv_id == arxiv_id)).one_or_none()
    assert found is not None, f"no paper {arxiv_id}"
    session.refresh(found)
    return found


def all_papers(session: Session) -> list[Paper]:
    papers = list(session.scalars(select(Paper).order_by(Paper.id)))
    for p in papers:
        session.refresh(p)
    return papers
