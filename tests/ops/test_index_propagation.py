"""A published index version reaches a running web replica; a damaged one is refused.

The replica is `papertrend web` in its own process on the test database; the index versions
are published by the pipeline's own index step from vectors stored in that database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, load_settings
from app.embed.encoder import BUNDLED_MODEL_NAME, HashingEncoder
from app.embed.service import embed_pending
from app.jobs.pipeline import step_index
from app.models import IndexArtifact
from tests.embed.embed_support import add_seed_papers, add_small_corpus
from tests.factories import add_paper
from tests.ops.replica import Replica

INLINE_MAX = 30_000  # 5 vectors (~8 KB) travel in the database, 78 (~120 KB) as a file


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        environment="test",
        database_url=database_url,
        var_dir=tmp_path / "publisher",
        index_shared_dir=tmp_path / "shared",
        index_inline_max_bytes=INLINE_MAX,
        secret_key="test-secret-key-" + "x" * 32,
    )


def _embed(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        embed_pending(s, HashingEncoder(dim=384, model_name=BUNDLED_MODEL_NAME), batch_size=64)


def _publish(settings: Settings, factory: sessionmaker[Session]) -> IndexArtifact:
    result = step_index(settings, factory, BUNDLED_MODEL_NAME)
    assert result.ok, result.error
    with factory() as s:
        row = s.scalars(select(IndexArtifact).order_by(IndexArtifact.version.desc())).first()
    assert row is not None and row.version == result.stats["version"]
    return row


def _index_seen(replica: Replica) -> dict[str, object]:
    body = replica.get("/readyz").json()
    return dict(body["index"])


def _metric(replica: Replica, name: str) -> float:
    for family in text_string_to_metric_families(replica.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
def replica_env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "replica"),  # its own machine: nothing shared but the database and folder
        "INDEX_SHARED_DIR": str(tmp_path / "shared"),
        "INDEX_INLINE_MAX_BYTES": str(INLINE_MAX),
        "INDEX_POLL_SECONDS": "0.5",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SCHEDULER_ENABLED": "false",
        "LOG_FORMAT": "json",
        "EARLY_TRENDING": "false",
    }


def test_published_versions_reach_a_running_replica_and_a_damaged_one_is_refused(
    session_factory: sessionmaker[Session], replica_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, tmp_path)
    with session_factory() as s, s.begin():
        add_small_corpus(s)
    _embed(session_factory)
    first = _publish(settings, session_factory)
    assert first.location is None and first.vectors == 5  # small: inside the database

    replica = Replica(replica_env, tmp_path / "replica.log")
    try:
        replica.wait_until(lambda: replica.get("/readyz").status_code == 200, "the replica became ready", 90)
        assert _index_seen(replica)["version"] == first.version

        # A new version, large enough to be a file in the shared folder, is picked up by the poll.
        with session_factory() as s, s.begin():
            add_seed_papers(s)
        _embed(session_factory)
        second = _publish(settings, session_factory)
        assert second.location is not None and second.vectors == 78
        assert (tmp_path / "shared" / second.location).is_file()
        replica.wait_until(
            lambda: _index_seen(replica)["version"] == second.version, "version 2 reached the replica", 20
        )
        assert _metric(replica, "papertrend_index_vectors") == 78
        assert _metric(replica, "papertrend_index_version") == second.version

        # A damaged file (same size, one byte changed) fails its checksum and is never served.
        with session_factory() as s, s.begin():
            add_paper(
                s, "Graph neural networks for molecules", "Message passing over the atoms of a molecule."
            )
        _embed(session_factory)
        third = _publish(settings, session_factory)
        assert third.location is not None and third.vectors == 79
        damaged = tmp_path / "shared" / third.location
        data = bytearray(damaged.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
        replica.wait_until(
            lambda: str(third.version) in dict(_index_seen(replica)["refused"]),  # type: ignore[arg-type]
            "the damaged version was refused",
            20,
        )
        seen = _index_seen(replica)
        assert seen["version"] == second.version and seen["vectors"] == 78
        assert "checksum" in str(dict(seen["refused"])[str(third.version)])  # type: ignore[arg-type]
        assert replica.get("/readyz").status_code == 200  # still serving the version it had
        assert _metric(replica, "papertrend_index_refused_versions") == 1
        assert _metric(replica, "papertrend_index_published_version") == third.version

        # The access log is JSON, and a signed token in a path never reaches it.
        replica.get("/unsubscribe/AbCdEf0123456789.signature-part")
    finally:
        output = replica.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "uvicorn.access"]
    assert any(line.get("path", "").startswith("/unsubscribe/[token]") for line in access), output[-2000:]
    assert "AbCdEf0123456789" not in output
    assert any("refused index version" in str(line.get("message")) for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])
