"""Scale-out pieces in one process: lease-holder recording and renewal (both databases), the
digest build's send tasks queued in its own transaction, and the commands of each mode."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli import root
from app.config import get_settings
from app.db import session_scope
from app.embed.encoder import HashingEncoder
from app.jobs.mailing import step_digest_build
from app.jobs.queue import SEND_TASK, chunk_fan_out
from app.mail.leases import claim, renew
from app.mail.outcomes import DeliverReport, record
from app.mail.policy import DeliveryPolicy
from app.mail.senders import SendResult
from app.models import Delivery
from app.models.statuses import DeliveryStatus
from tests.jobs.fleet import reset_queue
from tests.mail.mail_support import DAY, build, seed_world, settings_for

PEOPLE = [f"reader{i}@example.org" for i in range(5)]


def _claim_all(factory: sessionmaker[Session], owner: str) -> list:
    with session_scope(factory) as session:
        batch, _ = claim(session, owner=owner, now=DAY, limit=100, policy=DeliveryPolicy(), only_ids=None)
    return batch


def test_only_the_lease_holder_records_a_result(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    seed_world(session_factory, PEOPLE[:2])
    build(settings_for(tmp_path), session_factory)
    first, second = _claim_all(session_factory, "worker-a")
    sent = SendResult("sent", 250, "2.0.0 Ok")
    with session_scope(session_factory) as session:
        lost = record(
            session,
            [(first, sent)],
            now=DAY,
            policy=DeliveryPolicy(),
            report=DeliverReport(),
            owner="worker-b",
        )
    assert lost == {first.id}  # not the holder: nothing written
    report = DeliverReport()
    with session_scope(session_factory) as session:
        assert (
            record(
                session, [(first, sent)], now=DAY, policy=DeliveryPolicy(), report=report, owner="worker-a"
            )
            == set()
        )
        rows = {d.id: d for d in session.scalars(select(Delivery))}
    assert report.sent == 1
    assert rows[first.id].status == DeliveryStatus.SENT and rows[first.id].lease_owner is None
    assert rows[second.id].status == DeliveryStatus.SENDING and rows[second.id].lease_owner == "worker-a"


def test_a_lease_is_extended_only_for_its_holder(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    seed_world(session_factory, PEOPLE[:1])
    build(settings_for(tmp_path), session_factory)
    (item,) = _claim_all(session_factory, "worker-a")
    policy = DeliveryPolicy(lease_seconds=600)
    later = DAY.replace(hour=9)
    with session_scope(session_factory) as session:
        assert renew(session, owner="worker-b", ids=[item.id], now=later, policy=policy) == set()
        assert renew(session, owner="worker-a", ids=[item.id], now=later, policy=policy) == {item.id}
        row = session.get(Delivery, item.id)
        assert row is not None and row.lease_until is not None
        assert row.lease_until.replace(tzinfo=None) == later.replace(tzinfo=None, minute=10)


def _send_tasks(session_factory: sessionmaker[Session]) -> list[list[int]]:
    with session_scope(session_factory) as session:
        rows = session.execute(
            text("SELECT args FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"), {"t": SEND_TASK}
        ).scalars()
        return [(arg if isinstance(arg, dict) else json.loads(arg))["ids"] for arg in rows]


def test_a_digest_build_queues_its_send_tasks_in_the_same_transaction(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the task queue lives in PostgreSQL (scale-out mode)")
    reset_queue(session_factory.kw["bind"])
    seed_world(session_factory, PEOPLE)
    settings = settings_for(tmp_path)

    def failing(session: Session, ids: list[int]) -> int:
        chunk_fan_out(2)(session, ids)
        raise RuntimeError("the build stops after queueing its tasks")

    failed = step_digest_build(settings, session_factory, HashingEncoder(), DAY, fan_out=failing)
    assert not failed.ok and _send_tasks(session_factory) == []
    with session_scope(session_factory) as session:
        assert session.scalars(select(Delivery)).first() is None  # neither rows nor tasks

    done = step_digest_build(settings, session_factory, HashingEncoder(), DAY, fan_out=chunk_fan_out(2))
    assert done.ok and done.stats["queued"] == 5
    with session_scope(session_factory) as session:
        queued = sorted(session.scalars(select(Delivery.id)))
    chunks = _send_tasks(session_factory)
    assert [len(chunk) for chunk in chunks] == [2, 2, 1] and sorted(
        i for chunk in chunks for i in chunk
    ) == queued


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_run_refuses_scale_out_and_web_refuses_a_scheduler(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://papertrend@127.0.0.1:9/nowhere")
    result = cli.invoke(root, ["run"])
    assert result.exit_code == 1 and "papertrend worker" in result.output
    result = cli.invoke(root, ["web", "--scheduler"])
    assert result.exit_code == 1 and "never runs the scheduler" in result.output
    monkeypatch.setenv("RUN_MODE", "scaleout")
    monkeypatch.setenv("DATABASE_URL", "")
    get_settings.cache_clear()
    result = cli.invoke(root, ["worker"])
    assert result.exit_code == 1 and "RUN_MODE=scaleout needs a postgresql://" in result.output


def test_every_scheduled_job_is_a_periodic_task_with_both_locks(tmp_path: Path) -> None:
    from app.db import make_engine, make_session_factory
    from app.ingest.registry import scheduled_ingest
    from app.jobs.queue import make_app

    settings = settings_for(tmp_path, database_url="postgresql://papertrend@127.0.0.1:9/unused")
    app = make_app(settings, make_session_factory(make_engine(settings.effective_database_url)))
    periodic = {task.task.name: task for task in app.periodic_registry.periodic_tasks.values()}
    expected = {"pipeline", "digest_build", "deliver", *scheduled_ingest(settings)}
    for job in expected:
        task = periodic[f"job:{job}"]
        assert (task.task.lock, task.task.queueing_lock) == (job, job)
    assert periodic["job:ingest_arxiv"].cron == settings.schedule_arxiv
    assert "queue:retry_stalled" in periodic and "mail:send_chunk" in app.tasks


def test_a_dead_workers_tasks_are_retried_unless_a_later_run_already_waits(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    import asyncio

    from app.db import make_session_factory
    from app.jobs.queue import make_app, retry_stalled_jobs

    if not database_url.startswith("postgresql"):
        pytest.skip("the task queue lives in PostgreSQL (scale-out mode)")
    reset_queue(engine)
    insert_job = text(
        "INSERT INTO procrastinate_jobs "
        "(queue_name, task_name, lock, queueing_lock, args, status, worker_id) VALUES "
        "('default', :task, :lock, :lock, '{}', CAST(:status AS procrastinate_job_status), :worker) "
        "RETURNING id"
    )
    with engine.begin() as conn:
        dead = conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '1 hour') RETURNING id"
            )
        ).scalar_one()
        alive = conn.execute(
            text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")
        ).scalar_one()
        ids = {
            name: conn.execute(
                insert_job, {"task": task, "lock": lock, "status": status, "worker": worker}
            ).scalar_one()
            for name, task, lock, status, worker in [
                ("superseded", "job:deliver", "deliver", "doing", dead),
                ("waiting", "job:deliver", "deliver", "todo", None),
                ("orphan", "mail:send_chunk", None, "doing", dead),
                ("running", "job:pipeline", "pipeline", "doing", alive),
            ]
        }
    settings = settings_for(tmp_path, database_url=database_url)
    app = make_app(settings, make_session_factory(engine), jobs={})

    async def retry() -> int:
        async with app.open_async():
            return await retry_stalled_jobs(app, 30)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # independent of any loop in this thread
        assert pool.submit(asyncio.run, retry()).result() == 1
    with engine.connect() as conn:
        status = dict(conn.execute(text("SELECT id, status::text FROM procrastinate_jobs")).all())
    assert {name: status[job] for name, job in ids.items()} == {
        "superseded": "failed",  # the waiting run of the same job does its work
        "waiting": "todo",
        "orphan": "todo",  # queued again for any live worker
        "running": "doing",  # its worker is alive
    }


def test_the_web_app_refuses_to_start_a_scheduler_in_scale_out_mode(tmp_path: Path) -> None:
    from app.config import ConfigError
    from app.main import create_app

    settings = settings_for(tmp_path, database_url="postgresql://papertrend@127.0.0.1:9/unused")
    assert settings.scale_out
    with pytest.raises(ConfigError, match="papertrend worker"):
        create_app(settings, run_scheduler=True, load_search=False)
    assert not settings_for(
        tmp_path, database_url="postgresql://p@127.0.0.1:9/u", run_mode="embedded"
    ).scale_out
