"""The topics stage: rebuild topics with stable identity, assign new papers between rebuilds.

A rebuild clusters every embedded paper (`app.topics.model.build_topic_model`), matches the new
topics to the stored ones (`app.topics.tracking.match_topics`, per kind) and writes the result:
a matched topic keeps its id, slug and label; an unmatched new topic is "emerging"; a stored topic
nothing matched goes "dormant" (its id and slug are never reused; a later rebuild may revive it).
Operator edits survive: locked labels, hidden and pinned flags, merges (a match to a merged topic
feeds the topic it was merged into) and manual topics (their members come from their keywords).
Between rebuilds `assign_new_papers` places new papers in the existing topics.

The plan is computed first and written only when `dry_run` is false. Never commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.embed.service import load_vectors
from app.models import Topic, TopicBuild
from app.models.statuses import TopicStatus
from app.topics import queries
from app.topics.manual import keyword_members
from app.topics.model import build_topic_model
from app.topics.operator import (
    OperatorError,
    add_topic,
    hide_topic,
    merge_topics,
    pin_topic,
    rename_topic,
    resolve_merged,
)
from app.topics.planning import BuildPlan, StoredTopic, frozen_drafts, plan_build, stored_topic
from app.topics.tracking import assign_to_topics
from app.topics.trends import TrendsReport, compute_trends

__all__ = [
    "AssignReport",
    "OperatorError",
    "TopicsError",
    "TopicsReport",
    "TrendsReport",
    "add_topic",
    "assign_new_papers",
    "build_topics",
    "compute_trends",
    "hide_topic",
    "merge_topics",
    "needs_rebuild",
    "pin_topic",
    "rename_topic",
]

Progress = Callable[[str], None]
REBUILD_EVERY_DAYS = 7
REBUILD_GROWTH = 0.2


class TopicsError(Exception):
    """The topics stage cannot run (nothing embedded, unusable input); the message says what to do."""


@dataclass
class TopicsReport:
    papers: int = 0
    topics: int = 0
    areas: int = 0
    subtopics: int = 0
    techniques: int = 0
    manual: int = 0
    matched: int = 0
    created: int = 0
    kept_share: float = 1.0
    emerging: list[str] = field(default_factory=list)
    dormant: list[str] = field(default_factory=list)
    relabeled: list[str] = field(default_factory=list)
    assignments: int = 0
    without_area: int = 0
    build_id: int | None = None
    dry_run: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        total = sum(self.seconds.values())
        return (
            f"{self.papers} papers -> {self.topics} topics ({self.areas} areas, "
            f"{self.subtopics} subtopics, {self.techniques} techniques, {self.manual} manual); "
            f"{self.matched} kept their id, "
            f"{self.created} new ({len(self.emerging)} emerging), "
            f"{len(self.dormant)} dormant; {self.without_area} papers without an area ({total:.1f}s)"
            + (" [dry run: nothing written]" if self.dry_run else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AssignReport:
    papers: int = 0
    assignments: int = 0
    without_topic: int = 0
    seconds: float = 0.0
    note: str = ""

    def summary(self) -> str:
        if self.note:
            return self.note
        return (
            f"{self.papers} new papers placed: {self.assignments} topic assignments, "
            f"{self.without_topic} without a topic ({self.seconds:.1f}s)"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tick(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def build_topics(
    session: Session,
    *,
    model_name: str,
    seed: int,
    n_areas: int | None,
    max_techniques: int | None,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> TopicsReport:
    """Rebuild every topic from the stored vectors of `model_name` and keep their identities."""
    report = TopicsReport(dry_run=dry_run)
    clock = time.perf_counter()
    _tick(progress, "loading vectors")
    paper_ids, vectors = load_vectors(session, model_name)
    if len(paper_ids) == 0:
        raise TopicsError(f"no papers have vectors of model {model_name!r}: run `papertrend embed` first")
    texts = queries.paper_texts(session, paper_ids)
    titles = [texts.get(pid, ("", ""))[0] for pid in paper_ids]
    abstracts = [texts.get(pid, ("", ""))[1] for pid in paper_ids]
    report.papers = len(paper_ids)
    report.seconds["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    _tick(progress, f"clustering {len(paper_ids)} papers")
    try:
        model = build_topic_model(
            np.asarray(vectors, dtype=np.float32),
            titles,
            abstracts,
            seed=seed,
            n_areas=n_areas,
            max_techniques=max_techniques,
        )
    except ValueError as exc:
        raise TopicsError(f"cannot build topics from {len(paper_ids)} papers: {exc}") from exc
    report.seconds["cluster"] = time.perf_counter() - clock

    clock = time.perf_counter()
    _tick(progress, "matching to the stored topics")
    topics = queries.all_topics(session)
    members = queries.topic_members(session, [t.id for t in topics])
    stored = [stored_topic(t, members.get(t.id, set())) for t in topics]
    plan = plan_build(
        stored,
        list(model.topics),
        paper_ids=paper_ids,
        vectors=vectors,
        titles=titles,
        abstracts=abstracts,
        used_slugs=queries.used_slugs(session),
    )
    report.seconds["match"] = time.perf_counter() - clock
    _fill_report(report, plan, stored)

    if not dry_run:
        clock = time.perf_counter()
        _tick(progress, "writing topics and assignments")
        report.build_id = _apply(session, plan, model_name=model_name, seed=seed, now=now, report=report)
        report.seconds["write"] = time.perf_counter() - clock
    return report


def _fill_report(report: TopicsReport, plan: BuildPlan, stored: list[StoredTopic]) -> None:
    live = [s for s in stored if s.status in TopicStatus.live() and not s.manual]
    report.matched = len(plan.matched)
    report.kept_share = (
        sum(1 for s in live if s.id in plan.matched.values() or s.id in plan.kept_alive) / len(live)
        if live
        else 1.0
    )
    first_build = not any(not s.manual and s.status != TopicStatus.MERGED for s in stored)
    report.emerging = [] if first_build else [d.label for d in plan.new]
    report.created = len(plan.new)
    report.dormant = [s.label for s in stored if s.id in plan.dormant]
    report.relabeled = [f"{old} -> {new}" for old, new in plan.relabeled.values()]
    report.topics = plan.topic_count
    report.areas = plan.kind_count("area")
    report.subtopics = plan.kind_count("subtopic")
    report.techniques = plan.kind_count("technique")
    report.manual = sum(1 for s in stored if s.manual and s.status != TopicStatus.MERGED)
    report.assignments = plan.assignment_count
    report.without_area = plan.without_area


def _apply(
    session: Session, plan: BuildPlan, *, model_name: str, seed: int, now: datetime, report: TopicsReport
) -> int:
    build = TopicBuild(
        model=model_name,
        seed=seed,
        n_papers=report.papers,
        n_topics=report.topics,
        matched=report.matched,
        emerging=len(plan.new),
        dormant=len(plan.dormant),
        started_at=now,
        finished_at=now,
        stats={"kept_share": report.kept_share, "without_area": report.without_area},
    )
    session.add(build)
    session.flush()
    by_id = {t.id: t for t in queries.all_topics(session)}
    first_build = not any(t.status != TopicStatus.MERGED and not t.manual for t in by_id.values())
    for topic_id, update in plan.updates.items():
        topic = by_id[topic_id]
        for name, value in update.items():
            setattr(topic, name, value)
        topic.last_built = now
        topic.build_id = build.id
    for topic_id in plan.dormant:
        by_id[topic_id].status = TopicStatus.DORMANT
    key_to_id: dict[str, int] = {}
    for draft in plan.new:
        topic = Topic(
            slug=draft.slug,
            label=draft.label,
            kind=draft.kind,
            status=TopicStatus.ACTIVE if first_build else TopicStatus.EMERGING,
            keywords=list(draft.keywords),
            centroid=draft.centroid,
            assign_params=draft.assign_params,
            first_seen=now,
            last_built=now,
            created_at=now,
            build_id=build.id,
        )
        session.add(topic)
        session.flush()
        key_to_id[draft.key] = topic.id
    for child, parent in plan.parents.items():
        child_id = key_to_id[child] if isinstance(child, str) else child
        by_id.get(child_id, session.get(Topic, child_id)).parent_id = (  # type: ignore[union-attr]
            key_to_id[parent] if isinstance(parent, str) else parent
        )
    rows = plan.rows(key_to_id)
    queries.replace_all_assignments(session, rows)
    queries.mark_placed(
        session,
        plan.paper_ids,
        model=model_name,
        method="build",
        build_id=build.id,
        now=now,
        replace_all=True,
    )
    queries.refresh_sizes(session)
    session.flush()
    return build.id


def assign_new_papers(session: Session, *, model_name: str, now: datetime) -> AssignReport:
    """Place papers embedded since the last rebuild in the existing topics (nearest frozen centroids)."""
    started = time.perf_counter()
    report = AssignReport()
    topics = [t for t in queries.all_topics(session) if t.status in TopicStatus.live()]
    if not topics:
        report.note = "no topics yet: run `papertrend topics build` first"
        return report
    paper_ids, vectors = load_vectors(session, model_name, queries.unplaced_paper_ids(session, model_name))
    if not paper_ids:
        report.note = "no new papers to place"
        return report
    texts = queries.paper_texts(session, paper_ids)
    titles = [texts[pid][0] for pid in paper_ids]
    abstracts = [texts[pid][1] for pid in paper_ids]
    rows: dict[tuple[int, int], float] = {}
    clustered = [t for t in topics if not t.manual and t.centroid is not None]
    if clustered:
        drafts = frozen_drafts([stored_topic(t, set()) for t in clustered])
        placed = assign_to_topics(
            vectors, [f"{a}. {b}" for a, b in zip(titles, abstracts, strict=True)], drafts
        )
        for row, hits in enumerate(placed):
            for index, score in hits:
                key = (paper_ids[row], clustered[index].id)
                rows[key] = max(rows.get(key, 0.0), float(score))
    for topic in topics:
        if topic.manual:
            for row, score in keyword_members(titles, abstracts, topic.keywords or []):
                key = (paper_ids[row], topic.id)
                rows[key] = max(rows.get(key, 0.0), score)
    queries.delete_assignments_of_papers(session, paper_ids)
    report.assignments = queries.add_assignments(session, [(p, t, s) for (p, t), s in sorted(rows.items())])
    queries.mark_placed(session, paper_ids, model=model_name, method="assign", build_id=None, now=now)
    queries.refresh_sizes(session)
    session.flush()
    report.papers = len(paper_ids)
    report.without_topic = len(set(paper_ids) - {p for p, _ in rows})
    report.seconds = time.perf_counter() - started
    return report


def needs_rebuild(
    session: Session,
    *,
    now: datetime,
    every_days: int = REBUILD_EVERY_DAYS,
    growth: float = REBUILD_GROWTH,
    model_name: str | None = None,
) -> bool:
    """Whether the next topics step should rebuild rather than assign.

    Yes when there is no build yet (and something is embedded), when the last build is older than
    `every_days`, or when papers placed by assignment since then exceed `growth` of the last build.
    """
    last = queries.last_build(session)
    if last is None:
        return model_name is None or queries.count_embedded(session, model_name) > 0
    if model_name is not None and last.model != model_name:
        return True
    if now - last.finished_at >= timedelta(days=every_days):
        return True
    return queries.count_assigned_since_build(session) > growth * max(last.n_papers, 1)


__all__ += ["resolve_merged"]
