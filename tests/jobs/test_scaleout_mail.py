"""Scale-out delivery: worker processes share the outbox through send tasks, leases and fleet budgets.

Real worker processes (`tests.jobs.queue_worker mail`) on PostgreSQL send to an aiosmtpd relay on
127.0.0.1 that takes 50 ms a message (or longer). Every wait is bounded. PostgreSQL only.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.jobs.fleet import (
    Receipt,
    SlowRelay,
    hand_out,
    max_in_window,
    reset_queue,
    seed_outbox,
    statuses,
    wait_until,
    worker_env,
    workers,
)

pytestmark = [pytest.mark.scaleout, pytest.mark.xdist_group("scaleout")]
SECRET = "scaleout-test-secret-key-0123456789abcdef"


@pytest.fixture
def pg(database_url: str, engine: Engine) -> Engine:
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out mode runs on PostgreSQL only")
    reset_queue(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE deliveries, delivery_contents, subscribers, suppressions CASCADE"))
    return engine


def _env(database_url: str, relay: SlowRelay, tmp_path: Path, **settings: Any) -> dict[str, str]:
    base: dict[str, Any] = {
        "var_dir": tmp_path,
        "secret_key": SECRET,
        "smtp_url": relay.url,
        "mail_chunk_size": 50,
        "mail_lease_seconds": 3,
        "smtp_concurrency": 32,
        "smtp_rate_per_second": 100000,
        "schedule_deliver": "* * * * * */2",
        "schedule_stalled": "* * * * * *",
        "worker_stalled_seconds": 3,
    }
    return worker_env(database_url, **(base | settings))


def _workers_ready(engine: Engine, count: int) -> bool:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()) >= count


def _by_message(receipts: list[Receipt]) -> dict[str, list[Receipt]]:
    grouped: dict[str, list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        grouped[receipt.message_id].append(receipt)
    return grouped


def _assert_no_overlapping_attempts(grouped: dict[str, list[Receipt]]) -> None:
    for message_id, copies in grouped.items():
        ordered = sorted(copies, key=lambda r: r.started)
        for before, after in itertools.pairwise(ordered):
            assert after.started >= before.ended, f"two attempts of {message_id} overlapped"


def test_a_killed_worker_costs_at_most_its_in_flight_messages(
    pg: Engine, database_url: str, tmp_path: Path
) -> None:
    total, concurrency = 2000, 3
    ids = seed_outbox(pg, total)
    with (
        SlowRelay(0.05) as relay,
        workers("mail", _env(database_url, relay, tmp_path), {"concurrency": concurrency}, tmp_path) as fleet,
    ):
        *_, victim = fleet.start(3)
        assert wait_until(lambda: _workers_ready(pg, 3), timeout=60), fleet.logs()
        hand_out(pg, ids, 50)
        assert wait_until(lambda: len(relay.receipts()) >= total // 5, timeout=60), fleet.logs()
        fleet.kill(victim)
        killed_at = time.time()
        done = wait_until(lambda: statuses(pg).get("sent", 0) == total, timeout=120, step=0.5)
        assert done, (statuses(pg), fleet.logs())
        receipts = relay.receipts()
    grouped = _by_message(receipts)
    assert len(grouped) == total  # every subscriber got the digest
    duplicates = {mid: copies for mid, copies in grouped.items() if len(copies) > 1}
    # Only messages the victim had in flight (its relay said 250, its commit never came) come
    # twice: one per task it was running, and their first copy ended before the kill.
    assert len(duplicates) <= concurrency, sorted(duplicates)
    for copies in duplicates.values():
        assert len(copies) == 2 and min(c.ended for c in copies) <= killed_at + 0.5
    _assert_no_overlapping_attempts(grouped)


def test_a_relay_slower_than_the_lease_gets_the_lease_renewed_not_a_second_send(
    pg: Engine, database_url: str, tmp_path: Path
) -> None:
    ids = seed_outbox(pg, 6)
    env = _env(database_url, SlowRelay(0), tmp_path)
    with SlowRelay(3.0) as relay:
        env["SMTP_URL"] = relay.url
        env["MAIL_LEASE_SECONDS"] = "2"  # each message takes 1.5 leases
        env["MAIL_CHUNK_SIZE"] = "3"
        env["SCHEDULE_DELIVER"] = "* * * * * *"  # recovery looks for expired leases every second
        with workers("mail", env, {"concurrency": 2}, tmp_path) as fleet:
            fleet.start(2)
            assert wait_until(lambda: _workers_ready(pg, 2), timeout=60), fleet.logs()
            hand_out(pg, ids, 3)
            assert wait_until(lambda: statuses(pg).get("sent", 0) == 6, timeout=60, step=0.5), (
                statuses(pg),
                fleet.logs(),
            )
            time.sleep(3)  # a second copy, if any, would arrive within one more message time
        grouped = _by_message(relay.receipts())
    assert len(grouped) == 6 and all(len(copies) == 1 for copies in grouped.values()), grouped
    with pg.connect() as conn:
        errors = conn.execute(
            text("SELECT count(*) FROM deliveries WHERE last_error IS NOT NULL")
        ).scalar_one()
    assert errors == 0  # no row was ever recovered as if its worker had died


def _rate(
    database_url: str, pg: Engine, tmp_path: Path, workers_n: int, messages: int, **cap: Any
) -> list[float]:
    """Send `messages` with `workers_n` worker processes; returns the relay's receipt times."""
    reset_queue(pg)
    with pg.begin() as conn:
        conn.execute(text("TRUNCATE deliveries, delivery_contents, subscribers CASCADE"))
    ids = seed_outbox(pg, messages)
    log_dir = tmp_path / f"w{workers_n}"
    log_dir.mkdir()
    with (
        SlowRelay(0.05) as relay,
        workers("mail", _env(database_url, relay, log_dir, **cap), {"concurrency": 2}, log_dir) as fleet,
    ):
        fleet.start(workers_n)
        assert wait_until(lambda: _workers_ready(pg, workers_n), timeout=60), fleet.logs()
        hand_out(pg, ids, 25)
        assert wait_until(lambda: len(relay.receipts()) >= messages, timeout=90, step=0.5), fleet.logs()
        return sorted(r.ended for r in relay.receipts())


def test_two_workers_send_faster_than_one_and_a_cap_holds_for_four(
    pg: Engine, database_url: str, tmp_path: Path
) -> None:
    one = _rate(database_url, pg, tmp_path, 1, 200)
    two = _rate(database_url, pg, tmp_path, 2, 400)
    rate_one = (len(one) - 1) / (one[-1] - one[0])
    rate_two = (len(two) - 1) / (two[-1] - two[0])
    # Ideally 2x; on a loaded 2-core machine the workers' own CPU caps it near 1.6x (bench/scaleout.py
    # measures the figure). 1.4x still says the second worker's sends ran beside the first's.
    assert rate_two >= 1.4 * rate_one, (rate_one, rate_two)

    cap = 30.0
    capped = _rate(database_url, pg, tmp_path, 4, 200, smtp_rate_per_second=cap)
    assert max_in_window(capped, 5.0) <= 5 * cap * 1.05
