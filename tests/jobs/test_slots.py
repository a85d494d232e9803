"""Scheduler slots: named by the cron time they were due, claimed by exactly one process.

The processes are real OS processes racing on the same database (both databases), as two
`papertrend run` or `papertrend worker` processes would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs.slots import due_time, slot_key
from app.models import JobSlot

ROOT = Path(__file__).resolve().parents[2]


def cron(expression: str) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone="UTC")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_due_time_is_the_latest_firing_at_or_before_now() -> None:
    daily = cron("30 5 * * *")
    assert due_time(daily, at("2026-12-07T05:30:00.200")) == at("2026-12-07T05:30:00")
    assert due_time(daily, at("2026-12-07T06:29:00")) == at("2026-12-07T05:30:00")  # late, within grace
    assert due_time(daily, at("2026-12-07T06:31:00")) is None  # past the grace time: no firing
    assert due_time(daily, at("2026-12-07T05:29:59")) is None  # not due yet today
    every5 = cron("*/5 * * * *")
    assert due_time(every5, at("2026-12-07T10:09:59")) == at("2026-12-07T10:05:00")
    assert due_time(every5, at("2026-12-07T10:10:00")) == at("2026-12-07T10:10:00")
    late = due_time(every5, at("2026-12-07T10:09:30"))
    assert late is not None and slot_key(late) == "2026-12-07T10:05"


def _spawn(mode: str, args: dict) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.slot_worker", mode, json.dumps(args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def test_two_processes_claim_each_slot_exactly_once(
    database_url: str, session_factory: sessionmaker[Session]
) -> None:
    slots = 150
    args = {"db": database_url, "job": "race", "slots": slots, "start_at": time.time() + 3}
    workers = [_spawn("claim", args) for _ in range(2)]
    first, second = (set(json.loads(_finish(w))) for w in workers)
    assert not first & second  # no slot claimed twice
    assert first | second == set(range(slots))  # and none lost
    with session_factory() as session:
        rows = session.scalar(select(func.count()).select_from(JobSlot).where(JobSlot.job == "race"))
        owners = session.scalar(select(func.count(func.distinct(JobSlot.owner))).where(JobSlot.job == "race"))
    assert rows == slots and owners in (1, 2)


def test_a_late_firing_in_another_process_does_not_run_the_job_again(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    marker = tmp_path / "runs.txt"
    due, following = at("2026-12-07T10:05:00"), at("2026-12-07T10:10:00")
    start_at = time.time() + 3
    common = {"db": database_url, "job": "deliver", "cron": "*/5 * * * *", "marker": str(marker)}
    punctual = {  # fires on time for 10:05 and for 10:10
        **common,
        "start_at": start_at,
        "firings": [
            (due + timedelta(seconds=0.3)).isoformat(),
            (following + timedelta(seconds=0.2)).isoformat(),
        ],
    }
    late = {  # was busy: its 10:05 firing runs at 10:09:30, still within the misfire grace time
        **common,
        "start_at": start_at,
        "firings": [
            (due + timedelta(minutes=4, seconds=30)).isoformat(),
            (following + timedelta(seconds=1)).isoformat(),
        ],
    }
    for worker in [_spawn("fire", punctual), _spawn("fire", late)]:
        _finish(worker)
    runs = marker.read_text().splitlines()
    assert len(runs) == 2, runs  # one run per due time, whichever process got there first
    with session_factory() as session:
        slots = sorted(session.scalars(select(JobSlot.slot).where(JobSlot.job == "deliver")))
    assert slots == ["2026-12-07T10:05", "2026-12-07T10:10"]
