"""From read models (app.browse.types) to API shapes (app.api.schemas)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.api import schemas
from app.browse.types import PaperCard, TopicChip, TopicMomentum, TrendChance, WeekPoint


def topic_ref(topic: TopicChip) -> schemas.TopicRef:
    return schemas.TopicRef(
        slug=topic.slug, label=topic.label, kind=topic.kind, score=topic.score, parent=topic.parent_slug
    )


def paper(card: PaperCard, site: str) -> schemas.Paper:
    return schemas.Paper(
        id=card.public_id,
        arxiv_id=card.arxiv_id,
        version=card.arxiv_version,
        title=card.title,
        authors=list(card.authors),
        abstract=card.abstract,
        summary=card.summary,
        categories=list(card.categories),
        primary_category=card.primary_category,
        published_at=card.published_at,
        updated_at=card.updated_at,
        announced_date=card.announced_date,
        links=schemas.PaperLinks(
            page=f"{site}/papers/{card.public_id}",
            abs=card.abs_url,
            pdf=card.pdf_url,
            code=card.code_url,
            project=card.project_url,
            huggingface=card.hf_url,
        ),
        upvotes=card.upvotes,
        comments=card.comments_count,
        github_stars=card.github_stars,
        topics=[topic_ref(t) for t in card.topics],
        trend_probability=card.trend.probability if card.trend else None,
        trend_prediction=trend_prediction(card.trend) if card.trend else None,
    )


def trend_prediction(chance: TrendChance) -> schemas.TrendPrediction:
    return schemas.TrendPrediction.model_validate(chance, from_attributes=True)


def _numbers(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): float(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def score_parts(components: dict[str, Any]) -> schemas.ScoreParts:
    parts = components.get("parts")
    if not isinstance(parts, dict):  # an older flat {name: number} dict
        parts = components
    detail = components.get("detail")
    return schemas.ScoreParts(
        parts=_numbers(parts),
        values=_numbers(components.get("values")),
        detail=dict(detail) if isinstance(detail, dict) else {},
    )


def week(point: WeekPoint) -> schemas.WeekCount:
    return schemas.WeekCount.model_validate(point, from_attributes=True)


def topic_facts(
    topic: TopicChip, parent: TopicChip | None, size: int, keywords: Iterable[str]
) -> dict[str, Any]:
    """The fields every topic shape of the API (a list's summary, the topic's own page) says of it."""
    return {
        "slug": topic.slug,
        "label": topic.label,
        "kind": topic.kind,
        "parent": parent.slug if parent else topic.parent_slug,
        "status": topic.status,
        "size": size,
        "momentum": topic.momentum,
        "trend_state": topic.trend_state,
        "keywords": list(keywords),
    }


def topic_summary(item: TopicMomentum) -> schemas.TopicSummary:
    return schemas.TopicSummary(
        **topic_facts(item.topic, item.parent, item.size, item.keywords),
        subtopics=item.subtopics,
        pinned=item.pinned,
        week_count=item.week_count,
        weekly=list(item.weekly),
    )
