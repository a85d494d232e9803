"""`papertrend trends` against a real database (both kinds): as of a day, table and JSON, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.trends import register
from app.config import get_settings
from app.db import session_scope
from app.models import Topic
from tests.topics.made_up_trends import END, QUARTER_START, MadeUp, add_papers, insert_made_up


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def made(session_factory: sessionmaker[Session]) -> MadeUp:
    with session_scope(session_factory) as session:
        return insert_made_up(session)


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    root = typer.Typer()
    register(root)
    root.command("noop", hidden=True)(lambda: None)  # a group, so `trends` is a subcommand
    result = runner.invoke(root, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_as_of_json_lists_every_live_topic_with_its_horizons(
    cli: CliRunner, made: MadeUp, session_factory: sessionmaker[Session]
) -> None:
    code, out, err = run(cli, "trends", "--as-of", END.isoformat(), "--format", "json")
    assert code == 0, err
    assert f"trends as of {END}" in err  # the summary goes to stderr: stdout is one JSON document
    view = json.loads(out)
    assert view["as_of"] == view["reference_day"] == END.isoformat()
    by_label = {t["label"]: t for t in view["topics"]}
    assert set(by_label) == {"Agent Systems", "Image Retrieval", "Speech Recognition", "Language"}
    agents = by_label["Agent Systems"]
    assert (agents["kind"], agents["parent"], agents["state"]) == ("subtopic", "Language", "rising")
    assert by_label["Image Retrieval"]["state"] == "falling"
    assert by_label["Speech Recognition"]["state"] == "steady"
    quarter = agents["horizons"]["quarter"]
    assert quarter["state"] == "rising" and quarter["share"] > 2 * quarter["baseline_share"]
    assert {"count", "total", "baseline_count", "baseline_total", "ratio", "window"} <= set(quarter)
    assert agents["explanation"].startswith(f"{100 * quarter['share']:.1f} % of papers in the 13 weeks")
    # --as-of writes nothing: the stored trends are still the defaults.
    with session_scope(session_factory) as session:
        assert all(t.trend == {} for t in session.scalars(select(Topic)))


def test_as_of_a_day_before_the_change(cli: CliRunner, made: MadeUp) -> None:
    day = QUARTER_START - timedelta(days=1)
    code, out, _ = run(cli, "trends", "--as-of", day.isoformat(), "--format", "json")
    assert code == 0
    assert {t["state"] for t in json.loads(out)["topics"]} == {"steady"}


def test_a_burst_is_a_spike_on_a_flat_topic_and_a_rise_that_says_so_on_a_rising_one(
    cli: CliRunner, made: MadeUp, session_factory: sessionmaker[Session]
) -> None:
    # Four more papers on each weekday of the last week (about 215 a week in all), for the flat topic
    # and for the rising one.
    last_week = [END - timedelta(days=k) for k in range(7) if (END - timedelta(days=k)).weekday() < 5]
    with session_scope(session_factory) as session:
        add_papers(session, made.flat, last_week, 4, prefix="spike-flat")
        add_papers(session, made.rising, last_week, 4, prefix="spike-rising")
    code, out, err = run(cli, "trends", "--as-of", END.isoformat(), "--format", "json")
    assert code == 0, err
    by_label = {t["label"]: t for t in json.loads(out)["topics"]}
    flat = by_label["Speech Recognition"]
    # The flat topic's quarter sees no rise: the week's spike is all there is.
    assert flat["state"] == "bursting" and flat["deciding"] == "week"
    assert flat["horizons"]["quarter"]["state"] == "steady"
    assert flat["explanation"].startswith("a burst this week: ")
    agents = by_label["Agent Systems"]
    # The rising topic was rising before the spike: still rising, said by the quarter, burst added.
    assert agents["state"] == "rising" and agents["deciding"] == "quarter"
    assert agents["horizons"]["week"]["state"] == "rising"
    assert agents["explanation"].startswith(f"{100 * agents['horizons']['quarter']['share']:.1f} % of papers")
    assert "; and a burst this week: " in agents["explanation"]
    assert by_label["Image Retrieval"]["state"] == "falling"


def test_table_shows_groups_horizons_and_reasons(cli: CliRunner, made: MadeUp) -> None:
    code, out, _ = run(cli, "trends", "--as-of", END.isoformat())
    assert code == 0
    assert "Rising (1)" in out and "Falling (1)" in out and "Steady (2)" in out
    for column in ("label", "kind", "parent", "state", "week", "month", "quarter"):
        assert column in out
    assert "Agent Systems (rising): " in out and "of papers in the 13 weeks to 30 Jun 2026" in out
    code, out, _ = run(cli, "trends", "--as-of", END.isoformat(), "--limit", "1")
    assert code == 0 and "Steady (2)" in out and out.count("Speech Recognition") + out.count("Language") <= 2


def test_without_as_of_the_trends_are_stored_for_the_site(
    cli: CliRunner, made: MadeUp, session_factory: sessionmaker[Session]
) -> None:
    code, out, _ = run(cli, "trends", "--format", "json")
    assert code == 0
    fresh = json.loads(out)
    assert fresh["reference_day"] == END.isoformat() and fresh["as_of"] is None
    with session_scope(session_factory) as session:
        stored = {t.label: t.trend_state for t in session.scalars(select(Topic))}
    assert stored["Agent Systems"] == "rising" and stored["Image Retrieval"] == "falling"
    code, out, err = run(cli, "trends", "--no-refresh", "--format", "json")
    assert code == 0 and "not recomputed" in err
    again = json.loads(out)
    assert [(t["label"], t["state"], t["explanation"]) for t in again["topics"]] == [
        (t["label"], t["state"], t["explanation"]) for t in fresh["topics"]
    ]


def test_dry_run_writes_nothing(cli: CliRunner, made: MadeUp, session_factory: sessionmaker[Session]) -> None:
    code, out, _ = run(cli, "trends", "--dry-run")
    assert code == 0 and "[dry run]" in out and "Rising (1)" in out
    with session_scope(session_factory) as session:
        assert all(t.trend_state == "steady" and t.trend == {} for t in session.scalars(select(Topic)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "31/10/2025"], "--as-of must be a date like 2025-10-31"),
        (["--format", "xml"], "--format must be table or json"),
    ],
)
def test_bad_input_is_one_clear_line(cli: CliRunner, args: list[str], message: str) -> None:
    code, _, err = run(cli, "trends", *args)
    assert code == 1 and len(err.strip().splitlines()) == 1 and message in err


def test_no_papers_yet(cli: CliRunner, made: MadeUp) -> None:
    code, out, _ = run(cli, "trends", "--as-of", "2020-01-01")
    assert code == 0 and "no papers announced up to 2020-01-01" in out


def test_title_phrases_that_moved_are_listed_with_the_topics(
    cli: CliRunner, made: MadeUp, session_factory: sessionmaker[Session]
) -> None:
    """The phrases the made-up titles write move as their topics: "Agent Skills" up, "Image
    Retrieval" down, "Speech Recognition" flat (not listed); stored by a refresh, read back by
    --no-refresh, and computed as of a day from the papers up to that day only."""
    code, out, err = run(cli, "trends", "--as-of", END.isoformat(), "--format", "json")
    assert code == 0, err
    phrases = {p["label"]: p for p in json.loads(out)["phrases"]}
    assert phrases["Agent Skills"]["state"] in {"rising", "emerging"}
    assert phrases["Image Retrieval"]["state"] == "falling"
    assert "Speech Recognition" not in phrases and "Made-up Paper" not in phrases
    assert "% of papers" in phrases["Agent Skills"]["explanation"]
    assert phrases["Agent Skills"]["horizons"]["quarter"]["count"] > 0

    # Before the last quarter nothing had moved yet.
    code, out, _ = run(
        cli, "trends", "--as-of", (QUARTER_START - timedelta(days=1)).isoformat(), "--format", "json"
    )
    assert code == 0 and json.loads(out)["phrases"] == []

    code, out, err = run(cli, "trends")  # refresh and store, then read the stored view
    assert code == 0, err
    assert "title phrases moving" in out and "Agent Skills" in out
    code, out, err = run(cli, "trends", "--no-refresh", "--format", "json")
    stored = {p["label"]: p["state"] for p in json.loads(out)["phrases"]}
    assert stored == {label: p["state"] for label, p in phrases.items()}
