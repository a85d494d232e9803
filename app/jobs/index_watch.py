"""Keeping a web process's vector index at the newest published version.

Every INDEX_POLL_SECONDS a background thread reads the newest version published for the
encoder's model (one indexed query). A newer one is loaded beside the index being served,
its bytes checked against the published checksum and size (`app.embed.index_artifacts`),
then swapped in with one assignment: a request holds the index it started with, so none sees
half of a swap. A version that fails its checks is refused for good (logged once, counted in
/metrics, listed by /readyz) and the process keeps serving what it had; when it had nothing
yet, the next older kept version is tried. A file not yet visible in a shared folder is tried
again at the next poll. While nothing is published at all the saved local index file is
served as before (a site upgraded from a version without publication).

`/readyz` reports `AppState.index_status`, which this module keeps.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.embed import index_queries
from app.embed.encoder import Encoder
from app.embed.faiss_index import IndexFormatError, VectorIndex
from app.embed.index import index_path
from app.embed.index_artifacts import ArtifactRefused, ArtifactUnavailable, load_artifact
from app.http.state import AppState, IndexStatus
from app.readiness import note_unreachable

log = logging.getLogger("papertrend.search")


class IndexWatcher:
    """Loads newer published index versions into one application's state (see module docstring)."""

    def __init__(
        self, state: AppState, settings: Settings, factory: sessionmaker[Session], encoder: Encoder
    ) -> None:
        self.state = state
        self.settings = settings
        self.factory = factory
        self.encoder = encoder
        self.model = encoder.model_name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._told: set[tuple[int, str]] = set()
        state.index_status.watching = True

    # One check --------------------------------------------------------------------------

    def poll(self) -> bool:
        """Check once for a newer version and swap it in; True when the served index changed."""
        with self._lock:
            try:
                return self._poll()
            except SQLAlchemyError as exc:  # the database is away: keep serving, say so once
                note_unreachable(exc, where="the index watcher")
                return False

    def _poll(self) -> bool:
        status = self.state.index_status
        status.checked_at = datetime.now(UTC)
        with self.factory() as session:
            candidates = index_queries.newer_than(session, self.model, status.version or 0)
            newest = candidates[0] if candidates else index_queries.latest(session, self.model)
        status.latest = newest.version if newest is not None else None
        if newest is None:
            return self._load_local_file() if status.source == "none" else False
        status.problem = ""
        for artifact in candidates:
            if artifact.version in status.refused:
                continue
            try:
                # A session of its own, used only for bytes kept in the database: checking a
                # large file's checksum holds no connection.
                with self.factory() as session:
                    index = load_artifact(
                        session,
                        artifact,
                        self.settings.published_index_dir,
                        nprobe=self.settings.search_nprobe or None,
                    )
            except ArtifactRefused as exc:
                status.refused[artifact.version] = str(exc)
                log.error("refused %s; still serving %s", exc, _served(status))
                continue  # an older version, still newer than the one served, may do
            except ArtifactUnavailable as exc:
                status.problem = str(exc)
                self._tell_once(artifact.version, str(exc))
                continue
            self._swap(index, artifact.version, artifact.size_bytes, source="published")
            return True
        return False

    def _swap(self, index: VectorIndex, version: int | None, size: int, *, source: str) -> None:
        status = self.state.index_status
        previous = _served(status)
        self.state.set_search(self.encoder, index)
        status.source, status.version, status.vectors, status.size_bytes = source, version, index.ntotal, size
        status.swaps += 1
        status.problem = ""
        log.info("serving %s (%d vectors); was %s", _served(status), index.ntotal, previous)

    def _load_local_file(self) -> bool:
        path = index_path(self.settings.index_dir, self.model)
        if not path.exists():
            self._tell_once(
                0, f"no vector index at {path} yet: keyword search until one is built", logging.INFO
            )
            return False
        try:
            index = VectorIndex.load(path, nprobe=self.settings.search_nprobe or None)
        except (IndexFormatError, OSError) as exc:
            self._tell_once(0, f"vector index at {path} unusable ({exc}); keyword search until it is rebuilt")
            return False
        self._swap(index, None, path.stat().st_size, source="local file")
        return True

    def _tell_once(self, version: int, message: str, level: int = logging.WARNING) -> None:
        """Log a condition that polls keep finding once, not every INDEX_POLL_SECONDS."""
        if (version, message) not in self._told:
            self._told.add((version, message))
            log.log(level, "%s", message)

    # The background thread ----------------------------------------------------------------

    def start(self) -> None:
        """Poll every INDEX_POLL_SECONDS in a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="index-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.settings.index_poll_seconds):
            try:
                self.poll()
            except Exception:  # never let the thread die: the next poll tries again
                log.exception("index watcher: unexpected error")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _served(status: IndexStatus) -> str:
    if status.version is not None:
        return f"index version {status.version}"
    return "the local index file" if status.source == "local file" else "no index"
