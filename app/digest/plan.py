"""Planning digests: what each due subscriber gets, without writing anything.

Reads the candidate pool once for every due subscriber (papers, topics, trending scores,
feedback, stored vectors), then ranks per subscriber with the pure `selection` module and
returns `BuiltDigest` objects with their subject and heading. Writing them is the service's job,
so a preview can use the same plan.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.digest import queries, schedule
from app.digest.built import BuildReport, BuiltDigest, BuiltItem, DigestOptions, VectorLoader
from app.digest.due import Due
from app.digest.profiles import MarkedPaper, Told, TopicKind, dedupe, make_profile, vector_of
from app.digest.selection import Candidate, NamedInterest, Pick, Pool, Vector, select
from app.early.queries import predictions
from app.models import Subscriber, SubscriberInterest


def plan(
    session: Session,
    due: list[Due],
    options: DigestOptions,
    load_vectors: VectorLoader | None,
    report: BuildReport,
) -> list[tuple[BuiltDigest, Due]]:
    """The digest of each due subscriber who has something new; the others count as `nothing_new`."""
    now = due[0].local_now.astimezone(UTC)
    since_day = min(d.since_day for d in due)
    since_ts = min((d.since_ts for d in due if d.since_ts is not None), default=None)
    papers = queries.pool_papers(
        session, since_day - timedelta(days=7) if since_ts else since_day, since_ts, now
    )
    paper_ids = [p.id for p in papers]
    topics = queries.visible_topics(session)
    paper_topics = queries.paper_topics(session, paper_ids, set(topics))
    trending = queries.trending_scores(session, paper_ids, ("day", "week", "month"))
    feedback = queries.feedback(session)
    chances = {pid: pred for pid, (pred, _) in predictions(session, paper_ids).items()}
    marked_ids = {pid for rows in feedback.values() for k, pid, _ in rows if pid is not None and k != "mute"}
    wanted = set(paper_ids) | marked_ids
    vectors = _vectors(session, load_vectors, options.model_name, sorted(wanted))
    kinds = {tid: TopicKind(t.kind, t.parent_id) for tid, t in topics.items()}
    pool = Pool(
        [
            Candidate(
                paper_id=p.id,
                title=p.title,
                text=f"{p.title} {p.abstract}",
                abstract=p.abstract,
                authors=tuple(p.authors),
                topics=paper_topics.get(p.id, {}),
                trending=trending.get(p.id),
                recency=float(p.day.toordinal()) if p.day else 0.0,
                upvotes=p.upvotes,
                likely=chances[p.id].probability if p.id in chances else None,
                likely_why=str((chances[p.id].reasons or [{}])[0].get("text") or "")
                if p.id in chances
                else "",
            )
            for p in papers
        ],
        _matrix(paper_ids, vectors),
        parents={tid: k.parent_id for tid, k in kinds.items() if k.parent_id is not None},
    )
    sent = queries.already_sent(session, paper_ids)
    chosen_topics = queries.subscriber_topics(session)
    named = queries.named_interests(session, [d.subscriber.id for d in due])
    marked_rows = queries.marked_papers(session, sorted(marked_ids))
    marked_topics = queries.paper_topics(session, sorted(marked_ids - set(paper_ids)), set(topics))
    marked = {
        pid: MarkedPaper(
            row.title,
            tuple(row.authors),
            dict(paper_topics.get(pid) or marked_topics.get(pid) or {}),
            row.abstract,
        )
        for pid, row in marked_rows.items()
    }
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
            day=paper.day,
            day_kind=paper.day_kind,
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
        interests = named.get(sub.id, [])
        told = told_of(sub, chosen_topics.get(sub.id, set()), feedback.get(sub.id, []), interests)
        profile = make_profile(told, kinds, vectors, marked, options.weights.area_weight)
        picks = select(profile, pool, eligible, labels, options.weights)
        if not picks and not (options.quiet_note or sub.quiet_note):
            report.nothing_new += 1  # nothing relevant and no note wanted: no email, never filler
            continue
        kind = "digest" if picks else "quiet"
        items = [item(p) for p in picks]
        sections = {f"i:{i.id}": i.name for i in interests}
        built = BuiltDigest(
            digest_id=0,
            subscriber_id=sub.id,
            email=sub.email,
            link_key=sub.link_key,
            period=d.period,
            frequency=sub.frequency,
            kind=kind,
            subject=_subject(kind, picks, labels, sections),
            heading=_heading(kind, d),
            items=items,
            note=_first_note(items) if d.first else "",
            sections=sections,
        )
        planned.append((built, d))
    return planned


def told_of(
    sub: Subscriber,
    topic_ids: set[int],
    feedback: list[tuple[str, int | None, int | None]],
    interests: list[SubscriberInterest],
) -> Told:
    """What one subscriber row (and its rows around it) told us, as plain values."""
    return Told(
        topic_ids=frozenset(topic_ids),
        keywords=dedupe(sub.keywords or ()),
        exclude=dedupe(sub.exclude_keywords or ()),
        interest_text=sub.interest_text or "",
        interest=vector_of(sub.interest_vector) if sub.interest_text else None,
        authors=dedupe(sub.authors or ()),
        feedback=tuple(feedback),
        interests=tuple(
            NamedInterest(
                key=f"i:{i.id}",
                name=i.name,
                keywords=dedupe(i.keywords or ()),
                text=i.interest_text or "",
                vector=vector_of(i.interest_vector) if i.interest_text else None,
            )
            for i in interests
        ),
        max_papers=sub.max_papers,
        include_trending=sub.include_trending,
        include_likely=sub.include_likely,
    )


def _new_papers(
    days: npt.NDArray[np.int64], ingested: npt.NDArray[np.float64], since_day: int, since_ts: float | None
) -> npt.NDArray[np.int64]:
    """Pool rows announced after `since_day`, or ingested after `since_ts` though announced a little
    earlier (a late or retried ingest is not lost; a backfill of old papers is not mailed)."""
    mask = days > since_day
    if since_ts is not None:
        mask |= (ingested > since_ts) & (days > since_day - 7)
    return np.flatnonzero(mask)


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


def _heading(kind: str, d: Due) -> str:
    label = schedule.period_label(d.subscriber.frequency, d.local_now)
    return f"Nothing new for you · {label}" if kind == "quiet" else f"Your papers · {label}"


def _first_note(items: list[BuiltItem]) -> str:
    """What a first digest covers: the latest days with papers, which may lie some time back."""
    days = sorted({it.day for it in items if it.day is not None})
    if not days:
        return ""
    first, last = days[0], days[-1]
    if first == last:
        span = schedule.long_date(last)
    elif first.year == last.year:
        span = f"{first.day} {first:%B} – {schedule.long_date(last)}"
    else:
        span = f"{schedule.long_date(first)} – {schedule.long_date(last)}"
    return f"Your first digest: the newest papers we have for you, from {span}."


def _subject(kind: str, picks: list[Pick], labels: dict[int, str], sections: dict[str, str]) -> str:
    """Counts only the papers picked for the subscriber (never the trending or likely extras)."""
    if kind == "quiet":
        return "No new papers for you this time"
    main = [p for p in picks if p.section == "for_you" or p.section in sections]
    names: list[str] = []
    for pick in main:
        label = sections.get(pick.section) or (
            labels.get(pick.topic_id) if pick.topic_id is not None else None
        )
        if label and label not in names:
            names.append(label)
    count = len(main)
    lead = f"{count} new paper{'s' if count != 1 else ''}"
    if names:
        lead += ": " + ", ".join(names[:3]) + (" and more" if len(names) > 3 else "")
    return lead[:200]
