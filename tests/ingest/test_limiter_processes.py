"""The arXiv limiter across real OS processes, on SQLite (file lock) and PostgreSQL (advisory lock).

Each worker process takes the limiter the ingest flows use and makes a few "requests" (a short
sleep inside `slot()`), appending its start and end times to a file; the test then checks the
merged timeline. No network: what matters is when the slots start and whether they overlap.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import load_settings
from app.ingest.sources.arxiv_api import ArxivApiClient
from app.ingest.sources.http import ArxivLimiter, SourceError
from app.ingest.sources.shared_limiter import (
    FileGate,
    PostgresGate,
    advisory_key,
    gate_for,
    lock_file_path,
)
from app.models import RateLimit
from tests.conftest import ROOT
from tests.ingest.upstream import FakeClock, source_settings

INTERVAL = 0.6
HOLD = 0.05  # how long each fake request keeps the "connection"
REQUESTS = 4  # per process
# A start is recorded just after the gate stamped the next allowed start (an autocommit round
# trip or a file write earlier, and a worker can be descheduled in between: 0.25 s was seen on a
# loaded 2-core CI machine), so one measured gap may fall short of the interval by that lag. The
# lag does not add up: the span of all starts is checked against the sum of the intervals with
# the same slack. Without the gate, gaps are about HOLD, far below INTERVAL - STAMP_SLACK.
STAMP_SLACK = 0.3

WORKER = """
import os, sys, time
from pathlib import Path
from app.config import load_settings
from app.ingest.sources.shared_limiter import arxiv_limiter

url, var_dir, out, ready, go, n, interval, hold = sys.argv[1:]
settings = load_settings(database_url=url, var_dir=var_dir, arxiv_min_interval=float(interval))
limiter = arxiv_limiter(settings)
Path(ready).touch()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
for _ in range(int(n)):
    with limiter.slot():
        start = time.time()
        time.sleep(float(hold))
        end = time.time()
    with open(out, "a") as handle:
        handle.write(f"{os.getpid()} {start!r} {end!r}\\n")
"""


def _run_workers(database_url: str, tmp_path: Path, count: int = 2) -> list[tuple[int, float, float]]:
    out, go = tmp_path / "starts.txt", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    for i in range(count):
        ready = tmp_path / f"ready-{i}"
        args = [database_url, str(tmp_path / "var"), str(out), str(ready), str(go)]
        args += [str(REQUESTS), str(INTERVAL), str(HOLD)]
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, *args], cwd=ROOT, env=env))
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{i}").exists() for i in range(count)):
        assert time.monotonic() < deadline, "worker processes did not start"
        assert all(p.poll() is None for p in procs), "a worker process died while starting"
        time.sleep(0.01)
    go.touch()  # both are past their imports: from here they compete for the slots
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    rows = [line.split() for line in out.read_text().splitlines()]
    return sorted((int(pid), float(start), float(end)) for pid, start, end in rows)


def test_worker_processes_keep_the_interval_and_one_request_at_a_time(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    timeline = sorted(_run_workers(database_url, tmp_path), key=lambda row: row[1])
    assert len(timeline) == 2 * REQUESTS
    assert len({pid for pid, _, _ in timeline}) == 2
    for (_, start_a, end_a), (_, start_b, _) in itertools.pairwise(timeline):
        assert start_b >= end_a, "two requests were in flight at once"
        assert start_b - start_a >= INTERVAL - STAMP_SLACK, f"starts {start_b - start_a:.3f}s apart"
    span = timeline[-1][1] - timeline[0][1]
    assert span >= (len(timeline) - 1) * INTERVAL - STAMP_SLACK
    # The shared next start is where the processes met: the table on PostgreSQL, a file on SQLite.
    settings = load_settings(database_url=database_url, var_dir=tmp_path / "var")
    if settings.is_sqlite:
        assert lock_file_path(settings).exists()
    else:
        with session_factory() as session:
            assert session.scalar(select(RateLimit.name)) == "arxiv"


def test_the_gate_follows_the_database(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=database_url, var_dir=tmp_path / "var")
    gate = gate_for(settings)
    assert isinstance(gate, FileGate if settings.is_sqlite else PostgresGate)
    assert gate_for(settings) is gate  # one engine or lock file per database and process


def test_in_process_spacing_is_unchanged_and_the_gate_is_held_inside_it() -> None:
    clock = FakeClock()
    events: list[tuple[str, float]] = []

    class RecordingGate:
        @contextmanager
        def hold(self, interval: float) -> Iterator[None]:
            events.append(("enter", interval))
            yield
            events.append(("exit", interval))

    for gate in (None, RecordingGate()):
        limiter = ArxivLimiter(3.0, clock=clock, sleep=clock.sleep, gate=gate)
        starts = []
        for _ in range(4):
            with limiter.slot():
                starts.append(clock())
            clock.now += 1.0  # work between requests: only the rest of the interval is waited
        assert [b - a for a, b in itertools.pairwise(starts)] == [3.0, 3.0, 3.0]
    assert events == [("enter", 3.0), ("exit", 3.0)] * 4


def test_an_unreachable_database_fails_the_source_without_sending() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(answer)
    gate = PostgresGate("postgresql+psycopg://postgres@127.0.0.1:1/papertrend")
    limiter = ArxivLimiter(0.0, gate=gate)
    client = ArxivApiClient.from_settings(source_settings(), transport, limiter=limiter, sleep=lambda _: None)
    try:
        with pytest.raises(SourceError, match="arXiv limiter: cannot reach the database"):
            client.page(id_list=["1605.08386"])
    finally:
        client.close()
        gate.close()
    assert sent == []
    # The in-process lock was released: the limiter is usable again once the gate is.
    limiter.gate = None
    with limiter.slot():
        pass


def test_an_unusable_lock_file_fails_the_request(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    limiter = ArxivLimiter(0.0, gate=FileGate(blocker / "db.arxiv-limit"))
    with pytest.raises(SourceError, match="cannot open the lock file"), limiter.slot():
        pytest.fail("the request must not start")


def test_file_gate_spaces_starts_on_its_clock_and_caps_a_stale_wait(tmp_path: Path) -> None:
    clock = FakeClock()
    gate = FileGate(tmp_path / "limit", clock=clock, sleep=clock.sleep)
    with gate.hold(3.0):
        pass
    with gate.hold(3.0):
        pass
    assert clock.sleeps == [3.0]
    (tmp_path / "limit").write_text(f"{clock() + 3600}")  # a clock set back an hour
    with gate.hold(3.0):
        pass
    assert clock.sleeps == [3.0, 3.0]


def test_the_advisory_key_is_fixed_and_fits_bigint() -> None:
    key = advisory_key("arxiv")
    assert key == advisory_key("arxiv") != advisory_key("other")
    assert -(2**63) <= key < 2**63
