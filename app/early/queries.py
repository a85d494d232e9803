"""SQL of early trending: label facts, listings, paper inputs, model versions and predictions.

No commits. A paper's day is its announcement date, else its publication date (as on the
trending page); papers with neither are never labelled or scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.early.features import Listing, PaperFacts
from app.early.labels import LabelFacts, LabelRule
from app.embed.queries import vectors_for_papers
from app.embed.vectors import stack_blobs
from app.models import Embedding, Paper, TrendModelVersion, TrendPrediction

IN_CHUNK = 900


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def in_days(start: date, end: date) -> ColumnElement[bool]:
    """Papers whose day lies in [start, end)."""
    return or_(
        and_(Paper.announced_date >= start, Paper.announced_date < end),
        and_(
            Paper.announced_date.is_(None),
            Paper.published_at >= _start(start),
            Paper.published_at < _start(end),
        ),
    )


def _day(announced: date | None, published: datetime | None) -> date | None:
    return announced or (published.date() if published else None)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]


# Labels ---------------------------------------------------------------------------------------


def label_facts(session: Session, start: date, end: date) -> list[tuple[int, LabelFacts]]:
    """(paper id, label facts) of every paper whose day lies in [start, end), by day then id."""
    rows = session.execute(
        select(
            Paper.id, Paper.announced_date, Paper.published_at, Paper.hf_date, Paper.hf_listed, Paper.upvotes
        )
        .where(in_days(start, end), Paper.withdrawn.is_(False))
        .order_by(Paper.id)
    ).all()
    out = []
    for pid, announced, published, hf_date, hf_listed, upvotes in rows:
        day = _day(announced, published)
        if day is not None:
            out.append((int(pid), LabelFacts(day, hf_date, hf_listed, upvotes)))
    out.sort(key=lambda item: (item[1].day, item[0]))
    return out


def coverage(session: Session, cutoff: date) -> tuple[date, date] | None:
    """First and last Hugging Face listing day known before `cutoff`."""
    first, last = session.execute(
        select(func.min(Paper.hf_date), func.max(Paper.hf_date)).where(Paper.hf_date < cutoff)
    ).one()
    return (first, last) if first is not None and last is not None else None


def labelled_at(
    session: Session, rule: LabelRule, cutoff: date, *, since: date | None = None
) -> tuple[list[int], list[LabelFacts], list[int]]:
    """(paper ids, their facts, labels) of the papers labelled at `cutoff` (day from `since`)."""
    start = since or date(1990, 1, 1)
    end = cutoff - timedelta(days=rule.settle_days - 1)  # settled: day + settle_days <= cutoff
    span = coverage(session, cutoff)
    rows = label_facts(session, start, end)
    explicit = rule.explicit_days([fact for _, fact in rows])
    ids: list[int] = []
    facts: list[LabelFacts] = []
    labels: list[int] = []
    for pid, fact in rows:
        value = rule.label(fact, cutoff, span, explicit)
        if value is not None:
            ids.append(pid)
            facts.append(fact)
            labels.append(value)
    return ids, facts, labels


def listings(session: Session, rule: LabelRule, before: date) -> list[Listing]:
    """Featured papers whose listing was known before `before` (their authors feed the history)."""
    rows = session.execute(
        select(Paper.authors, Paper.announced_date, Paper.published_at, Paper.hf_date, Paper.hf_listed).where(
            or_(Paper.hf_date.is_not(None), Paper.hf_listed.is_(True))
        )
    ).all()
    out = []
    for authors, announced, published, hf_date, hf_listed in rows:
        day = _day(announced, published)
        if day is None:
            continue
        known = rule.featured_known(LabelFacts(day, hf_date, hf_listed))
        if known is not None and known < before:
            out.append(Listing(known, tuple(str(a) for a in authors or ())))
    return out


# Inputs ---------------------------------------------------------------------------------------


def paper_facts(session: Session, paper_ids: Sequence[int]) -> dict[int, PaperFacts]:
    out: dict[int, PaperFacts] = {}
    for chunk in _chunks(list(paper_ids)):
        rows = session.execute(
            select(
                Paper.id, Paper.announced_date, Paper.published_at, Paper.title, Paper.abstract,
                Paper.comment, Paper.authors, Paper.categories, Paper.primary_category,
            ).where(Paper.id.in_(chunk))
        ).all()  # fmt: skip
        for pid, announced, published, title, abstract, comment, authors, categories, primary in rows:
            day = _day(announced, published)
            if day is None:
                continue
            out[int(pid)] = PaperFacts(
                day=day,
                title=title or "",
                abstract=abstract or "",
                comment=comment,
                authors=tuple(str(a) for a in authors or ()),
                categories=tuple(str(c) for c in categories or ()),
                primary_category=primary,
            )
    return out


def vectors(session: Session, model_name: str, paper_ids: Sequence[int]) -> tuple[list[int], np.ndarray]:
    """(ids that have a vector, their vectors as float64 rows) in the order of `paper_ids`."""
    found = vectors_for_papers(session, model_name, paper_ids)
    ids = [pid for pid in paper_ids if pid in found]
    if not ids:
        return [], np.zeros((0, 0))
    dim = len(found[ids[0]]) // 4
    return ids, stack_blobs([found[pid] for pid in ids], dim).astype(np.float64)


# Models ---------------------------------------------------------------------------------------


def all_models(session: Session) -> list[TrendModelVersion]:
    return list(session.scalars(select(TrendModelVersion).order_by(TrendModelVersion.id)))


def model_by_name(session: Session, name: str) -> TrendModelVersion | None:
    return session.scalar(select(TrendModelVersion).where(TrendModelVersion.name == name))


def serving_models(session: Session, label: str) -> list[TrendModelVersion]:
    """Active models of this label, by cutoff then id (each serves from its cutoff to the next's)."""
    return list(
        session.scalars(
            select(TrendModelVersion)
            .where(TrendModelVersion.active.is_(True), TrendModelVersion.label == label)
            .order_by(TrendModelVersion.cutoff, TrendModelVersion.id)
        )
    )


@dataclass(frozen=True)
class Span:
    """The days one model scores: [start, end) (end None: open)."""

    model: TrendModelVersion
    start: date
    end: date | None


def spans(models: Sequence[TrendModelVersion]) -> list[Span]:
    """Which model scores which days: the newest model whose cutoff is not after the day."""
    best: dict[date, TrendModelVersion] = {}
    for model in models:  # by cutoff then id: a later id with the same cutoff wins
        best[model.cutoff] = model
    cutoffs = sorted(best)
    return [Span(best[c], c, cutoffs[i + 1] if i + 1 < len(cutoffs) else None) for i, c in enumerate(cutoffs)]


# Predictions ----------------------------------------------------------------------------------


def papers_to_score(
    session: Session, span: Span, embedding_model: str, *, after_id: int, limit: int
) -> list[int]:
    """Papers of the span's days with a vector and no prediction from the span's model (by id)."""
    end = span.end or date(9999, 1, 1)
    stmt = (
        select(Paper.id)
        .join(Embedding, and_(Embedding.paper_id == Paper.id, Embedding.model == embedding_model))
        .outerjoin(TrendPrediction, TrendPrediction.paper_id == Paper.id)
        .where(
            in_days(span.start, end),
            Paper.id > after_id,
            or_(TrendPrediction.paper_id.is_(None), TrendPrediction.model_id != span.model.id),
        )
        .order_by(Paper.id)
        .limit(limit)
    )
    return [int(pid) for pid in session.scalars(stmt)]


def count_to_score(session: Session, span: Span, embedding_model: str) -> int:
    end = span.end or date(9999, 1, 1)
    stmt = (
        select(func.count(Paper.id))
        .join(Embedding, and_(Embedding.paper_id == Paper.id, Embedding.model == embedding_model))
        .outerjoin(TrendPrediction, TrendPrediction.paper_id == Paper.id)
        .where(
            in_days(span.start, end),
            or_(TrendPrediction.paper_id.is_(None), TrendPrediction.model_id != span.model.id),
        )
    )
    return int(session.scalar(stmt) or 0)


def replace_predictions(session: Session, rows: Sequence[dict[str, object]]) -> None:
    ids = [int(r["paper_id"]) for r in rows]  # type: ignore[call-overload]
    for chunk in _chunks(ids):
        session.execute(delete(TrendPrediction).where(TrendPrediction.paper_id.in_(chunk)))
    if rows:
        session.execute(insert(TrendPrediction), list(rows))


def drop_stale_predictions(session: Session, label: str) -> int:
    """Remove predictions of a label the instance no longer uses (they answer another question) and
    of models the operator turned off (the serving model rescores those papers)."""
    other = select(TrendModelVersion.id).where(
        or_(TrendModelVersion.label != label, TrendModelVersion.active.is_(False))
    )
    result = session.execute(delete(TrendPrediction).where(TrendPrediction.model_id.in_(other)))
    return int(getattr(result, "rowcount", 0) or 0)


def prediction_counts(session: Session) -> dict[int, int]:
    rows = session.execute(select(TrendPrediction.model_id, func.count()).group_by(TrendPrediction.model_id))
    return {int(m): int(n) for m, n in rows}


def predictions(
    session: Session, paper_ids: Iterable[int]
) -> dict[int, tuple[TrendPrediction, TrendModelVersion]]:
    """Each paper's prediction with its model (papers without one are left out)."""
    ids = sorted(set(paper_ids))
    out: dict[int, tuple[TrendPrediction, TrendModelVersion]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(TrendPrediction, TrendModelVersion)
            .join(TrendModelVersion, TrendModelVersion.id == TrendPrediction.model_id)
            .where(TrendPrediction.paper_id.in_(chunk))
        ).all()
        for prediction, model in rows:
            out[prediction.paper_id] = (prediction, model)
    return out
