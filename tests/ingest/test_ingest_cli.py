"""`papertrend ingest file` and `ingest status` through the real command line (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.ingest import register
from app.config import get_settings
from app.models import JobRun, Paper
from tests.ingest.ingest_support import fixture


@pytest.fixture
def cli(
    database_url: str, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[typer.Typer]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)

    @root.callback()
    def _root() -> None:  # a group, as in the real CLI
        pass

    yield root
    get_settings.cache_clear()


def invoke(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_ingest_file_twice_then_status(cli: typer.Typer, session_factory: sessionmaker[Session]) -> None:
    path = str(fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"))
    code, out, err = invoke(cli, "ingest", "file", path, "--dry-run")
    assert code == 0, err
    assert "would add 60 new" in out
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 0
    code, out, _ = invoke(cli, "ingest", "file", path)
    assert code == 0 and "added 60 new" in out
    code, out, _ = invoke(cli, "ingest", "file", path)
    assert code == 0 and "added 0 new, 0 updated, 60 unchanged" in out
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 60
        runs = s.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert [r.job for r in runs] == ["ingest:file", "ingest:file"]
        assert runs[0].stats["new"] == 60 and runs[0].status == "ok"
    code, out, _ = invoke(cli, "ingest", "status")
    assert code == 0
    assert "arxiv_api" in out and "never" in out  # no live run yet
    assert "  file  " in out and "60 new" in out


def test_ingest_file_errors_are_one_line(cli: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    code, _, err = invoke(cli, "ingest", "file", str(bad))
    assert code == 1
    assert err.strip().count("\n") == 0 and "invalid JSON" in err and "bad.json" in err
    code, _, err = invoke(cli, "ingest", "file", str(tmp_path / "missing.jsonl"))
    assert code == 1 and "no such file" in err


def test_skipped_rows_are_listed_on_stderr(cli: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "2501.00001", "title": "A"}\n{oops\n')
    code, out, err = invoke(cli, "ingest", "file", str(path), "--source", "mine")
    assert code == 0
    assert "1 skipped" in out and "line 2: invalid JSON" in err
