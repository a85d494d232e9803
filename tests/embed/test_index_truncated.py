"""A vector index file cut off anywhere (inside its header, right after it, inside the payload) is
reported as damaged in one clear line and rebuilt from the database, never a struct.error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.embed import register
from app.config import get_settings
from app.embed.encoder import BUNDLED_MODEL_NAME, HashingEncoder
from app.embed.faiss_index import MAGIC, IndexFormatError, VectorIndex
from app.embed.index import IndexReport, ensure_index, index_path
from app.embed.service import embed_pending
from tests.embed.embed_support import add_small_corpus

ENC = HashingEncoder(dim=384, model_name=BUNDLED_MODEL_NAME)


def _cut_points(full: bytes) -> dict[str, int]:
    header_end = len(MAGIC) + 4 + int.from_bytes(full[len(MAGIC) : len(MAGIC) + 4], "little")
    return {
        "empty": 0,
        "inside the magic": 3,
        "after the magic": len(MAGIC),
        "inside the header length": len(MAGIC) + 2,
        "after the header length": len(MAGIC) + 4,
        "inside the header": header_end - 5,
        "right after the header": header_end,
        "inside the payload": header_end + (len(full) - header_end) // 2,
    }


@pytest.fixture
def saved(db: Session, tmp_path: Path) -> tuple[Path, bytes]:
    add_small_corpus(db)
    embed_pending(db, ENC, batch_size=8)
    index = ensure_index(db, tmp_path, ENC.model_name, exact_threshold=50_000)
    assert index.ntotal == 5
    path = index_path(tmp_path, ENC.model_name)
    return path, path.read_bytes()


def test_a_cut_off_index_is_a_clear_error_and_is_rebuilt(
    db: Session, tmp_path: Path, saved: tuple[Path, bytes]
) -> None:
    path, full = saved
    for where, size in _cut_points(full).items():
        path.write_bytes(full[:size])
        with pytest.raises(IndexFormatError) as caught:
            VectorIndex.load(path)
        assert str(path) in str(caught.value), where
        with pytest.raises(IndexFormatError):
            VectorIndex.read_header(path)
        report = IndexReport(action="loaded")
        index = ensure_index(db, tmp_path, ENC.model_name, exact_threshold=50_000, report=report)
        assert report.action == "rebuilt" and index.ntotal == 5, where
        assert VectorIndex.load(path).ntotal == 5  # a whole file again


@pytest.fixture
def cli(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[typer.Typer]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)
    yield root
    get_settings.cache_clear()


def test_index_status_and_the_index_step_on_a_cut_off_file(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_factory() as s, s.begin():
        add_small_corpus(s)
        embed_pending(s, ENC, batch_size=8)
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "rebuild"]).exit_code == 0
    path = index_path(tmp_path / "var" / "index", BUNDLED_MODEL_NAME)
    full = path.read_bytes()
    for where, size in _cut_points(full).items():
        path.write_bytes(full[:size])
        status = runner.invoke(cli, ["index", "status"])
        assert status.exit_code == 0 and status.exception is None, (where, status.output)
        assert "index: unusable" in status.stdout and "rebuilds it" in status.stdout, where
        with session_factory() as s:
            report = IndexReport(action="loaded")
            ensure_index(s, path.parent, BUNDLED_MODEL_NAME, exact_threshold=50_000, report=report)
        assert report.action == "rebuilt", where
        after = runner.invoke(cli, ["index", "status"])
        assert "index: 5 vector(s)" in after.stdout and "up to date" in after.stdout
