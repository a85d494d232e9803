"""Benchmark: how long `POST /subscribe` takes while the mail relay never answers, per kind of address.

The real app (SQLite in a scratch folder, its lifespan running, so the confirmation thread is
live) sends mail to a relay on 127.0.0.1 that accepts connections and never says a word (SMTP
timeout 30 s). Each request opens the form, then posts; requests alternate between four kinds
of address (new, pending, confirmed, suppressed), each from its own client address. What is
measured is the POST alone. A request that sent the confirmation itself would take the relay's
30 s; a queued one takes a short transaction, the same for every kind, so the time tells
nothing about the address. Figures go to docs/BENCHMARKS.md, section `subscribe-timing`.

    .venv/bin/python bench/subscribe_timing.py [--requests 60] [--no-write]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.config import load_settings  # noqa: E402
from app.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.mail.senders import SmtpConfig, SmtpSender  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Delivery, Subscriber, Suppression  # noqa: E402
from app.readiness import ensure_ready  # noqa: E402
from bench._report import write_section  # noqa: E402

KINDS = ("new", "pending", "confirmed", "suppressed")


def silent_relay() -> tuple[socket.socket, list[socket.socket]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return sock, held


def run(requests: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="pt-subscribe-timing-"))
    relay, _held = silent_relay()
    url = f"smtp://127.0.0.1:{relay.getsockname()[1]}"
    settings = load_settings(
        var_dir=folder, environment="test", secret_key="bench-secret-key-" + "x" * 32, smtp_url=url,
        subscribe_min_seconds=0, subscribe_ip_limit=100_000, subscribe_global_limit=100_000,
    )  # fmt: skip
    ensure_ready(settings, migrate=True, say=lambda _line: None)
    factory = make_session_factory(make_engine(settings.effective_database_url))
    with session_scope(factory) as s:
        s.add(Subscriber(email="pending@example.org", status="pending", link_key="k1"))
        s.add(Subscriber(email="confirmed@example.org", status="confirmed", link_key="k2"))
        s.add(Suppression(email="suppressed@example.org", kind="complaint", source="bench"))
    sender = SmtpSender(SmtpConfig.from_url(url, timeout=30.0))
    app = create_app(settings, session_factory=factory, sender=sender, load_search=False)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with TestClient(app):
        for i in range(requests):
            kind = KINDS[i % len(KINDS)]
            email = f"new{i}@example.org" if kind == "new" else f"{kind}@example.org"
            client = TestClient(app, client=(f"10.{i // 250}.{i % 250}.1", 1000))
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/subscribe").text)
            assert token
            started = time.perf_counter()
            answer = client.post("/subscribe", data={"email": email, "csrf_token": token.group(1)})
            times[kind].append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text[:200]
        with session_scope(factory) as s:
            queued = s.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "confirm"))
        print(f"{queued} confirmations queued; relay connections held: {len(_held)}")
    relay.close()
    return times


def markdown(times: dict[str, list[float]], command: str) -> str:
    rows = ["| address | requests | median ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    for kind, values in times.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        rows.append(
            f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.1f} | {p95 * 1000:.1f} | "
            f"{max(values) * 1000:.1f} |"
        )
    return "\n".join(
        [
            "## Subscribe while the mail relay never answers",
            "",
            f"`{command}` (SQLite; relay on 127.0.0.1 that accepts and stays silent, SMTP timeout 30 s).",
            "",
            *rows,
            "",
            "Target: every kind well under the relay's timeout, and no kind told apart by its time.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    times = run(args.requests)
    text = markdown(times, f".venv/bin/python bench/subscribe_timing.py --requests {args.requests}")
    print(text)
    if not args.no_write:
        write_section("subscribe-timing", text)


if __name__ == "__main__":
    main()
