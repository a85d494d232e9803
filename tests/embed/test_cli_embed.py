"""The `embed`, `embed export|import` and `index` commands against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.embed import register
from app.config import get_settings
from app.embed.encoder import BUNDLED_MODEL_NAME, HashingEncoder
from app.embed.service import embed_pending, load_vectors
from app.models import Embedding
from tests.embed.embed_support import add_small_corpus


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


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _seed(factory: sessionmaker[Session], *, embed: bool) -> None:
    with factory() as s, s.begin():
        add_small_corpus(s)
        if embed:  # vectors under the bundled model's name, made without loading it
            embed_pending(s, HashingEncoder(dim=384, model_name=BUNDLED_MODEL_NAME), batch_size=8)


def test_dry_run_counts_without_loading_the_model(
    cli: typer.Typer, session_factory: sessionmaker[Session]
) -> None:
    _seed(session_factory, embed=False)
    code, out, _ = _run(cli, "embed", "--dry-run")
    assert code == 0
    assert "5 paper(s) would be embedded with all-MiniLM-L6-v2" in out
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Embedding)) == 0


def test_export_import_and_index_commands(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _seed(session_factory, embed=True)
    with session_factory() as s:
        _, before = load_vectors(s, BUNDLED_MODEL_NAME)
    out, ids_file = tmp_path / "x.npy", tmp_path / "x.ids.txt"
    code, text, _ = _run(cli, "embed", "export", "--out", str(out), "--ids", str(ids_file))
    assert code == 0 and "exported 5 vector(s) of all-MiniLM-L6-v2 (384-d, float32)" in text

    with session_factory() as s, s.begin():
        s.execute(delete(Embedding))
    code, text, _ = _run(cli, "embed", "import", str(out), "--ids", str(ids_file), "--dry-run")
    assert code == 0 and "would have imported 5 of 5" in text
    code, text, _ = _run(cli, "embed", "import", str(out), "--ids", str(ids_file))
    assert code == 0 and "imported 5 of 5 vector(s)" in text and "index rebuilt: 5 vectors (exact" in text
    with session_factory() as s:
        assert load_vectors(s, BUNDLED_MODEL_NAME)[1].tobytes() == before.tobytes()

    code, text, _ = _run(cli, "index", "status")
    assert code == 0 and "index: 5 vector(s), exact, 384-d" in text and "up to date" in text
    assert "published: version" in text and "5 vector(s)" in text  # the import published it
    code, text, _ = _run(cli, "index", "rebuild")
    assert code == 0 and "index rebuilt: 5 vectors of all-MiniLM-L6-v2 (exact)" in text
    assert "index version" in text and "unchanged" in text  # the same bytes: no new version


def test_import_of_the_wrong_dimension_fails_with_one_line(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _seed(session_factory, embed=False)
    out, ids_file = tmp_path / "w.npy", tmp_path / "w.ids.txt"
    np.save(out, np.eye(1, 768, dtype=np.float32))
    ids_file.write_text("2601.10001\n")
    code, _, err = _run(cli, "embed", "import", str(out), "--ids", str(ids_file))
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "dimension 768, but model all-MiniLM-L6-v2 has 384" in err
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Embedding)) == 0


@pytest.mark.slow
def test_embed_with_the_real_model_then_nothing_left(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _seed(session_factory, embed=False)
    code, text, err = _run(cli, "embed", "--batch-size", "4")
    assert code == 0, err
    assert "embedded 5 paper(s) with all-MiniLM-L6-v2 (5 new, 0 changed text)" in text
    assert "index rebuilt: 5 vectors (exact" in text
    assert (tmp_path / "var" / "index" / "all-MiniLM-L6-v2.faiss").exists()
    code, text, _ = _run(cli, "embed")
    assert code == 0 and "embedded 0 paper(s)" in text and "index: 5 vectors (+0, -0)" in text
    code, text, err = _run(cli, "search", "speech audio", "--limit", "2")
    assert code == 0, err
    lines = text.splitlines()
    assert "2601.10005" in lines[0] and "Speech recognition with transformers" in lines[0]
    assert lines[-1].startswith("2 of ") and "hybrid search" in lines[-1]


def test_search_command_keywords_filters_and_errors(
    cli: typer.Typer, session_factory: sessionmaker[Session]
) -> None:
    _seed(session_factory, embed=False)
    code, text, _ = _run(cli, "search", "transformers", "--keyword-only")
    assert code == 0 and "2 of 2 result(s), keyword search" in text
    assert "INT8 inference of transformers" in text and "Speech recognition" in text
    code, text, _ = _run(cli, "search", "transformers", "--keyword-only", "--category", "cs.CL")
    assert code == 0 and "1 of 1 result(s)" in text and "2601.10005" in text
    code, text, _ = _run(cli, "search", "", "--keyword-only", "--from", "2026-01-08", "--limit", "5")
    assert code == 0 and "2 of 2 result(s), recent search" in text
    code, text, _ = _run(cli, "search", "2601.10003", "--keyword-only")
    assert code == 0 and "Diffusion models for images" in text
    code, _, err = _run(cli, "search", "x", "--keyword-only", "--from", "yesterday")
    assert code == 1 and "--from must be a date" in err
    code, _, err = _run(cli, "search", "x", "--keyword-only", "--topic", "nope")
    assert code == 1 and "no topic with slug 'nope'" in err
