"""Core commands against a real database (both kinds): export, pipeline plan and run, init, bad config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import root
from app.config import get_settings
from app.db import session_scope
from app.embed.encoder import HashingEncoder
from app.jobs.pipeline import run_pipeline
from app.models import Embedding, JobRun, Paper, Topic
from tests.factories import make_paper


@pytest.fixture
def cli(
    session_factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _paper(i: int, title: str, abstract: str) -> Paper:
    return make_paper(
        title,
        abstract,
        arxiv_id=f"2601.{i:05d}",
        source="arxiv",
        arxiv_version=1,
        authors=["Ada Lovelace", "Alan Turing"],
        categories=["cs.LG"],
        day=date(2026, 1, 5 + i % 20),
        raw={"file": {"id": f"2601.{i:05d}"}},
    )


def test_papers_export_writes_every_paper_as_one_json_line(
    cli: CliRunner, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_scope(session_factory) as session:
        session.add_all([_paper(i, f"Paper {i} <b>&</b>", f"Abstract {i} with $x<y$.") for i in range(3)])
    out = tmp_path / "backup.jsonl"
    result = cli.invoke(root, ["papers", "export", "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["2601.00000", "2601.00001", "2601.00002"]
    assert records[1]["title"] == "Paper 1 <b>&</b>"
    assert records[0]["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert records[2]["announced_date"] == "2026-01-07"
    assert records[0]["raw"] == {"file": {"id": "2601.00000"}}
    assert not out.with_suffix(".jsonl.tmp").exists()

    bad = cli.invoke(root, ["papers", "export", "--format", "xml"])
    assert bad.exit_code == 1
    assert "unsupported format" in bad.stderr


def test_pipeline_dry_run_reports_and_changes_nothing(
    cli: CliRunner, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as session:
        session.add_all([_paper(i, f"Quantization paper {i}", "Low-bit weights.") for i in range(4)])
    result = cli.invoke(root, ["pipeline", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "4 papers need a vector" in result.stdout
    assert "full rebuild" in result.stdout
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Embedding)) == 0
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_pipeline_runs_every_stage_and_a_second_run_encodes_nothing(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from app.config import load_settings

    titles = [
        "Post-training quantization of language models",
        "Quantization-aware training for vision transformers",
        "Low-bit quantization of diffusion models",
        "Structured pruning of large language models",
        "Unstructured pruning and sparsity in transformers",
        "Pruning convolutional networks at initialization",
        "Contrastive representation learning for graphs",
        "Self-supervised representation learning for speech",
        "Representation learning with masked autoencoders",
    ] * 3
    with session_scope(session_factory) as session:
        session.add_all([_paper(i, t, t + " We study it in depth.") for i, t in enumerate(titles)])
    settings = load_settings(var_dir=tmp_path / "var", topic_areas=3)
    encoder = HashingEncoder()
    report = run_pipeline(settings, session_factory, encoder=encoder, ingest=False, digests=False)
    assert report.ok, report.lines()
    assert [s.job for s in report.steps] == [
        "pipeline:embed",
        "pipeline:index",
        "pipeline:topics",
        "pipeline:trends",
        "pipeline:early",
    ]
    assert report.steps[0].stats["encoded"] == len(titles)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Topic)) > 0
        runs = session.scalars(select(JobRun.status).where(JobRun.job.like("pipeline:%"))).all()
        assert runs and set(runs) == {"ok"}
    again = run_pipeline(settings, session_factory, encoder=encoder, ingest=False, digests=False)
    assert again.steps[0].stats["encoded"] == 0


def test_a_wrong_setting_stops_with_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    env = {"DATABASE_URL": "mysql://nope", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]
    assert "sqlite" in lines[0]
