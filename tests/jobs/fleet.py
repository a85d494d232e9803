"""Scale-out test fleet: a slow SMTP relay on loopback, an outbox of N digests, worker processes.

Used by the scale-out tests (tests/jobs/test_scaleout_*.py) and by bench/scaleout.py. Workers
are real OS processes (`python -m tests.jobs.queue_worker`) running the product's procrastinate
worker on a PostgreSQL database; the relay is aiosmtpd in this process, taking `delay` seconds
per message and recording when each message (by Message-ID) started and ended.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from app.models import Delivery, Subscriber
from app.models._common import utcnow
from app.models.digest import DeliveryContent
from app.models.statuses import DeliveryStatus, SubscriberStatus
from tests.mail.mail_support import PortZeroController

ROOT = Path(__file__).resolve().parents[2]
QUEUE_TABLES = (
    "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
)


@dataclass
class Receipt:
    message_id: str
    recipient: str
    started: float  # MAIL FROM
    ended: float  # after the delay, when 250 was sent


@dataclass
class SlowRelayHandler:
    delay: float
    receipts: list[Receipt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        session.mail_started = time.time()
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)  # the relay's own work: other sessions go on meanwhile
        parsed = message_from_bytes(envelope.original_content or envelope.content)
        receipt = Receipt(
            message_id=str(parsed.get("Message-ID", "")),
            recipient=envelope.rcpt_tos[0],
            started=getattr(session, "mail_started", time.time()),
            ended=time.time(),
        )
        with self.lock:
            self.receipts.append(receipt)
        return "250 2.0.0 Ok: queued"


class SlowRelay:
    """aiosmtpd on 127.0.0.1 that takes `delay` seconds per message."""

    def __init__(self, delay: float) -> None:
        self.handler = SlowRelayHandler(delay)
        self.controller = PortZeroController(self.handler, hostname="127.0.0.1", port=0)

    def __enter__(self) -> SlowRelay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def receipts(self) -> list[Receipt]:
        with self.handler.lock:
            return list(self.handler.receipts)


def reset_queue(engine: Engine) -> None:
    """Empty the task queue's tables and the shared pace (not in the models, so not truncated)."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {QUEUE_TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM rate_limits"))


def seed_outbox(engine: Engine, count: int) -> list[int]:
    """`count` confirmed subscribers, each with one queued digest email; returns the delivery ids."""
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        subs = [
            {
                "email": f"reader{n}-{tag}@example.org",
                "status": SubscriberStatus.CONFIRMED,
                "created_at": now,
            }
            for n in range(count)
        ]
        ids = list(conn.execute(insert(Subscriber).returning(Subscriber.id), subs).scalars())
        rows = [
            {
                "subscriber_id": sid,
                "kind": "digest",
                "recipient": f"reader{n}-{tag}@example.org",
                "message_id": f"<digest-{n}-{tag}@papertrend.localhost>",
                "subject": f"Your papers ({n})",
                "status": DeliveryStatus.QUEUED,
                "attempts": 0,
                "next_attempt_at": now - timedelta(seconds=1),
                "stale_after": now + timedelta(hours=1),
                "created_at": now,
            }
            for n, sid in enumerate(ids)
        ]
        delivery_ids = list(conn.execute(insert(Delivery).returning(Delivery.id), rows).scalars())
        contents = [
            {"delivery_id": did, "body_text": f"Papers for you, number {n}.", "body_html": "", "headers": {}}
            for n, did in enumerate(delivery_ids)
        ]
        conn.execute(insert(DeliveryContent), contents)
    return delivery_ids


def hand_out(engine: Engine, ids: list[int], chunk_size: int) -> None:
    """Defer send chunks for `ids` exactly as a digest build does (one transaction)."""
    from sqlalchemy.orm import Session

    from app.jobs.queue import chunk_fan_out

    with Session(engine) as session, session.begin():
        chunk_fan_out(chunk_size)(session, ids)


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(Delivery.status, text("count(*)")).group_by(Delivery.status)).all()
    return {str(status): int(n) for status, n in rows}


def worker_env(database_url: str, **settings: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "RUN_MODE": "scaleout",
            "VAR_DIR": str(Path(settings.pop("var_dir", "/tmp")) / "var"),
            "WORKER_CATCHUP_HOURS": "0",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    env.update({key.upper(): str(value) for key, value in settings.items()})
    return env


class Workers:
    """Worker OS processes; all are stopped (SIGTERM, then SIGKILL) when the block ends."""

    def __init__(self, mode: str, env: dict[str, str], args: dict[str, Any], log_dir: Path) -> None:
        self.mode, self.env, self.args, self.log_dir = mode, env, args, log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            n = len(self.processes)
            log = (self.log_dir / f"worker-{n}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.jobs.queue_worker", self.mode, json.dumps(self.args)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.processes.append(process)
            started.append(process)
        return started

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker-*.log"))
        )


@contextmanager
def workers(mode: str, env: dict[str, str], args: dict[str, Any], log_dir: Path) -> Iterator[Workers]:
    fleet = Workers(mode, env, args, log_dir)
    try:
        yield fleet
    finally:
        fleet.stop_all()


def wait_until(predicate: Any, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def max_in_window(times: list[float], window: float) -> int:
    """The most events in any half-open window of `window` seconds."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        best = max(best, last - first + 1)
    return best
