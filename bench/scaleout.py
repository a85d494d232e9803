"""Scale-out delivery: digests per second delivered by 1, 2 and 4 worker processes, and a kill.

    .venv/bin/python bench/scaleout.py              # writes the `scaleout` section of docs/BENCHMARKS.md
    .venv/bin/python bench/scaleout.py --digests 1000 --no-write

What runs: a scratch PostgreSQL database (TEST_POSTGRES_URL's server, dropped at the end) at
the latest schema; an aiosmtpd relay on 127.0.0.1 that takes 50 ms per message (a slow
provider); N queued digest emails handed to the workers as send tasks exactly as a digest build
does; then `papertrend worker`-equivalent processes (`tests.jobs.queue_worker mail`: the
product's worker with only the delivery job) with `--concurrency` tasks each, no fleet cap.
Figures: digests per second between the relay's first and last receipt (steady state, worker
start-up excluded). The kill case runs 3 workers and SIGKILLs one after 20 % were delivered:
time until every row is sent, and how many emails arrived twice (in flight in the victim).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.db import make_engine  # noqa: E402
from bench._report import write_section  # noqa: E402
from tests.conftest import migrate  # noqa: E402
from tests.jobs.fleet import (  # noqa: E402
    SlowRelay,
    hand_out,
    reset_queue,
    seed_outbox,
    statuses,
    wait_until,
    worker_env,
    workers,
)

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RELAY_DELAY_S = 0.05
CHUNK = 50


def _env(url: str, relay: SlowRelay, folder: Path, concurrency: int) -> dict[str, str]:
    return worker_env(
        url,
        var_dir=folder,
        secret_key="bench-scaleout-secret-key-0123456789abcdef",
        smtp_url=relay.url,
        mail_chunk_size=CHUNK,
        mail_lease_seconds=30,
        smtp_concurrency=64,
        smtp_rate_per_second=100000,
        worker_concurrency=concurrency,
        schedule_deliver="* * * * * */5",
        schedule_stalled="* * * * * */2",
        worker_stalled_seconds=5,
    )


def _ready(engine: Engine, count: int) -> bool:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()) >= count


def _fresh(engine: Engine) -> None:
    reset_queue(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE deliveries, delivery_contents, subscribers CASCADE"))


def run_case(url: str, engine: Engine, folder: Path, n_workers: int, digests: int, concurrency: int) -> float:
    _fresh(engine)
    ids = seed_outbox(engine, digests)
    folder.mkdir(parents=True, exist_ok=True)
    with (
        SlowRelay(RELAY_DELAY_S) as relay,
        workers("mail", _env(url, relay, folder, concurrency), {"concurrency": concurrency}, folder) as fleet,
    ):
        fleet.start(n_workers)
        if not wait_until(lambda: _ready(engine, n_workers), timeout=120):
            raise SystemExit(f"workers did not start:\n{fleet.logs()}")
        hand_out(engine, ids, CHUNK)
        if not wait_until(lambda: len(relay.receipts()) >= digests, timeout=600, step=0.5):
            raise SystemExit(f"not every digest arrived:\n{fleet.logs()}")
        ends = sorted(r.ended for r in relay.receipts())
    rate = (len(ends) - 1) / (ends[-1] - ends[0])
    print(f"{n_workers} worker(s): {digests} digests, {rate:.1f}/s", flush=True)
    return rate


def kill_case(url: str, engine: Engine, folder: Path, digests: int, concurrency: int) -> dict[str, float]:
    _fresh(engine)
    ids = seed_outbox(engine, digests)
    folder.mkdir(parents=True, exist_ok=True)
    with (
        SlowRelay(RELAY_DELAY_S) as relay,
        workers("mail", _env(url, relay, folder, concurrency), {"concurrency": concurrency}, folder) as fleet,
    ):
        *_, victim = fleet.start(3)
        if not wait_until(lambda: _ready(engine, 3), timeout=120):
            raise SystemExit(f"workers did not start:\n{fleet.logs()}")
        hand_out(engine, ids, CHUNK)
        started = time.time()
        wait_until(lambda: len(relay.receipts()) >= digests // 5, timeout=600, step=0.1)
        fleet.kill(victim)
        killed = time.time()
        if not wait_until(lambda: statuses(engine).get("sent", 0) == digests, timeout=600, step=0.5):
            raise SystemExit(f"not every digest was sent:\n{fleet.logs()}")
        finished = time.time()
        copies = Counter(r.message_id for r in relay.receipts())
    result = {
        "total_s": finished - started,
        "after_kill_s": finished - killed,
        "duplicates": float(sum(1 for n in copies.values() if n > 1)),
        "received": float(len(copies)),
    }
    print(f"kill case: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digests", type=int, default=2000, help="digests per case")
    parser.add_argument("--concurrency", type=int, default=2, help="send tasks per worker")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()

    name = f"pt_bench_scaleout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        migrate(url)
        with tempfile.TemporaryDirectory() as scratch:
            rates = {
                n: run_case(url, engine, Path(scratch) / f"w{n}", n, args.digests, args.concurrency)
                for n in (1, 2, 4)
            }
            killed = kill_case(url, engine, Path(scratch) / "kill", args.digests, args.concurrency)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    per_connection = 1 / RELAY_DELAY_S
    lines = [
        "## Scale-out delivery (`bench/scaleout.py`)",
        "",
        f"Command: `.venv/bin/python bench/scaleout.py --digests {args.digests} "
        f"--concurrency {args.concurrency}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"PostgreSQL on the same machine; relay on 127.0.0.1 taking {RELAY_DELAY_S * 1000:.0f} ms "
        f"per message; {args.concurrency} send tasks per worker, chunks of {CHUNK}, no fleet cap.",
        "",
        "| workers | SMTP connections | digests/s | vs 1 worker | ceiling (connections × 20/s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n, rate in rates.items():
        connections = n * args.concurrency
        lines.append(
            f"| {n} | {connections} | {rate:.1f} | {rate / rates[1]:.2f}× "
            f"| {connections * per_connection:.0f} |"
        )
    lines += [
        "",
        f"Kill case: 3 workers, one SIGKILLed after 20 % of {args.digests} digests were delivered: "
        f"all {int(killed['received'])} subscribers received their digest in {killed['total_s']:.1f} s "
        f"({killed['after_kill_s']:.1f} s after the kill, including lease expiry and stalled-task retry); "
        f"{int(killed['duplicates'])} arrived twice (the victim's in-flight messages, same Message-ID).",
    ]
    text_block = "\n".join(lines)
    print(text_block)
    if not args.no_write:
        write_section("scaleout", text_block)


if __name__ == "__main__":
    main()
