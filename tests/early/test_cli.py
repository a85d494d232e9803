"""`papertrend trending-model ...`, the pipeline step, file labels and the export, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import root
from app.config import get_settings, load_settings
from app.db import session_scope
from app.embed.encoder import BUNDLED_MODEL_NAME, HashingEncoder
from app.ingest.service import ingest_file
from app.jobs.pipeline import run_pipeline
from app.models import JobRun, Paper, TrendModelVersion, TrendPrediction
from tests.early.world import build

TODAY = date.today()


@pytest.fixture
def cli(
    session_factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    for name, value in {
        "EARLY_MIN_LABELS": "100",
        "EARLY_MIN_POSITIVES": "10",
        "EARLY_SETTLE_DAYS": "3",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_trending_model_commands(cli: CliRunner, session_factory: sessionmaker[Session]) -> None:
    empty = cli.invoke(root, ["trending-model", "status"])
    assert empty.exit_code == 0, empty.output
    assert "no model stored yet" in empty.stdout and "0 papers, 0 listed" in empty.stdout
    refused = cli.invoke(root, ["trending-model", "train"])
    assert refused.exit_code == 2 and "not training" in refused.stderr and "needs 100" in refused.stderr

    # Forty days of labelled papers whose vectors are stored under the configured model's name.
    with session_scope(session_factory) as session:
        build(session, TODAY - timedelta(days=45), days=40, model=BUNDLED_MODEL_NAME, dim=384)
    trained = cli.invoke(root, ["trending-model", "train"])
    assert trained.exit_code == 0, trained.output
    assert f"trained-{TODAY.isoformat()}" in trained.stdout and "holdout AUC" in trained.stdout
    assert "baseline: authors" in trained.stdout
    again = cli.invoke(root, ["trending-model", "train"])
    assert again.exit_code == 2 and "trained today" in again.stderr

    status = cli.invoke(root, ["trending-model", "status"])
    assert status.exit_code == 0, status.output
    assert "bundled-2025-04-21" in status.stdout and f"trained-{TODAY.isoformat()}" in status.stdout
    assert f"serves {TODAY.isoformat()} on" in status.stdout
    assert f"serves 2025-04-21 to {TODAY.isoformat()}" in status.stdout

    shown = cli.invoke(root, ["trending-model", "show"])
    assert shown.exit_code == 0 and "strongest named inputs" in shown.stdout and "code_link" in shown.stdout
    document = json.loads(cli.invoke(root, ["trending-model", "show", "bundled-2025-04-21", "--json"]).stdout)
    assert document["cutoff"] == "2025-04-21" and document["active"] is True
    assert cli.invoke(root, ["trending-model", "show", "nope"]).exit_code == 1

    scored = cli.invoke(root, ["trending-model", "score"])
    assert scored.exit_code == 0, scored.output
    assert "papers scored" in scored.stdout
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(TrendPrediction)) == 40 * 30

    off = cli.invoke(root, ["trending-model", "activate", "bundled-2025-04-21", "--off"])
    assert off.exit_code == 0 and "no longer serves" in off.stdout
    cli.invoke(root, ["trending-model", "score"])
    with session_factory() as session:
        bundled = session.scalars(select(TrendModelVersion).where(TrendModelVersion.kind == "bundled")).one()
        assert not bundled.active
        assert session.scalar(select(func.count()).where(TrendPrediction.model_id == bundled.id)) == 0

    # The export carries each paper's estimate.
    out = cli.invoke(root, ["papers", "export"])
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert all("trend_probability" in r and "hf_listed" in r for r in records)


def test_files_carry_listing_labels_and_exports_round_trip(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    day = "2025-04-02"
    rows = [
        {"id": "2504.00001", "title": "Listed", "announced_date": day, "hf_daily_listed": True,
         "hf_daily_date": "2025-04-03"},
        {"id": "2504.00002", "title": "Known not listed", "announced_date": day, "hf_daily_listed": False,
         "hf_daily_date": None},
        {"id": "2504.00003", "title": "Nobody knows", "announced_date": day, "hf_daily_listed": None},
        {"id": "2504.00004", "title": "Listed, no day", "announced_date": day, "hf_daily_listed": "true"},
    ]  # fmt: skip
    path = tmp_path / "sample.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with session_scope(session_factory) as session:
        ingest_file(session, path, source="arxiv")
    with session_factory() as session:
        flags = dict(session.execute(select(Paper.arxiv_id, Paper.hf_listed)).all())
        dates = dict(session.execute(select(Paper.arxiv_id, Paper.hf_date)).all())
    assert flags == {"2504.00001": True, "2504.00002": False, "2504.00003": None, "2504.00004": True}
    assert dates["2504.00001"] == date(2025, 4, 3) and dates["2504.00004"] is None


def test_pipeline_step_stores_the_bundled_model_and_reports(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_scope(session_factory) as session:
        build(session, TODAY - timedelta(days=10), days=5, per_day=4)
    settings = load_settings(var_dir=tmp_path / "var", topic_areas=2)
    report = run_pipeline(settings, session_factory, encoder=HashingEncoder(), ingest=False, digests=False)
    assert report.ok, report.lines()
    early = report.steps[-1]
    assert early.job == "pipeline:early"
    # The papers' vectors come from another embedding model than the bundled one: it does not serve them.
    assert "no early-trending model serves" in early.summary and "needs 500" in early.summary
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(TrendModelVersion)) == 1
        assert session.scalars(select(JobRun.status).where(JobRun.job == "pipeline:early")).one() == "ok"
    off = load_settings(var_dir=tmp_path / "var", early_trending=False)
    step = run_pipeline(off, session_factory, encoder=HashingEncoder(), ingest=False, digests=False).steps[-1]
    assert step.summary.startswith("off")


def test_hugging_face_listings_set_the_listed_flag() -> None:
    from app.ingest.parse.hf_daily import parse_hf_response

    fixture = (
        Path(__file__).resolve().parents[1] / "fixtures" / "hf_daily" / "daily_papers_2024-10-25_first3.json"
    )
    parsed = parse_hf_response(fixture.read_bytes())
    assert parsed.records and all(r.hf_listed is True and r.hf_date is not None for r in parsed.records)
