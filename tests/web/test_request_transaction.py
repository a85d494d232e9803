"""A request's transaction is committed before its answer is sent: a commit that fails gives an error,
never a success answer for a change that was not stored."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from app.http import SessionDep
from tests.web.apputil import build_app
from tests.web.seed import Seeded


class CommitRefused(RuntimeError):
    pass


def test_a_failed_commit_is_an_error_not_a_success(
    session_factory: sessionmaker[Session], seeded: Seeded, tmp_path: Path
) -> None:
    app = build_app(session_factory, tmp_path)

    @app.post("/probe/store")
    def store(session: SessionDep) -> PlainTextResponse:  # any route that writes, as the site's do
        session.execute(text("SELECT 1"))
        return PlainTextResponse("stored")

    def refuse(session: Session) -> None:
        raise CommitRefused("the database refused the commit")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/probe/store").text == "stored"
        event.listen(session_factory, "before_commit", refuse)
        try:
            answer = client.post("/probe/store")
        finally:
            event.remove(session_factory, "before_commit", refuse)
    assert answer.status_code == 500 and answer.text != "stored", answer.text
