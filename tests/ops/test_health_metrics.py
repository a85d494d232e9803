"""/healthz, /readyz and /metrics of the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory, session_scope
from app.models import Delivery, JobRun
from app.readiness import head_revision
from tests.digest.digest_support import add_subscriber
from tests.web.apputil import build_app

NOW = datetime.now(UTC)


@pytest.fixture
def ops_client(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(build_app(session_factory, tmp_path)) as client:
        yield client


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text body (which must parse), keyed by name and labels."""
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return out


def test_healthz_and_readyz_when_all_is_well(ops_client: TestClient) -> None:
    live = ops_client.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = ops_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["database"] == {"ok": True, "schema": head_revision(), "expected_schema": head_revision()}
    assert body["index"]["ok"] is True
    assert ready.headers["cache-control"] == "no-store"


def test_readyz_is_503_while_the_schema_is_behind(
    ops_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    try:
        ready = ops_client.get("/readyz")
        assert ready.status_code == 503
        database = ready.json()["database"]
        assert database["ok"] is False and database["schema"] == "0008"
        assert "papertrend init" in database["error"]
        assert ops_client.get("/healthz").status_code == 200  # alive all the same
    finally:
        with session_scope(session_factory) as s:
            s.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    assert ops_client.get("/readyz").status_code == 200


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_readyz_is_503_when_the_database_is_down(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        (tmp_path / "not-a-folder").write_text("")
        url = f"sqlite:///{tmp_path / 'not-a-folder' / 'papertrend.db'}"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/papertrend"  # nothing listens on port 1
    factory = make_session_factory(make_engine(url, connect_timeout=2))
    with TestClient(build_app(factory, tmp_path / "var", database_url=url)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "not ready" and body["database"]["ok"] is False
        assert body["database"]["error"]
        metrics = _samples(client.get("/metrics").text)
        assert metrics[("papertrend_database_up", ())] == 0


def test_metrics_by_route_template_and_service_figures(
    ops_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as s:
        sub = add_subscriber(s, "ada@example.org")
        for i, status in enumerate(["sent", "sent", "queued", "failed"]):
            s.add(
                Delivery(
                    subscriber_id=sub.id,
                    kind="digest",
                    recipient=sub.email,
                    message_id=f"<m{i}@x>",
                    subject="s",
                    status=status,
                    sent_at=NOW if status == "sent" else None,
                )
            )
        s.add(
            JobRun(
                job="ingest:arxiv_api",
                status="ok",
                started_at=NOW - timedelta(minutes=12),
                finished_at=NOW - timedelta(minutes=10),
            )
        )
        s.add(
            JobRun(
                job="pipeline:index",
                status="ok",
                started_at=NOW - timedelta(seconds=30),
                finished_at=NOW - timedelta(seconds=20),
            )
        )
        s.add(
            JobRun(
                job="pipeline:index",
                status="failed",
                started_at=NOW - timedelta(seconds=9),
                finished_at=NOW - timedelta(seconds=5),
            )
        )
    token_path = "/unsubscribe/Zm9vYmFyYmF6MTIzNDU2.c2lnbmF0dXJl"
    ops_client.get(token_path)
    ops_client.get("/healthz")
    ops_client.get("/no/such/page/at/all")
    response = ops_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert "Zm9vYmFyYmF6MTIzNDU2" not in body and "/no/such/page" not in body
    samples = _samples(body)
    routes = {
        dict(labels).get("route") for (name, labels) in samples if name == "papertrend_http_requests_total"
    }
    assert {"/unsubscribe/{token}", "/healthz", "unmatched"} <= routes
    hist = [k for k in samples if k[0] == "papertrend_http_request_duration_seconds_count"]
    assert any(dict(labels)["route"] == "/healthz" for _, labels in hist)
    assert samples[("papertrend_deliveries", (("status", "sent"),))] == 2
    assert samples[("papertrend_deliveries", (("status", "queued"),))] == 1
    assert samples[("papertrend_deliveries", (("status", "expired"),))] == 0
    assert samples[("papertrend_emails_sent_total", ())] == 2
    lag = samples[("papertrend_ingest_lag_seconds", (("source", "arxiv_api"),))]
    # The last ingest finished 10 minutes before NOW, which was read when this module was imported.
    since_now = (datetime.now(UTC) - NOW).total_seconds()
    assert 590 <= lag <= 600 + since_now + 60
    assert samples[("papertrend_job_runs_total", (("job", "pipeline:index"), ("outcome", "ok")))] == 1
    assert samples[("papertrend_job_runs_total", (("job", "pipeline:index"), ("outcome", "failed")))] == 1
    duration = (("job", "pipeline:index"), ("outcome", "ok"))
    assert samples[("papertrend_job_run_duration_seconds_sum", duration)] == pytest.approx(10, abs=0.01)
    assert samples[("papertrend_database_up", ())] == 1
    assert samples[("papertrend_index_version", ())] == 0
    if engine_name(session_factory) == "sqlite":  # no task queue there: no queue series at all
        assert not any(k[0] == "papertrend_queue_depth" for k in samples)


def test_queue_depth_read_from_the_task_queue_table_when_it_exists(
    ops_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the task queue lives in PostgreSQL only")
    # The task queue's own table (created by the migrations on PostgreSQL), on queues no worker reads.
    rows = [("metrics-a", "todo"), ("metrics-a", "todo"), ("metrics-b", "todo"), ("metrics-b", "failed")]
    with session_scope(session_factory) as s:
        for queue, status in rows:
            s.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, status) "
                    "VALUES (:queue, 'metrics_probe', CAST(:status AS procrastinate_job_status))"
                ),
                {"queue": queue, "status": status},
            )
    try:
        samples = _samples(ops_client.get("/metrics").text)
    finally:
        with session_scope(session_factory) as s:
            s.execute(text("DELETE FROM procrastinate_jobs WHERE task_name = 'metrics_probe'"))
    assert samples[("papertrend_queue_depth", (("queue", "metrics-a"), ("status", "todo")))] == 2
    assert samples[("papertrend_queue_depth", (("queue", "metrics-b"), ("status", "todo")))] == 1
    assert not any(k[0] == "papertrend_queue_depth" and ("status", "failed") in k[1] for k in samples)


def test_metrics_token(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    token = "metrics-token-" + "m" * 30
    with TestClient(build_app(session_factory, tmp_path, metrics_token=token)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "papertrend_database_up" in ok.text
        assert client.get("/healthz").status_code == 200  # the probes need no token


def engine_name(factory: sessionmaker[Session]) -> str:
    return str(factory.kw["bind"].dialect.name)
