"""The `make run` path in a fresh folder: init, demo load, embedded server with the scheduler.

Runs the real CLI in subprocesses with the real model on the bundled data (no network),
then reads the served pages over HTTP like a browser would.
"""

from __future__ import annotations

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

    init = _run(["init"], env, tmp_path)
    assert init.returncode == 0, init.stderr
    assert "database ready" in init.stdout
    assert (tmp_path / "var" / "papertrend.db").exists()

    demo = _run(["demo"], env, tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "1273 vectors indexed" in demo.stdout
    assert re.search(r"pipeline:topics\s+1273 papers -> \d+ topics", demo.stdout), demo.stdout

    again = _run(["demo"], env, tmp_path)  # idempotent: a second call loads nothing
    assert again.returncode == 0
    assert "already holds 1273 papers" in again.stdout

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
        assert httpx.get(base + "/subscribe", timeout=10).status_code == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "scheduled pipeline" in output, output[-3000:]
