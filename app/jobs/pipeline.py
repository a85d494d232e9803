"""The pipeline: every stage once, in order, each in its own transaction with a JobRun.

ingest → embed → index → topics → trends → early trending → digest build → deliver. A failing stage is
logged and recorded and the next stage still runs on what the database already holds,
so a dead upstream never stops the site from serving what it has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.browse.cache import bump_generation
from app.browse.trends import configured_trend_params
from app.config import Settings
from app.db import session_scope
from app.embed.encoder import Encoder, SentenceTransformerEncoder
from app.embed.fulltext import refresh_search_vectors
from app.embed.service import count_pending, embed_pending, ensure_index
from app.ingest import registry
from app.ingest.flows import run_source
from app.jobs.early import step_early
from app.jobs.mailing import step_deliver, step_digest_build
from app.jobs.runs import StepResult, run_step
from app.mail.queries import outbox_counts
from app.mail.senders import Sender
from app.models._common import utcnow
from app.topics.queries import all_topics
from app.topics.service import (
    AssignReport,
    TopicsReport,
    assign_new_papers,
    build_topics,
    compute_trends,
    needs_rebuild,
)

log = logging.getLogger("papertrend.jobs")

Progress = Callable[[str, int, int | None], None]


@dataclass
class PipelineReport:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def lines(self) -> list[str]:
        return [f"{'ok ' if s.ok else 'ERR'} {s.job:<16} {s.summary or s.error or ''}" for s in self.steps]


def make_encoder(settings: Settings) -> Encoder:
    return SentenceTransformerEncoder.from_settings(settings)


def step_ingest(
    settings: Settings, factory: sessionmaker[Session], sources: list[str] | None = None
) -> StepResult:
    """Run the live sources (all enabled ones by default); one failing never stops the others."""

    def work(result: StepResult) -> None:
        names = sources if sources is not None else [s.name for s in registry.enabled(settings)]
        reports = [run_source(factory, settings, name) for name in names]
        failed = [r.source for r in reports if r.failed]
        result.stats = {r.source: {"new": r.new, "updated": r.updated, "failed": r.failed} for r in reports}
        # PostgreSQL: fill the new papers' full-text vectors now, not at the index step after the
        # (slow) embed step: until then keyword search computes them on the fly for every query.
        with session_scope(factory) as session:
            result.stats["fulltext"] = {"filled": refresh_search_vectors(session)}
        result.summary = f"{sum(r.new for r in reports)} new, {sum(r.updated for r in reports)} updated" + (
            f"; unreachable or failing: {', '.join(failed)}" if failed else ""
        )

    return run_step(factory, "pipeline:ingest", work)


def step_embed(
    settings: Settings,
    factory: sessionmaker[Session],
    encoder: Encoder,
    *,
    progress: Callable[[int], None] | None = None,
    chunk: int = 512,
) -> StepResult:
    def work(result: StepResult) -> None:
        total = 0
        # Commit every chunk so a long backfill keeps its progress if it is interrupted.
        while True:
            with session_scope(factory) as session:
                report = embed_pending(
                    session, encoder, batch_size=settings.embedding_batch_size, limit=chunk, progress=progress
                )
                remaining = count_pending(session, encoder.model_name)
            total += report.encoded
            if report.encoded == 0 or remaining == 0:
                break
            log.info("embed: %d texts encoded so far, %d pending", total, remaining)
        result.stats = {"encoded": total}
        result.summary = f"{total} texts encoded"

    return run_step(factory, "pipeline:embed", work)


def step_index(settings: Settings, factory: sessionmaker[Session], model_name: str) -> StepResult:
    """Bring the saved index up to date and publish it for the web processes (a new version
    only when its bytes changed; see app.embed.index_artifacts)."""

    def work(result: StepResult) -> None:
        from app.embed.index import index_path
        from app.embed.index_artifacts import PublishOptions, publish_index, remove_files

        with session_scope(factory) as session:
            index = ensure_index(
                session, settings.index_dir, model_name, exact_threshold=settings.index_exact_threshold
            )
            published = publish_index(
                session,
                index,
                index_path(settings.index_dir, model_name),
                PublishOptions.from_settings(settings),
                utcnow(),
            )
        remove_files(published.remove_after_commit)
        result.stats = {"vectors": index.ntotal, "version": published.version, "published": published.new}
        result.summary = f"{index.ntotal} vectors indexed; {published.summary()}"

    return run_step(factory, "pipeline:index", work)


def step_topics(
    settings: Settings, factory: sessionmaker[Session], model_name: str, now: datetime
) -> StepResult:
    def work(result: StepResult) -> None:
        with session_scope(factory) as session:
            report: TopicsReport | AssignReport
            if needs_rebuild(session, now=now, model_name=model_name):
                report = build_topics(
                    session,
                    model_name=model_name,
                    seed=settings.topic_seed,
                    n_areas=settings.topic_areas or None,
                    max_techniques=settings.topic_max_techniques or None,
                    now=now,
                )
            else:
                report = assign_new_papers(session, model_name=model_name, now=now)
        result.summary = report.summary()
        result.stats = report.as_dict()

    return run_step(factory, "pipeline:topics", work)


def step_trends(settings: Settings, factory: sessionmaker[Session], now: datetime) -> StepResult:
    def work(result: StepResult) -> None:
        with session_scope(factory) as session:
            report = compute_trends(session, now=now, params=configured_trend_params(settings))
            bump_generation(session)
        result.summary = report.summary()
        result.stats = report.as_dict()

    return run_step(factory, "pipeline:trends", work)


def run_processing(
    settings: Settings, factory: sessionmaker[Session], *, encoder: Encoder | None = None
) -> PipelineReport:
    """The stages after ingest (embed, index, topics, trends, early trending): what new papers need."""
    return run_pipeline(settings, factory, encoder=encoder, ingest=False, digests=False)


def run_pipeline(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    encoder: Encoder | None = None,
    ingest: bool = True,
    sources: list[str] | None = None,
    digests: bool = True,
    sender: Sender | None = None,
    now: datetime | None = None,
    embed_progress: Callable[[int], None] | None = None,
) -> PipelineReport:
    """Run every stage once, in order. Returns the report of each step."""
    now = now or utcnow()
    report = PipelineReport()
    if ingest:
        report.steps.append(step_ingest(settings, factory, sources))
    encoder = encoder or make_encoder(settings)
    report.steps.append(step_embed(settings, factory, encoder, progress=embed_progress))
    report.steps.append(step_index(settings, factory, encoder.model_name))
    report.steps.append(step_topics(settings, factory, encoder.model_name, now))
    report.steps.append(step_trends(settings, factory, now))
    report.steps.append(step_early(settings, factory, encoder.model_name, now))
    if digests:
        report.steps.append(step_digest_build(settings, factory, encoder, now))
        report.steps.append(step_deliver(settings, factory, sender, now))
    return report


def early_plan(settings: Settings, factory: sessionmaker[Session], model_name: str, now: datetime) -> str:
    if not settings.early_trending:
        return "off (EARLY_TRENDING=false)"
    from app.early.service import EarlyOptions, training_due

    with factory() as session:
        due, why = training_due(session, EarlyOptions.from_settings(settings), now.date())
    return ("train a new model: " if due else "score new papers; ") + why


def plan_pipeline(
    settings: Settings, factory: sessionmaker[Session], *, now: datetime | None = None
) -> list[str]:
    """What `run_pipeline` would do now, read from the database; writes and fetches nothing."""
    now = now or utcnow()
    model_name = make_encoder(settings).model_name
    with factory() as session:
        pending = count_pending(session, model_name)
        # With nothing embedded yet there is nothing to cluster, but this run's embed step changes that.
        no_topics = not all_topics(session)
        rebuild = needs_rebuild(session, now=now, model_name=model_name) or (no_topics and pending > 0)
        outbox = outbox_counts(session, now)
    return [
        f"ingest          would fetch: {settings.ingest_sources or '(no live source enabled)'}",
        f"embed           {pending} papers need a vector for {model_name}",
        "index           brought up to date with the stored vectors, published for the web processes",
        f"topics          {'full rebuild' if rebuild else 'new papers assigned to the existing topics'}",
        "trends          counts, momentum and trending scores recomputed",
        "early trending  " + early_plan(settings, factory, model_name, now),
        "digest build    digests of subscribers whose send hour has come",
        f"digest send     {outbox['due']} emails due now, {outbox['later']} waiting for a retry"
        + (" (sending is PAUSED)" if outbox["paused"] else ""),
    ]
