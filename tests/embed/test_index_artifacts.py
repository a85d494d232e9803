"""Publishing index versions and loading them safely, on SQLite and PostgreSQL (in process)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, load_settings
from app.db import session_scope
from app.embed.encoder import HashingEncoder
from app.embed.faiss_index import VectorIndex
from app.embed.index_artifacts import (
    ArtifactRefused,
    Published,
    PublishOptions,
    load_artifact,
    publish_index,
    remove_files,
)
from app.http.state import AppState, init_state
from app.jobs.index_watch import IndexWatcher
from app.models import IndexArtifact

MODEL = "test-model"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "var_dir": tmp_path / "var",
        "index_shared_dir": tmp_path / "shared",
        "index_inline_max_bytes": 10_000,
        "index_keep_versions": 2,
    }
    return load_settings(**(values | overrides))


def _index(n: int, seed: int = 0) -> VectorIndex:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return VectorIndex.build(np.arange(1, n + 1), vectors, model_name=MODEL, exact_threshold=10_000)


def _publish(
    factory: sessionmaker[Session], settings: Settings, index: VectorIndex, tmp_path: Path
) -> Published:
    saved = tmp_path / "var" / "index" / "local.faiss"
    index.save(saved)
    with session_scope(factory) as s:
        published = publish_index(s, index, saved, PublishOptions.from_settings(settings), NOW)
    remove_files(published.remove_after_commit)
    return published


def _watcher(factory: sessionmaker[Session], settings: Settings) -> tuple[AppState, IndexWatcher]:
    state = init_state(FastAPI(), settings=settings, session_factory=factory, sender=None)  # type: ignore[arg-type]
    return state, IndexWatcher(state, settings, factory, HashingEncoder(dim=16, model_name=MODEL))


def test_unchanged_bytes_make_no_new_version_and_old_files_are_pruned(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    small = _publish(session_factory, settings, _index(20), tmp_path)  # ~1.5 KB: in the database
    assert small.new and small.stored == "database"
    again = _publish(session_factory, settings, _index(20), tmp_path)
    assert not again.new and again.version == small.version
    big = [_publish(session_factory, settings, _index(400, seed), tmp_path) for seed in (1, 2)]
    assert [p.stored for p in big] == ["file", "file"]
    with session_factory() as s:
        kept = list(s.scalars(select(IndexArtifact.version).order_by(IndexArtifact.version)))
    assert kept == [big[0].version, big[1].version]  # the newest two
    third = _publish(session_factory, settings, _index(400, 3), tmp_path)
    files = sorted(p.name for p in (tmp_path / "shared").iterdir())
    assert files == [f"{MODEL}.v{big[1].version}.faiss", f"{MODEL}.v{third.version}.faiss"]


def test_tampered_bytes_in_the_database_are_refused_and_the_served_index_stays(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    first = _publish(session_factory, settings, _index(20), tmp_path)
    state, watcher = _watcher(session_factory, settings)
    assert watcher.poll() and state.index_status.version == first.version
    served = state.index
    second = _publish(session_factory, settings, _index(30, 5), tmp_path)
    assert second.stored == "database"
    with session_scope(session_factory) as s:
        row = s.get(IndexArtifact, second.version)
        assert row is not None and row.data is not None
        tampered = bytearray(row.data)
        tampered[-10] ^= 0x01
        s.execute(
            update(IndexArtifact).where(IndexArtifact.version == second.version).values(data=bytes(tampered))
        )
    with session_factory() as s:
        row = s.get(IndexArtifact, second.version)
        assert row is not None
        with pytest.raises(ArtifactRefused, match="checksum"):
            load_artifact(s, row, settings.published_index_dir)
    assert not watcher.poll()
    assert state.index is served and state.index_status.version == first.version
    assert second.version in state.index_status.refused
    assert not watcher.poll()  # refused once, not retried at every poll


def test_a_file_not_there_yet_is_tried_again_and_a_new_process_skips_a_bad_newest(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, index_keep_versions=3)
    good = _publish(session_factory, settings, _index(400, 1), tmp_path)
    path = tmp_path / "shared" / f"{MODEL}.v{good.version}.faiss"
    moved = path.rename(tmp_path / "elsewhere.faiss")
    state, watcher = _watcher(session_factory, settings)
    assert not watcher.poll()
    assert state.index is None and "no file" in state.index_status.problem
    assert good.version not in state.index_status.refused
    moved.rename(path)  # the shared folder caught up
    assert watcher.poll() and state.index_status.version == good.version

    bad = _publish(session_factory, settings, _index(400, 2), tmp_path)
    bad_path = tmp_path / "shared" / f"{MODEL}.v{bad.version}.faiss"
    bad_path.write_bytes(bad_path.read_bytes()[:-100])  # a half-copied file
    fresh_state, fresh = _watcher(session_factory, settings)
    assert fresh.poll()
    assert fresh_state.index_status.version == good.version  # the newest that passes its checks
    assert "bytes" in fresh_state.index_status.refused[bad.version]
    assert fresh_state.index is not None and fresh_state.index.ntotal == 400


def test_without_anything_published_the_local_index_file_is_served(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from app.embed.index import index_path

    settings = _settings(tmp_path)
    state, watcher = _watcher(session_factory, settings)
    assert not watcher.poll() and state.index is None and state.index_status.latest is None
    _index(12).save(index_path(settings.index_dir, MODEL))
    assert watcher.poll()
    assert state.index_status.source == "local file" and state.index_status.version is None
    published = _publish(session_factory, settings, _index(25), tmp_path)
    assert watcher.poll() and state.index_status.version == published.version
