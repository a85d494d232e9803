"""Building due digests: who is due, what they get, and the Digest/DigestItem rows.

`build_due_digests` never commits. It returns plain `BuiltDigest` objects that the mail
layer renders into outbox rows in the same transaction, so a digest and its email are
created together or not at all.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.digest import queries, schedule
from app.digest.selection import Candidate, Pick, Pool, Profile, Vector, Weights, select
from app.models import Subscriber

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger("papertrend.digest")


class TextEncoder(Protocol):
    """What digest building needs of an encoder (app.embed.encoder provides it)."""

    @property
    def model_name(self) -> str: ...

    def encode(self, texts: list[str], *, batch_size: int = 32) -> Vector: ...


@dataclass(frozen=True)
class DigestOptions:
    first_days: int = 3  # a first digest looks back this many days of announcements
    model_name: str | None = None  # embedding model of the stored paper vectors
    quiet_note: bool = False  # mail a short note when new papers exist but none matched
    weights: Weights = field(default_factory=Weights)

    @classmethod
    def from_settings(cls, settings: Settings, model_name: str | None) -> DigestOptions:
        return cls(
            first_days=settings.digest_first_days, model_name=model_name, quiet_note=settings.quiet_day_note
        )


@dataclass
class BuiltItem:
    paper_id: int
    rank: int
    section: str
    reason: str
    score: float
    public_id: str
    title: str
    abstract: str
    authors: list[str]
    abs_url: str | None
    code_url: str | None
    upvotes: int | None
    topics: list[tuple[int, str, str]]  # (id, slug, label), strongest first


@dataclass
class BuiltDigest:
    digest_id: int
    subscriber_id: int
    email: str
    link_key: str
    period: str
    frequency: str
    kind: str  # digest | quiet
    subject: str
    heading: str
    items: list[BuiltItem]


@dataclass
class BuildReport:
    subscribers: int = 0
    due: int = 0
    already_built: int = 0
    built: int = 0
    quiet: int = 0
    nothing_new: int = 0
    items: int = 0
    interests_encoded: int = 0
    seconds: float = 0.0
    digests: list[BuiltDigest] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.built} digests built ({self.items} papers, {self.quiet} quiet notes) "
            f"for {self.due} due of {self.subscribers} subscribers; {self.already_built} already built, "
            f"{self.nothing_new} with nothing new; {self.seconds:.1f}s"
        )


@dataclass
class _Due:
    subscriber: Subscriber
    period: str
    local_now: datetime
    since_day: date
    since_ts: datetime | None


def build_due_digests(
    session: Session,
    *,
    now: datetime,
    options: DigestOptions,
    encoder: TextEncoder | None = None,
    load_vectors: VectorLoader | None = None,
    only_subscriber_ids: list[int] | None = None,
) -> BuildReport:
    """Create the digests of every subscriber whose send hour has come in their time zone."""
    started = time.perf_counter()
    report = BuildReport()
    subscribers = queries.mailable_subscribers(session, only_subscriber_ids)
    report.subscribers = len(subscribers)
    due = _due(subscribers, now, options.first_days)
    built = queries.built_periods(session, {d.period for d in due})
    report.already_built = sum((d.subscriber.id, d.period) in built for d in due)
    due = [d for d in due if (d.subscriber.id, d.period) not in built]
    report.due = len(due)
    if due:
        report.interests_encoded = _refresh_interests(
            [d.subscriber for d in due], encoder, options.model_name
        )
        planned = _plan(session, due, options, load_vectors, report)
        _write(session, planned, now, report)
    report.seconds = time.perf_counter() - started
    return report


def preview_digest(
    session: Session,
    subscriber: Subscriber,
    *,
    now: datetime,
    options: DigestOptions,
    encoder: TextEncoder | None = None,
    load_vectors: VectorLoader | None = None,
) -> BuiltDigest | None:
    """What the subscriber's next digest would hold right now; writes no digest."""
    local = schedule.local_time(now, subscriber.timezone)
    since_day, since_ts = schedule.candidate_window(now, subscriber.last_digest_at, options.first_days)
    due = _Due(subscriber, "preview", local, since_day, since_ts)
    _refresh_interests([subscriber], encoder, options.model_name)
    planned = _plan(session, [due], options, load_vectors, BuildReport())
    return planned[0][0] if planned else None


