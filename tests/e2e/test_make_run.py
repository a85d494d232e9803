"""The `make run` path in a fresh folder: init, demo load, embedded server with the scheduler.

Runs the real CLI in subprocesses with the real model on the bundled data (no network),
then reads the served pages over HTTP like a browser would, and walks a newcomer's first
steps: `demo` before `init`, subscribing, confirming through /outbox, and the first digest
(the demo's papers are months old; the digest still has papers and says when they were
announced).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

CLI = [sys.executable, "-m", "app.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in list(env):
        if key in {"DATABASE_URL", "SMTP_URL", "SECRET_KEY", "ENVIRONMENT"}:
            del env[key]
    env.update(VAR_DIR=str(tmp_path / "var"), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.update(SUBSCRIBE_MIN_SECONDS="0")  # the test submits the form faster than a person
    # Live sources are unreachable in tests; they must fail fast and be reported, not hang.
    env.update(
        ARXIV_API_URL="http://127.0.0.1:9/api",
        ARXIV_OAI_URL="http://127.0.0.1:9/oai",
        ARXIV_RSS_URL="http://127.0.0.1:9/rss",
        HF_API_URL="http://127.0.0.1:9/hf",
    )
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )


def test_init_demo_and_embedded_server(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = _env(tmp_path)
    env["PYTHONPATH"] = str(root)

    # A newcomer who runs `demo` before `init`: the SQLite database is migrated on the spot.
    demo = _run(["demo"], env, tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "bringing the database" in demo.stderr and "Traceback" not in demo.stderr
    papers = _demo_papers(root)
    assert f"{papers} vectors indexed" in demo.stdout
    assert re.search(rf"pipeline:topics\s+{papers} papers -> \d+ topics", demo.stdout), demo.stdout

    init = _run(["init"], env, tmp_path)  # what `make run` runs first; idempotent
    assert init.returncode == 0, init.stderr
    assert "database ready" in init.stdout
    assert (tmp_path / "var" / "papertrend.db").exists()

    again = _run(["demo"], env, tmp_path)  # idempotent: a second call loads nothing
    assert again.returncode == 0
    assert f"already holds {papers} papers" in again.stdout

    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                home = httpx.get(base + "/", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        assert home.status_code == 200
        assert "Trending papers" in home.text
        topics = httpx.get(base + "/api/v1/topics", timeout=10).json()
        labels = [t["label"] for t in topics["items"]]
        assert labels, "the demo data must give named topics"
        assert all(1 <= len(label.split()) <= 4 for label in labels)
        assert not any(re.fullmatch(r"(topic )?\d+", label.lower()) for label in labels)
        assert httpx.get(base + "/outbox", timeout=10).status_code == 200  # embedded mode: outbox page
        _first_digest(base, env, tmp_path)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "scheduled pipeline" in output, output[-3000:]


def _first_digest(base: str, env: dict[str, str], cwd: Path) -> None:
    """Subscribe, confirm through /outbox, build and send the digest: it has papers and their dates."""
    with httpx.Client(base_url=base, timeout=30) as browser:
        form = browser.get("/subscribe").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        topics = re.findall(r'name="topics" value="(\d+)"', form)
        assert csrf and topics
        sent = browser.post(
            "/subscribe",
            # A newcomer ticks a few topics (the form takes up to 50 of the demo's topics).
            data={"email": "newcomer@example.org", "csrf_token": csrf.group(1), "topics": topics[:10]},
        )
        assert "Check your inbox" in sent.text
        # The confirmation is queued by the request and written by the server's thread a moment later.
        deadline = time.monotonic() + 15
        while not (
            found := re.findall(r'href="/outbox/([^"]+confirm[^"]+\.eml)"', browser.get("/outbox").text)
        ):
            assert time.monotonic() < deadline, "the confirmation never reached the outbox"
            time.sleep(0.1)
        (confirmation,) = found
        message = browser.get(f"/outbox/{confirmation}").text
        confirm_path = re.findall(r"https?://[^/\s\"<]+(/confirm/[^\s\"<]+)", message)[0]
        page = browser.get(confirm_path).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        assert "You are subscribed" in browser.post(confirm_path, data={"csrf_token": token.group(1)}).text

        # Late yesterday evening (UTC): past every send hour, and the digest is due to go at once.
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        built = _run(["digest", "build", "--now", f"{yesterday}T23:00:00Z"], env, cwd)
        assert built.returncode == 0 and "1 digests built" in built.stdout, built.stdout + built.stderr
        assert _run(["digest", "send"], env, cwd).returncode == 0
        listing = browser.get("/outbox").text
        (digest,) = re.findall(r'href="/outbox/([^"]+digest[^"]+\.eml)"', listing)
        text = browser.get(f"/outbox/{digest}").text
    assert "Your first digest" in text, text[:3000]
    assert re.search(r"(Announced|First seen) \d{1,2} [A-Z][a-z]+ 20\d\d", text), text[:3000]


def _demo_papers(root: Path) -> int:
    """Papers the demo loads: the seed papers plus the bundled arXiv slice."""
    data = root / "app" / "demo_data"
    with gzip.open(data / "demo_papers.jsonl.gz", "rt") as fh:
        slice_ = sum(1 for line in fh if line.strip())
    return len(json.loads((data / "seed_papers.json").read_text())) + slice_
