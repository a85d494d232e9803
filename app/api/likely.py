"""GET /likely (a day's new papers by their chance to trend) and /trend-model (the model behind it)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import AliasChoices, BaseModel, Field
from sqlalchemy.orm import Session

from app.api import convert, schemas
from app.api.common import ERROR_RESPONSES, IsoDate, add_preflight, cached_json
from app.browse.likely import ModelCard, likely, serving_card
from app.early.labels import LabelRule
from app.http import NowDep, SettingsDep, SiteUrlDep

router = APIRouter(tags=["trending"], responses=ERROR_RESPONSES)


# Read from a `Measured`: a field named otherwise there gives that name as its second alias.
class Accuracy(BaseModel):
    predictor: str = Field(validation_alias=AliasChoices("predictor", "name"), examples=["this model"])
    auc: float | None = Field(description="ROC AUC on held-out papers.", examples=[0.87])
    average_precision: float | None = None
    precision_at_10: float | None = Field(
        description="Share of each day's 10 most likely papers that were featured, averaged over days."
    )
    brier: float | None = Field(description="Mean squared error of the probabilities (lower is better).")
    papers: int
    positives: int


# Read from a `ModelCard`, like `Accuracy`.
class TrendModel(BaseModel):
    name: str = Field(examples=["bundled-2025-04-21"])
    kind: str = Field(description="`bundled` (the starting model) or `trained` (this site's own).")
    label: str = Field(examples=["featured on Hugging Face Daily Papers"])
    cutoff: dt.date = Field(
        description="Learned only labels known before this day; scores papers from it on."
    )
    train_from: dt.date | None
    train_to: dt.date | None
    n_train: int
    n_positive: int
    inputs: list[str]
    evaluation_method: str | None = Field(
        validation_alias=AliasChoices("evaluation_method", "eval_method"),
        description="`holdout`: trained once, scored the following days.",
    )
    evaluated_from: dt.date | None = Field(validation_alias=AliasChoices("evaluated_from", "eval_from"))
    evaluated_to: dt.date | None = Field(validation_alias=AliasChoices("evaluated_to", "eval_to"))
    accuracy: list[Accuracy] = Field(
        validation_alias=AliasChoices("accuracy", "evaluated"),
        description="The model first, then the reference baselines.",
    )


class LikelyPage(BaseModel):
    date: dt.date | None = Field(description="The day of the papers; null when nothing is estimated yet.")
    total: int
    page: int
    per_page: int
    model: TrendModel | None
    items: list[schemas.Paper] = Field(description="Most likely first; each has `trend_prediction`.")


def _model(card: ModelCard) -> TrendModel:
    return TrendModel.model_validate(card, from_attributes=True)


@router.get("/likely", response_model=LikelyPage, summary="New papers by their chance to trend")
async def likely_papers(
    request: Request,
    site: SiteUrlDep,
    current: NowDep,
    settings: SettingsDep,
    day: IsoDate | None = Query(None, alias="date", description="Announcement day; default: the latest."),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(20, ge=1, le=100),
) -> Response:
    """A day's papers by `trend_probability`, estimated on the announcement morning, most likely first."""
    key = LabelRule(min_upvotes=settings.early_label_upvotes).key

    def build(session: Session) -> LikelyPage:
        result = likely(session, day=day, page=page, per_page=per_page, today=current.date(), label_key=key)
        return LikelyPage(
            date=result.day,
            total=result.total,
            page=result.page,
            per_page=result.per_page,
            model=_model(result.model) if result.model else None,
            items=[convert.paper(c, site) for c in result.cards],
        )

    return await cached_json(request, ("likely", day, page, per_page, key, current.date()), build)


@router.get("/trend-model", response_model=TrendModel, summary="The early-trending model in use")
async def trend_model(request: Request, settings: SettingsDep) -> Response:
    """Training window, inputs and measured accuracy (against the baselines) of the serving model."""
    key = LabelRule(min_upvotes=settings.early_label_upvotes).key

    def build(session: Session) -> TrendModel:
        card = serving_card(session, key)
        if card is None:
            raise HTTPException(404, "No early-trending model serves yet.")
        return _model(card)

    return await cached_json(request, ("trend-model", key), build)


add_preflight(router)