def _plan(
    session: Session,
    due: list[_Due],
    options: DigestOptions,
    load_vectors: VectorLoader | None,
    report: BuildReport,
) -> list[tuple[BuiltDigest, _Due]]:
    since_day = min(d.since_day for d in due)
    since_ts = min((d.since_ts for d in due if d.since_ts is not None), default=None)
    papers = queries.pool_papers(session, since_day - timedelta(days=7) if since_ts else since_day, since_ts)
    paper_ids = [p.id for p in papers]
    topics = queries.visible_topics(session)
    paper_topics = queries.paper_topics(session, paper_ids, set(topics))
    trending = queries.trending_scores(session, paper_ids, ("day", "week", "month"))
    feedback = queries.feedback(session)
    wanted = set(paper_ids) | {pid for rows in feedback.values() for _, pid, _ in rows if pid is not None}
    vectors = _vectors(session, load_vectors, options.model_name, sorted(wanted))
    pool = Pool(
        [
            Candidate(
                paper_id=p.id,
                title=p.title,
                text=f"{p.title} {p.abstract}",
                topics=paper_topics.get(p.id, {}),
                trending=trending.get(p.id),
                recency=float(p.day.toordinal()) if p.day else 0.0,
                upvotes=p.upvotes,
            )
            for p in papers
        ],
        _matrix(paper_ids, vectors),
    )
    sent = queries.already_sent(session, paper_ids)
    chosen_topics = queries.subscriber_topics(session)
    liked_ids = {pid for rows in feedback.values() for k, pid, _ in rows if pid and k in ("more", "seed")}
    liked_titles = queries.titles(session, sorted(liked_ids))
    labels = {tid: t.label for tid, t in topics.items()}
    by_id = {p.id: p for p in papers}

    topics_of: dict[int, list[tuple[int, str, str]]] = {}

    def item(pick: Pick) -> BuiltItem:
        paper = by_id[pick.paper_id]
        if paper.id not in topics_of:
            ordered = sorted(paper_topics.get(paper.id, {}).items(), key=lambda kv: (-kv[1], kv[0]))
            topics_of[paper.id] = [(tid, topics[tid].slug, topics[tid].label) for tid, _ in ordered[:3]]
        return BuiltItem(
            paper_id=paper.id,
            rank=pick.rank,
            section=pick.section,
            reason=pick.reason,
            score=pick.score,
            public_id=paper.public_id,
            title=paper.title,
            abstract=paper.abstract,
            authors=paper.authors,
            abs_url=paper.abs_url,
            code_url=paper.code_url,
            upvotes=paper.upvotes,
            topics=topics_of[paper.id],
        )

    days = np.array([p.day.toordinal() if p.day else 0 for p in papers], dtype=np.int64)
    ingested = np.array([p.created_at.timestamp() for p in papers], dtype=np.float64)
    windows: dict[tuple[int, float | None], npt.NDArray[np.int64]] = {}

    planned = []
    for d in due:
        sub = d.subscriber
        key = (d.since_day.toordinal(), d.since_ts.timestamp() if d.since_ts else None)
        if key not in windows:  # most subscribers share a window (same last digest time)
            windows[key] = _new_papers(days, ingested, *key)
        eligible = windows[key]
        seen = sent.get(sub.id)
        if seen:
            eligible = eligible[~np.isin(pool.paper_ids[eligible], list(seen))]
        if not eligible.size:
            report.nothing_new += 1  # no announcements since the last digest: no email
            continue
        profile = _profile(
            sub, chosen_topics.get(sub.id, set()), feedback.get(sub.id, []), vectors, liked_titles
        )
        picks = select(profile, pool, eligible, labels, options.weights)
        if not picks and not options.quiet_note:
            report.nothing_new += 1
            continue
        kind = "digest" if picks else "quiet"
        built = BuiltDigest(
            digest_id=0,
            subscriber_id=sub.id,
            email=sub.email,
            link_key=sub.link_key,
            period=d.period,
            frequency=sub.frequency,
            kind=kind,
            subject=_subject(kind, picks, labels),
            heading=_heading(kind, d),
            items=[item(p) for p in picks],
        )
        planned.append((built, d))
    return planned


def _write(
    session: Session, planned: list[tuple[BuiltDigest, _Due]], now: datetime, report: BuildReport
) -> None:
    rows = [
        {
            "subscriber_id": b.subscriber_id,
            "period": b.period,
            "frequency": b.frequency,
            "kind": b.kind,
            "subject": b.subject,
            "item_count": len(b.items),
            "created_at": now,
        }
        for b, _ in planned
    ]
    ids = queries.insert_digests(session, rows)
    item_rows = []
    for built, d in planned:
        if built.subscriber_id not in ids:
            report.already_built += 1  # built concurrently by another process
            continue
        built.digest_id = ids[built.subscriber_id]
        d.subscriber.last_digest_at = now
        item_rows += [
            {
                "digest_id": built.digest_id,
                "paper_id": it.paper_id,
                "rank": it.rank,
                "score": it.score,
                "reason": it.reason[:300],
                "section": it.section,
            }
            for it in built.items
        ]
        report.built += built.kind == "digest"
        report.quiet += built.kind == "quiet"
        report.items += len(built.items)
        report.digests.append(built)
    queries.insert_items(session, item_rows)
    session.flush()


