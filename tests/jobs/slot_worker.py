"""A scheduler process's side of the slot tests, run as its own OS process (not a test module).

    python -m tests.jobs.slot_worker claim '<json: {"db", "job", "slots", "start_at"}>'
    python -m tests.jobs.slot_worker fire '<json: {"db", "job", "cron", "firings", "marker", "start_at"}>'

`claim` claims slots 0..slots-1 of one job and prints the ones it got (JSON). `fire` runs a
scheduled job, wrapped exactly as the scheduler wraps it, once per firing time in
`firings` (ISO datetimes: the clock of that firing); the job appends a line to `marker`.
Both wait for `start_at` (epoch seconds) so the processes race each other.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from app.db import make_engine, make_session_factory
from app.jobs.slots import claim_slot, claimed


def _wait(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def claim(args: dict) -> None:
    factory = make_session_factory(make_engine(args["db"]))
    owner = f"worker-{os.getpid()}"
    _wait(args["start_at"])
    got = [n for n in range(args["slots"]) if claim_slot(factory, args["job"], f"slot-{n:04d}", owner)]
    print(json.dumps(got), flush=True)


def fire(args: dict) -> None:
    factory = make_session_factory(make_engine(args["db"]))
    trigger = CronTrigger.from_crontab(args["cron"], timezone="UTC")
    marker = Path(args["marker"])

    def job() -> None:
        with marker.open("a") as out:
            out.write(f"{os.getpid()}\n")

    for stamp in args["firings"]:
        firing = datetime.fromisoformat(stamp)
        run = claimed(
            factory, args["job"], trigger, job, clock=lambda at=firing: at, owner=f"w-{os.getpid()}"
        )
        _wait(args["start_at"])
        run()
    print("done", flush=True)


if __name__ == "__main__":
    {"claim": claim, "fire": fire}[sys.argv[1]](json.loads(sys.argv[2]))
