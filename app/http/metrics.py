"""Prometheus metrics: request counts and latencies by route, and the state of the whole service.

Two kinds of series, both served by `/metrics` in the Prometheus text format
(`prometheus-client`):

* **This process** — `papertrend_http_requests_total` and
  `papertrend_http_request_duration_seconds`, labelled with the route *template*
  (`/preferences/{token}`, never the path a client sent, so no signed token and no unbounded
  label), the method and the status; requests no route matched count under `unmatched`.
  Also the vector index this process serves (`papertrend_index_*`).
* **The whole service**, read from the database at scrape time, so every process answers the
  same figures whichever process a scrape reaches: ingest lag per source, job runs and their
  durations by job and outcome, the task-queue depth (PostgreSQL, when the queue's table
  exists), deliveries by status, emails sent (a counter: `rate()` gives emails per second),
  the newest published index version. Aggregate these with `max`, not `sum`, across replicas.

Several processes behind one port (`uvicorn --workers N`, gunicorn): set the environment
variable PROMETHEUS_MULTIPROC_DIR to an empty folder, the same for those processes, before
they start; request series are then written there and summed over the processes at each
scrape (prometheus-client's multiprocess mode). Without it each process counts its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.embed import index_queries
from app.http import metrics_queries as queries
from app.http.state import AppState, state_of
from app.readiness import note_unreachable

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
# Any other method a client invents is counted as "other": labels stay a small, fixed set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; pages are answered in milliseconds, a cold search in about a second.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class RequestMetrics:
    """The per-route request series of one application."""

    def __init__(self) -> None:
        # In multiprocess mode the values live in files; a registry is built per scrape.
        self.registry: CollectorRegistry | None = None if multiprocess() else CollectorRegistry()
        self.requests = Counter(
            "papertrend_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "papertrend_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (or would answer) this request, never its path."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app: Any = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        # Answers given before routing (the response cache) or by a mount (/static).
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            template = getattr(candidate, "path_format", None) or getattr(candidate, "path", "")
            return str(template) or UNMATCHED
    return UNMATCHED


class RequestMetricsMiddleware:
    """Counts and times every HTTP request (outermost, so cached answers count too)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(
                route_template(scope), scope.get("method", "GET"), status, time.perf_counter() - started
            )


def install_request_metrics(app: FastAPI) -> RequestMetrics:
    """Count and time the requests of `app` (call once, after the other middleware)."""
    metrics = RequestMetrics()
    app.state.request_metrics = metrics
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    return metrics


# The service-wide figures -------------------------------------------------------------------


class ServiceCollector(Collector):
    """Reads the database and the served index at scrape time (see the module docstring)."""

    def __init__(self, state: AppState, now: datetime) -> None:
        self.state = state
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from self._index()
        up = GaugeMetricFamily("papertrend_database_up", "1 when the database answered this scrape.")
        try:
            with self.state.session_factory() as session:
                families = list(self._database(session))
        except SQLAlchemyError as exc:
            note_unreachable(exc, where="/metrics")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _index(self) -> Iterator[Metric]:
        status = self.state.index_status
        version = GaugeMetricFamily(
            "papertrend_index_version",
            "Published index version this process serves (0: none or a local file).",
        )
        version.add_metric([], status.version or 0)
        yield version
        vectors = GaugeMetricFamily("papertrend_index_vectors", "Vectors in the index this process serves.")
        index = self.state.index
        vectors.add_metric([], index.ntotal if index is not None else 0)
        yield vectors
        size = GaugeMetricFamily("papertrend_index_size_bytes", "Size of the index this process serves.")
        size.add_metric([], status.size_bytes if index is not None else 0)
        yield size
        refused = GaugeMetricFamily(
            "papertrend_index_refused_versions", "Published versions this process refused (bad checksum)."
        )
        refused.add_metric([], len(status.refused))
        yield refused
        swaps = CounterMetricFamily("papertrend_index_swaps", "Index versions loaded by this process.")
        swaps.add_metric([], status.swaps)
        yield swaps

    def _database(self, session: Session) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "papertrend_ingest_lag_seconds",
            "Seconds since the last successful ingest of each source.",
            labels=["source"],
        )
        last = GaugeMetricFamily(
            "papertrend_ingest_last_success_timestamp_seconds",
            "When each source last ingested successfully (Unix time).",
            labels=["source"],
        )
        for source, finished in sorted(queries.last_ingest_success(session).items()):
            lag.add_metric([source], max(0.0, (self.now - finished).total_seconds()))
            last.add_metric([source], finished.timestamp())
        yield lag
        yield last
        runs = CounterMetricFamily(
            "papertrend_job_runs", "Finished job runs by job and outcome.", labels=["job", "outcome"]
        )
        durations = SummaryMetricFamily(
            "papertrend_job_run_duration_seconds",
            "Duration of finished job runs by job and outcome.",
            labels=["job", "outcome"],
        )
        for job, outcome, count, seconds in queries.job_runs(session):
            runs.add_metric([job, outcome], count)
            durations.add_metric([job, outcome], count_value=count, sum_value=seconds)
        yield runs
        yield durations
        running = GaugeMetricFamily("papertrend_jobs_running", "Job runs in progress by job.", labels=["job"])
        for job, count in sorted(queries.running_jobs(session).items()):
            running.add_metric([job], count)
        yield running
        depth = queries.task_queue_depth(session)
        if depth is not None:
            queue = GaugeMetricFamily(
                "papertrend_queue_depth",
                "Tasks waiting (todo) or running (doing) by queue.",
                labels=["queue", "status"],
            )
            for (name, status), count in sorted(depth.items()):
                queue.add_metric([name, status], count)
            yield queue
        deliveries = GaugeMetricFamily("papertrend_deliveries", "Outbox rows by status.", labels=["status"])
        for status, count in sorted(queries.deliveries_by_status(session).items()):
            deliveries.add_metric([status], count)
        yield deliveries
        sent = CounterMetricFamily(
            "papertrend_emails_sent", "Emails the relay accepted; rate() is emails per second."
        )
        sent.add_metric([], queries.emails_sent(session))
        yield sent
        latest = GaugeMetricFamily(
            "papertrend_index_published_version",
            "Newest published index version, by model.",
            labels=["model"],
        )
        for model, version, _vectors, _size in index_queries.latest_per_model(session):
            latest.add_metric([model], version)
        yield latest


def render_metrics(target: Request | FastAPI) -> bytes:
    """The /metrics body: this process's request series and the service-wide figures."""
    state = state_of(target)
    registry = CollectorRegistry()
    metrics: RequestMetrics | None = state.request_metrics
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.MultiProcessCollector(registry)
    elif metrics is not None and metrics.registry is not None:
        registry.register(_Forward(metrics.registry))
    registry.register(ServiceCollector(state, state.now()))
    return generate_latest(registry)


class _Forward(Collector):
    """The request series of one application's own registry, inside the scrape's registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()
