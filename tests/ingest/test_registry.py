"""The source registry: a source added there alone shows up everywhere the sources are used.

A toy source (a client with canned items, a parser, a run) is registered with one
`LiveSource` record; the settings check, the runner, `ingest all`, the pipeline's ingest step,
the CLI, the scheduler's jobs and re-parsing must all know it without another change. Both
databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.config import ConfigError, get_settings, load_settings
from app.ingest import registry
from app.ingest.bookkeeping import get_watermark, set_watermark
from app.ingest.flows import run_all_sources, run_source
from app.ingest.parse.common import ItemError, Parsed
from app.ingest.records import PaperRecord
from app.ingest.reparse import reparse_papers
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun, upsert_parsed
from app.ingest.sources.http import SourceClient
from app.models import JobRun, Paper

TOY_ITEMS = [
    {"id": "toy-1", "title": "A toy paper on sparse attention", "abstract": "It attends to little."},
    {"id": "toy-2", "title": "A second toy paper", "abstract": "About nothing in particular."},
    {"title": "no id: skipped with a message"},
]


class ToyClient(SourceClient):
    """A client with canned items: the toy has no upstream (the registry is what is tested)."""

    url_setting = "hf_api_url"
    arxiv = False
    items: ClassVar[list[dict[str, Any]]] = TOY_ITEMS
    made: ClassVar[int] = 0
    closed: ClassVar[int] = 0

    def configure(self, settings: Any) -> None:
        ToyClient.made += 1

    def close(self) -> None:
        ToyClient.closed += 1
        super().close()


def record_from_toy(raw: Any) -> PaperRecord:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise ItemError("toy item without an id")
    prefix = raw.get("prefix", "")
    return PaperRecord(
        source="toy", source_id=raw["id"], title=prefix + raw["title"], abstract=raw["abstract"], raw=raw
    )


def run_toy(session: Session, client: ToyClient, job: SourceRun) -> IngestReport:
    report = IngestReport(source="toy")
    parsed = Parsed()
    for number, item in enumerate(client.items, start=1):
        try:
            parsed.records.append(record_from_toy(item))
        except ItemError as exc:
            parsed.errors.append(f"item {number}: {exc}")
    upsert_parsed(session, parsed, report)
    report.watermark = job.now.date().isoformat()
    set_watermark(session, "toy", report.watermark)
    return report


TOY = registry.LiveSource(
    name="toy",
    client=ToyClient,
    run=run_toy,
    parser=record_from_toy,
    schedule="schedule_hf",
    command="toy",
    help="Toy papers for the registry test.",
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[registry.LiveSource]:
    monkeypatch.setitem(registry.SOURCES, "toy", TOY)
    ToyClient.made = ToyClient.closed = 0
    yield TOY


def test_settings_accept_exactly_the_registered_names(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(ingest_sources="arxiv_rss toy")
    with pytest.raises(ConfigError) as refused:
        registry.check_settings(settings)
    message = str(refused.value)
    assert "INGEST_SOURCES" in message and "'toy'" in message and "arxiv_rss, arxiv_api" in message
    assert "\n" not in message
    monkeypatch.setitem(registry.SOURCES, "toy", TOY)
    registry.check_settings(settings)
    assert [s.name for s in registry.enabled(settings)] == ["arxiv_rss", "toy"]


def test_every_registered_source_is_complete() -> None:
    settings = load_settings()
    for source in registry.SOURCES.values():
        assert isinstance(getattr(settings, source.schedule), str), source.schedule
        assert issubclass(source.client, SourceClient)
        assert registry.parser_for(source.name) is source.parser
    assert registry.names()[:2] == ["arxiv_rss", "arxiv_api"]  # today's announcements first
    registry.check_settings(settings)  # the default INGEST_SOURCES names registered sources only


def test_a_toy_source_runs_through_the_runner_and_ingest_all(
    toy: registry.LiveSource, session_factory: sessionmaker[Session]
) -> None:
    settings = load_settings(ingest_sources="toy")
    report = run_source(session_factory, settings, "toy")
    assert (report.new, report.skipped, report.failed) == (2, 1, False)
    assert ToyClient.made == ToyClient.closed == 1  # built from settings, closed after the run
    again = run_all_sources(session_factory, settings)
    assert [(r.source, r.new, r.unchanged) for r in again] == [("toy", 0, 2)]
    with session_factory() as session:
        assert get_watermark(session, "toy") is not None
        jobs = session.scalars(select(JobRun.job).order_by(JobRun.id)).all()
        assert jobs == ["ingest:toy", "ingest:toy"]


def test_the_pipeline_ingest_step_runs_the_toy(
    toy: registry.LiveSource, session_factory: sessionmaker[Session]
) -> None:
    from app.jobs.pipeline import step_ingest

    result = step_ingest(load_settings(ingest_sources="toy"), session_factory)
    assert result.ok and result.stats["toy"] == {"new": 2, "updated": 0, "failed": False}


def test_the_scheduler_runs_the_toy_with_the_sources_of_its_setting(
    toy: registry.LiveSource, session_factory: sessionmaker[Session]
) -> None:
    from app.jobs.scheduler import scheduled_jobs

    settings = load_settings(schedule_hf="17 */3 * * *")
    assert registry.scheduled_ingest(settings)["ingest_hf"] == ("17 */3 * * *", ["hf_daily", "toy"])
    jobs = scheduled_jobs(settings, session_factory, None)
    assert jobs["ingest_hf"][0] == "17 */3 * * *"
    assert {"pipeline", "ingest_arxiv", "ingest_oai", "ingest_hf", "digest_build", "deliver"} == set(jobs)


def test_the_cli_has_a_command_for_the_toy(
    toy: registry.LiveSource,
    database_url: str,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from app.cli.ingest import register

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("INGEST_SOURCES", "toy")
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)

    @root.callback()
    def _root() -> None:
        pass

    try:
        runner = CliRunner()
        listed = runner.invoke(root, ["ingest", "--help"])
        assert "toy" in listed.stdout and "Toy papers for the registry test." in listed.stdout
        dry = runner.invoke(root, ["ingest", "toy", "--dry-run"])
        assert dry.exit_code == 0, dry.stderr
        assert "would add 2 new" in dry.stdout
        with session_factory() as session:
            assert session.scalars(select(Paper)).first() is None
        done = runner.invoke(root, ["ingest", "toy"])
        assert done.exit_code == 0 and "added 2 new" in done.stdout
        status = runner.invoke(root, ["ingest", "status"])
        assert status.exit_code == 0 and "toy" in status.stdout
    finally:
        get_settings.cache_clear()


def test_reparse_uses_the_toy_parser(
    toy: registry.LiveSource, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_source(session_factory, load_settings(ingest_sources="toy"), "toy")

    def fixed_parser(raw: Any) -> PaperRecord:  # a parser fix: titles get a prefix
        return record_from_toy({**raw, "prefix": "Fixed: "})

    monkeypatch.setitem(registry.SOURCES, "toy", replace(TOY, parser=fixed_parser))
    with session_factory() as session:
        report = reparse_papers(session, sources=["toy"])
        session.commit()
    assert (report.fetched, report.updated) == (2, 2)
    with session_factory() as session:
        titles = sorted(session.scalars(select(Paper.title)))
    assert titles == ["Fixed: A second toy paper", "Fixed: A toy paper on sparse attention"]
