"""Several web processes behind one port share their request series (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.live import free_port
from tests.ops.replica import ROOT


def _healthz_count(body: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "papertrend_http_requests_total" and sample.labels.get("route") == "/healthz":
                total += sample.value
    return total


def test_two_worker_processes_report_their_requests_together(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "ENVIRONMENT": "test",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "EMBEDDING_MODEL": str(tmp_path / "no-model"),  # no model: keyword search, a faster start
        "HF_HUB_OFFLINE": "1",
    }
    (tmp_path / "no-model").mkdir()
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_factory", "--workers", "2"]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        pids: set[str] = set()
        answered = 0
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    answered += 1
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
        # Both processes answer (the kernel spreads the connections); each counts in its own file.
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            for _ in range(20):
                answered += httpx.get(url + "/healthz", timeout=5).status_code == 200
            pids = {p.name.rsplit("_", 1)[-1] for p in folder.glob("counter_*.db")}
        assert len(pids) >= 2, "only one process answered"
        counted = _healthz_count(httpx.get(url + "/metrics", timeout=10).text)
        assert counted == answered  # every request, whichever process answered it
        # Whichever process answers the scrape reports the same total.
        again = {_healthz_count(httpx.get(url + "/metrics", timeout=10).text) for _ in range(6)}
        assert again == {counted}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
