"""Requirement 40: a delivery worker killed between claiming and sending loses nothing; the next run
recovers its claims with at most one duplicate per message that was in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.policy import DeliveryPolicy
from app.models import Delivery
from tests.mail.mail_support import SECRET, SmtpServer, build, seed_world, send, settings_for

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 2


def test_requirement_40_kill_between_claim_and_send_then_restart(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Requirement 40: killed between claim and send, rows are recovered on restart, <= 1 duplicate each."""
    people = [f"reader{i:02d}@example.org" for i in range(16)]
    now = datetime.now(UTC)
    seed_world(session_factory, people, day=now, send_hour=0)
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    assert build(settings, session_factory, now).queued == 16

    smtp.handler.script.data_delay = 0.25  # slow enough to kill the worker mid-batch
    engine = session_factory.kw["bind"]
    args = {
        "db": engine.url.render_as_string(hide_password=False),
        "lease": LEASE_S,
        "settings": {"var_dir": str(tmp_path), "secret_key": SECRET, "base_url": settings.base_url,
                     "mail_from": settings.mail_from, "smtp_url": smtp.url, "environment": "test"},
    }  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "deliver_worker.py"), json.dumps(args)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(smtp.received) < 4:
        assert child.poll() is None, child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the worker sent nothing"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    with session_scope(session_factory) as s:
        statuses = Counter(s.scalars(select(Delivery.status)))
    in_flight = statuses["sending"]
    assert in_flight >= 1 and statuses["sent"] + statuses["sending"] + statuses["queued"] == 16

    smtp.handler.script.data_delay = 0
    later = datetime.now(UTC) + timedelta(seconds=LEASE_S + 1)  # the dead worker's leases have run out
    report = send(settings, session_factory, later, policy=DeliveryPolicy(concurrency=2))
    assert report.recovered == in_flight

    copies = Counter(r.rcpt for r in smtp.received)
    assert set(copies) == set(people)  # nobody lost
    assert max(copies.values()) <= 2  # at most one duplicate per message
    assert sum(copies.values()) - len(people) <= in_flight  # duplicates only among the in-flight ones
    with session_scope(session_factory) as s:
        rows = s.scalars(select(Delivery)).all()
        assert {d.status for d in rows} == {"sent"}
        ids = {d.recipient: d.message_id for d in rows}
    for received in smtp.received:  # a duplicate carries the same Message-ID (receivers can fold it)
        assert str(received.message["Message-ID"]) == ids[received.rcpt]
