"""`papertrend topics ...` and `papertrend trends` against a real database (both kinds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.browse.cache import read_generation
from app.cli.topics import register
from app.config import get_settings
from app.db import session_scope
from app.models import Paper, PaperTopic, Topic, TopicBuild
from tests.topics.synthetic import MODEL, insert_corpus, make_corpus


@pytest.fixture
def cli(
    session_factory: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TOPIC_AREAS", "3")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def app() -> typer.Typer:
    root = typer.Typer()
    register(root)
    return root


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app(), list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def corpus(session_factory: sessionmaker[Session]) -> list[int]:
    with session_scope(session_factory) as session:
        return insert_corpus(session, make_corpus(per_area=60))


def count(factory: sessionmaker[Session], model: type) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_build_list_and_export(
    cli: CliRunner, corpus: list[int], session_factory: sessionmaker[Session]
) -> None:
    code, out, _ = run(cli, "topics", "build", "--dry-run", "--model", MODEL)
    assert code == 0 and "dry run" in out and count(session_factory, Topic) == 0
    code, out, err = run(cli, "topics", "build", "--model", MODEL)
    assert code == 0, err
    assert "180 papers" in out and "trends as of" in out
    with session_scope(session_factory) as session:
        topics = {t.id: t for t in session.scalars(select(Topic))}
        papers = {p.id: p for p in session.scalars(select(Paper))}
        expected = {
            papers[pid].public_id: {tid: score for p, tid, score in rows if p == pid}
            for pid in papers
            for rows in [
                session.execute(select(PaperTopic.paper_id, PaperTopic.topic_id, PaperTopic.score)).all()
            ]
        }
    assert count(session_factory, TopicBuild) == 1

    code, out, _ = run(cli, "topics", "list")
    assert code == 0
    for column in ("id", "label", "kind", "size", "momentum"):
        assert column in out
    for t in topics.values():
        assert t.label in out

    code, out, _ = run(cli, "topics", "export", "--format", "jsonl")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(papers)
    for line in lines:
        assert list(line) == ["paper", "title", "topics"]
        assert line["paper"].startswith("synthetic:syn-")
        got = {t["id"]: t for t in line["topics"]}
        assert set(got) == set(expected[line["paper"]])
        scores = [t["score"] for t in line["topics"]]
        assert scores == sorted(scores, reverse=True)
        for tid, item in got.items():
            assert list(item) == ["id", "slug", "label", "kind", "parent", "parent_id", "score"]
            assert (item["slug"], item["label"], item["kind"]) == (
                topics[tid].slug,
                topics[tid].label,
                topics[tid].kind,
            )
            assert item["kind"] in {"area", "subtopic", "technique"}
            assert abs(item["score"] - expected[line["paper"]][tid]) < 1e-4


def test_export_to_a_file_and_bad_format(cli: CliRunner, corpus: list[int], tmp_path: Path) -> None:
    assert run(cli, "topics", "build", "--model", MODEL)[0] == 0
    target = tmp_path / "topics.jsonl"
    code, _, err = run(cli, "topics", "export", "--format", "jsonl", "--out", str(target))
    assert code == 0 and "exported 180 papers" in err
    assert len(target.read_text().splitlines()) == 180
    assert not list(tmp_path.glob("*.tmp"))
    code, _, err = run(cli, "topics", "export", "--format", "csv")
    assert code != 0 and "jsonl" in err and len(err.strip().splitlines()) == 1


def test_operator_commands(cli: CliRunner, corpus: list[int], session_factory: sessionmaker[Session]) -> None:
    assert run(cli, "topics", "build", "--model", MODEL)[0] == 0
    with session_scope(session_factory) as session:
        a, b = (
            t.id
            for t in session.scalars(select(Topic).where(Topic.kind == "area").order_by(Topic.id)).all()[:2]
        )
    with session_scope(session_factory) as session:
        before = read_generation(session)
    code, out, _ = run(cli, "topics", "rename", str(a), "Vehicles and Roads")
    assert code == 0 and "Vehicles and Roads" in out
    with session_scope(session_factory) as session:
        assert read_generation(session) != before  # cached pages are invalidated by an edit
    assert run(cli, "topics", "hide", str(a))[0] == 0
    assert run(cli, "topics", "pin", str(b))[0] == 0
    code, out, _ = run(cli, "topics", "add", "Lidar Sensing", "--keywords", "lidar, point cloud*")
    assert code == 0 and "added topic" in out and "lidar-sensing" in out
    assert run(cli, "topics", "build", "--model", MODEL)[0] == 0  # edits survive
    with session_scope(session_factory) as session:
        ta, tb = session.get(Topic, a), session.get(Topic, b)
        assert ta is not None and tb is not None
        assert (ta.label, ta.hidden, tb.pinned) == ("Vehicles and Roads", True, True)
        manual = session.scalars(select(Topic).where(Topic.manual.is_(True))).one()
        assert manual.label == "Lidar Sensing" and manual.size > 0
    code, out, _ = run(cli, "topics", "list")
    assert "Vehicles and Roads" not in out  # hidden
    code, out, _ = run(cli, "topics", "list", "--all")
    assert "Vehicles and Roads" in out and "hidden" in out
    code, out, _ = run(cli, "topics", "merge", str(b), str(manual.id))
    assert code == 0 and "merged into" in out
    code, _, err = run(cli, "topics", "merge", str(b), str(manual.id))
    assert code == 1 and err.startswith("papertrend: error:") and "already merged" in err
    code, _, err = run(cli, "topics", "rename", "999999", "X")
    assert code == 1 and "no topic with id 999999" in err


def test_trends_command(cli: CliRunner, corpus: list[int]) -> None:
    code, out, _ = run(cli, "trends")
    assert code == 0 and "no topics yet" in out
    assert run(cli, "topics", "build", "--model", MODEL)[0] == 0
    code, out, _ = run(cli, "trends", "--limit", "5")
    assert code == 0 and "Rising" in out and "Falling" in out


def test_build_without_vectors_fails_with_one_line(
    cli: CliRunner, session_factory: sessionmaker[Session]
) -> None:
    code, _, err = run(cli, "topics", "build", "--model", MODEL)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "papertrend embed" in err


def test_an_unmigrated_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        out = tmp_path / "out.jsonl"
        for args in (
            ["topics", "list"],
            ["trends"],
            ["topics", "export"],
            ["topics", "export", "--out", str(out)],
        ):
            code, _, err = run(CliRunner(), *args)
            assert code == 1 and len(err.strip().splitlines()) == 1, err
            assert "database error" in err and "papertrend init" in err
        assert not out.exists() and not list(tmp_path.glob("*.tmp"))  # no half-written export left behind
    finally:
        get_settings.cache_clear()