class VectorLoader(Protocol):
    def __call__(
        self, session: Session, model_name: str, paper_ids: list[int]
    ) -> tuple[list[int], Vector]: ...


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch allocates many small acyclic objects (digests,
    items, rows): full collections would rescan them again and again (a fifth of a build's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _due(subscribers: list[Subscriber], now: datetime, first_days: int) -> list[_Due]:
    out = []
    for sub in subscribers:
        local = schedule.local_time(now, sub.timezone)
        if not schedule.is_due(sub.frequency, sub.send_hour, local):
            continue
        since_day, since_ts = schedule.candidate_window(now, sub.last_digest_at, first_days)
        out.append(_Due(sub, schedule.period_key(sub.frequency, local), local, since_day, since_ts))
    return out


def _new_papers(
    days: npt.NDArray[np.int64], ingested: npt.NDArray[np.float64], since_day: int, since_ts: float | None
) -> npt.NDArray[np.int64]:
    """Pool rows announced after `since_day`, or ingested after `since_ts` though announced a little
    earlier (a late or retried ingest is not lost; a backfill of old papers is not mailed)."""
    mask = days > since_day
    if since_ts is not None:
        mask |= (ingested > since_ts) & (days > since_day - 7)
    return np.flatnonzero(mask)


def _refresh_interests(subscribers: list[Subscriber], encoder: TextEncoder | None, model: str | None) -> int:
    if encoder is None:
        return 0
    stale = [
        s for s in subscribers if s.interest_text and (s.interest_vector is None or s.interest_model != model)
    ]
    if not stale:
        return 0
    matrix = encoder.encode([s.interest_text or "" for s in stale])
    for sub, row in zip(stale, matrix, strict=True):
        sub.interest_vector = np.asarray(row, dtype=np.float32).tobytes()
        sub.interest_model = encoder.model_name
    return len(stale)


def _vectors(
    session: Session, loader: VectorLoader | None, model: str | None, paper_ids: list[int]
) -> dict[int, Vector]:
    if loader is None or model is None or not paper_ids:
        return {}
    ids, matrix = loader(session, model, paper_ids)
    return {pid: matrix[i] for i, pid in enumerate(ids)}


def _matrix(paper_ids: list[int], vectors: dict[int, Vector]) -> Vector | None:
    if not vectors:
        return None
    dim = len(next(iter(vectors.values())))
    out = np.zeros((len(paper_ids), dim), dtype=np.float32)
    for i, pid in enumerate(paper_ids):
        if pid in vectors:
            out[i] = vectors[pid]
    return out


def _profile(
    sub: Subscriber,
    topic_ids: set[int],
    feedback: list[tuple[str, int | None, int | None]],
    vectors: dict[int, Vector],
    liked_titles: dict[int, str],
) -> Profile:
    interest = None
    if sub.interest_vector:
        vec = np.frombuffer(sub.interest_vector, dtype=np.float32)
        if vectors and len(vec) == len(next(iter(vectors.values()))):
            interest = vec
    muted = frozenset(t for k, _, t in feedback if k == "mute" and t is not None)
    liked = [
        (vectors[p], liked_titles.get(p, ""))
        for k, p, _ in feedback
        if k in ("more", "seed") and p in vectors
    ]
    disliked = [vectors[p] for k, p, _ in feedback if k == "less" and p in vectors]
    return Profile(
        topic_ids=frozenset(topic_ids) - muted,
        muted_topic_ids=muted,
        keywords=tuple(sub.keywords or ()),
        interest=interest,
        interest_label=sub.interest_text or "",
        liked=liked,
        disliked=disliked,
        max_papers=sub.max_papers,
        include_trending=sub.include_trending,
    )


def _heading(kind: str, d: _Due) -> str:
    label = schedule.period_label(d.subscriber.frequency, d.local_now)
    return f"Nothing new for you · {label}" if kind == "quiet" else f"Your papers · {label}"


def _subject(kind: str, picks: list[Pick], labels: dict[int, str]) -> str:
    if kind == "quiet":
        return "No new papers for you this time"
    main = [p for p in picks if p.section == "for_you"]
    names: list[str] = []
    for pick in main:
        label = labels.get(pick.topic_id) if pick.topic_id is not None else None
        if label and label not in names:
            names.append(label)
    count = len(main) or len(picks)
    lead = f"{count} new paper{'s' if count != 1 else ''}"
    if names:
        lead += ": " + ", ".join(names[:3]) + (" and more" if len(names) > 3 else "")
    return lead[:200]
