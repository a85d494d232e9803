"""Scale-out schedule: real worker processes on PostgreSQL share one schedule through the task queue.

Three `tests.jobs.queue_worker ticks` processes run a per-second job for about 20 s and one is
SIGKILLed half-way; every slot must run exactly once, none may be missing after the first,
and no two runs may overlap. PostgreSQL only: scale-out mode has no SQLite form.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.jobs.fleet import reset_queue, wait_until, worker_env, workers

pytestmark = [pytest.mark.scaleout, pytest.mark.xdist_group("scaleout")]


def _runs(engine: Engine) -> list[tuple[int, int, float, float]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT slot, pid, started, finished FROM tick_runs ORDER BY started"))
        return [(int(r[0]), int(r[1]), float(r[2]), float(r[3])) for r in rows]


def test_each_slot_runs_once_across_workers_when_one_is_killed(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out mode runs on PostgreSQL only")
    reset_queue(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS tick_runs"))
        conn.execute(
            text("CREATE TABLE tick_runs (slot bigint, pid integer, started float8, finished float8)")
        )
    env = worker_env(
        database_url,
        var_dir=tmp_path,
        secret_key="scaleout-test-secret-key-0123456789abcdef",
        worker_stalled_seconds=3,
        schedule_stalled="* * * * * *",
    )
    args = {"cron": "* * * * * *", "work_s": 0.2, "concurrency": 2}
    try:
        with workers("ticks", env, args, tmp_path) as fleet:
            *_, victim = fleet.start(3)
            assert wait_until(lambda: bool(_runs(engine)), timeout=40), fleet.logs()
            began = _runs(engine)[0][2]
            # Kill between two runs' deferrals (slots are deferred half a second after each second).
            kill_at = math.floor(began + 10) + 1.05
            time.sleep(max(0.0, kill_at - time.time()))
            fleet.kill(victim)
            time.sleep(max(0.0, began + 21 - time.time()))
        runs = _runs(engine)
    finally:
        with engine.begin() as conn:  # the table is the test's own: the schema checks must not see it
            conn.execute(text("DROP TABLE IF EXISTS tick_runs"))
    slots = [slot for slot, *_ in runs]
    assert len(slots) == len(set(slots)), f"a slot ran twice: {sorted(slots)}"
    ordered = sorted(slots)
    missing = sorted(set(range(ordered[0], ordered[-1] + 1)) - set(ordered))
    assert not missing, f"slots that never ran: {missing}"
    assert ordered[-1] - ordered[0] >= 17, f"the schedule stalled: {ordered}"
    assert any(slot > kill_at for slot in slots) and len({pid for _, pid, *_ in runs}) >= 2
    for (_, _, _, finished), (slot, _, started, _) in itertools.pairwise(runs):
        assert started >= finished, f"slot {slot} started before the previous run finished"
