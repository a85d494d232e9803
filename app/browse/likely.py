"""The "Likely to trend" list: a day's new papers by their early-trending probability, and the
facts about the model behind them (for the list's header, /about and the API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.browse.cards import cards_for
from app.browse.trending import in_days, up_to_today
from app.browse.types import PaperCard
from app.early import queries
from app.models import Paper, TrendModelVersion, TrendPrediction

MAX_PER_PAGE = 100
BASELINE_NAMES = {
    "vector": "the paper's text vector alone",
    "authors": "the number of authors alone",
    "code": "code or a project mentioned in the comment",
}


@dataclass(frozen=True)
class Measured:
    """One evaluation line: how well a predictor did on held-out days."""

    name: str
    auc: float | None
    average_precision: float | None
    precision_at_10: float | None
    brier: float | None
    papers: int
    positives: int


@dataclass(frozen=True)
class ModelCard:
    name: str
    kind: str  # bundled | trained
    label: str
    cutoff: date
    train_from: date | None
    train_to: date | None
    n_train: int
    n_positive: int
    inputs: tuple[str, ...]
    eval_method: str | None
    eval_from: date | None
    eval_to: date | None
    measured: Measured | None
    baselines: tuple[Measured, ...] = ()
    source: str = ""
    rolling: tuple[Measured, ...] = ()  # the bundled model's benchmark replay, when stored

    @property
    def evaluated(self) -> list[Measured]:
        """The accuracy table's rows: the model's own measurement first, then the baselines."""
        return ([self.measured] if self.measured else []) + list(self.baselines)


@dataclass(frozen=True)
class LikelyResult:
    day: date | None
    cards: list[PaperCard]
    total: int
    page: int
    per_page: int
    prev_day: date | None = None
    next_day: date | None = None
    latest_day: date | None = None
    model: ModelCard | None = None
    reliability: dict[str, int] = field(default_factory=dict)  # level -> papers of the day

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def label_words(key: str) -> str:
    if key.startswith("upvotes>="):
        return f"featured on Hugging Face Daily Papers with at least {key.removeprefix('upvotes>=')} upvotes"
    return "featured on Hugging Face Daily Papers"


def _measured(name: str, scores: Any) -> Measured | None:
    if not isinstance(scores, dict):
        return None
    return Measured(
        name=name,
        auc=scores.get("auc"),
        average_precision=scores.get("average_precision"),
        precision_at_10=scores.get("precision_at_k"),
        brier=scores.get("brier"),
        papers=int(scores.get("n") or 0),
        positives=int(scores.get("positives") or 0),
    )


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def card_of(model: TrendModelVersion) -> ModelCard:
    ev = model.evaluation or {}
    baselines = [
        m
        for name, s in (ev.get("baselines") or {}).items()
        if (m := _measured(BASELINE_NAMES.get(name, name), s))
    ]
    rolling = [
        m for name, s in (ev.get("rolling") or {}).items() if (m := _measured(name.replace("**", ""), s))
    ]
    return ModelCard(
        name=model.name,
        kind=model.kind,
        label=label_words(model.label),
        cutoff=model.cutoff,
        train_from=model.train_from,
        train_to=model.train_to,
        n_train=model.n_train,
        n_positive=model.n_positive,
        inputs=tuple(model.features),
        eval_method=ev.get("method"),
        eval_from=_day(ev.get("test_from")),
        eval_to=_day(ev.get("test_to")),
        measured=_measured("this model", ev.get("model")),
        baselines=tuple(baselines),
        source=str((model.document or {}).get("source") or ""),
        rolling=tuple(rolling),
    )


def serving_card(session: Session, label_key: str) -> ModelCard | None:
    """The newest model serving this label (it scores today's papers), as a card."""
    serving = queries.serving_models(session, label_key)
    return card_of(serving[-1]) if serving else None


def _latest_scored_day(session: Session, today: date | None) -> date | None:
    stmt = select(func.max(Paper.announced_date)).join(TrendPrediction, TrendPrediction.paper_id == Paper.id)
    if today is not None:
        stmt = stmt.where(Paper.announced_date <= today)
    found: date | None = session.scalar(stmt)
    return found


def _neighbour(session: Session, day: date, *, before: bool) -> date | None:
    column = Paper.announced_date
    stmt = select(func.max(column) if before else func.min(column)).join(
        TrendPrediction, TrendPrediction.paper_id == Paper.id
    )
    stmt = stmt.where(column < day) if before else stmt.where(column > day)
    found: date | None = session.scalar(stmt)
    return found


def likely(
    session: Session,
    *,
    day: date | None = None,
    page: int = 1,
    per_page: int = 20,
    today: date | None = None,
    label_key: str = "featured",
) -> LikelyResult:
    """The papers of `day` (default: the latest day with predictions) by probability, best first."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    latest = _latest_scored_day(session, today)
    anchor = day or latest
    model = serving_card(session, label_key)
    if anchor is None:
        return LikelyResult(None, [], 0, page, per_page, model=model)
    where = and_(in_days(anchor, anchor), Paper.withdrawn.is_(False))
    joined = select(Paper, TrendPrediction.probability).join(
        TrendPrediction, TrendPrediction.paper_id == Paper.id
    )
    total = int(
        session.scalar(
            select(func.count(Paper.id))
            .join(TrendPrediction, TrendPrediction.paper_id == Paper.id)
            .where(where)
        )
        or 0
    )
    rows = session.execute(
        joined.where(where)
        .order_by(TrendPrediction.probability.desc(), Paper.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    cards = cards_for(session, [row[0] for row in rows], first_rank=(page - 1) * per_page + 1)
    levels = dict(
        session.execute(
            select(TrendPrediction.reliability, func.count())
            .join(Paper, Paper.id == TrendPrediction.paper_id)
            .where(where)
            .group_by(TrendPrediction.reliability)
        ).all()
    )
    return LikelyResult(
        day=anchor,
        cards=cards,
        total=total,
        page=page,
        per_page=per_page,
        prev_day=_neighbour(session, anchor, before=True),
        next_day=up_to_today(_neighbour(session, anchor, before=False), today),
        latest_day=latest,
        model=model,
        reliability={str(k): int(v) for k, v in levels.items()},
    )
