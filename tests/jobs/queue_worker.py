"""A scale-out worker for the tests, run as its own OS process (not a test module).

    python -m tests.jobs.queue_worker ticks '<json: {"cron", "work_s", "concurrency"}>'
    python -m tests.jobs.queue_worker mail '<json: {"concurrency"}>'

Settings come from the environment (DATABASE_URL, RUN_MODE=scaleout, ...), as for
`papertrend worker`. Both modes run the product's worker (`app.jobs.queue.run_worker`):

* `ticks`: one scheduled job `tick` on a test cron (seconds allowed); each run writes
  (slot, pid, started, finished) to the `tick_runs` table, the row committed at the end, so
  a run killed half-way leaves nothing;
* `mail`: the product's `deliver` job and send tasks (no ingest or digest jobs, which would
  need the network or the model).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from sqlalchemy import text

from app.config import load_settings
from app.db import make_engine, make_session_factory, session_scope
from app.jobs.queue import run_worker, running_slot

TICK_TABLE = (
    "CREATE TABLE IF NOT EXISTS tick_runs "
    "(slot bigint NOT NULL, pid integer NOT NULL, started float8 NOT NULL, finished float8 NOT NULL)"
)


def ticks(args: dict) -> None:
    settings = load_settings()
    factory = make_session_factory(make_engine(settings.effective_database_url))

    def tick() -> None:
        started = time.time()
        time.sleep(args["work_s"])  # long enough that two overlapping runs would show
        with session_scope(factory) as session:
            session.execute(
                text("INSERT INTO tick_runs (slot, pid, started, finished) VALUES (:slot, :pid, :s, :f)"),
                {"slot": running_slot.get(), "pid": os.getpid(), "s": started, "f": time.time()},
            )

    run_worker(settings, factory, concurrency=args["concurrency"], jobs={"tick": (args["cron"], tick)})


def mail(args: dict) -> None:
    settings = load_settings()
    factory = make_session_factory(make_engine(settings.effective_database_url))
    run_worker(settings, factory, concurrency=args["concurrency"], only={"deliver"})


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    {"ticks": ticks, "mail": mail}[sys.argv[1]](json.loads(sys.argv[2]))
