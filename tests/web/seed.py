"""A small, fully known dataset for the site, API and feed tests, written through the models.

Reference day: Wednesday 25 Nov 2026. Three visible topics (two areas, one technique), one
hidden and one merged topic; papers over the last five weeks with upvotes, code links,
LaTeX in abstracts and one hostile title; trending scores for each window; daily counts;
job runs and source watermarks for the status page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.models import (
    JobRun,
    Paper,
    PaperScore,
    PaperTopic,
    PhraseTrend,
    SourceState,
    Subscriber,
    Topic,
    TopicDailyCount,
)
from app.topics.trending import TrendParams, topic_trend
from tests.factories import make_paper

REF_DAY = date(2026, 11, 25)
HOSTILE_TITLE = '<script>alert("x")</script> Robust <b>bold</b> & fast'


@dataclass
class Seeded:
    topics: dict[str, int] = field(default_factory=dict)  # slug -> id
    papers: dict[str, int] = field(default_factory=dict)  # arxiv id -> id
    ref_day: date = REF_DAY


def _trend(before: float, after: float) -> dict[str, object]:
    """What the trends step stores for a topic whose weekly share went from `before` to `after`."""
    totals = [1000] * TrendParams().history_weeks
    counts = [round(1000 * before)] * (len(totals) - 13) + [round(1000 * after)] * 13
    return {**topic_trend(counts, totals, end=REF_DAY).as_dict(), "as_of": REF_DAY.isoformat()}


RISING_TREND = _trend(0.034, 0.099)
FALLING_TREND = _trend(0.12, 0.05)

TOPICS = [
    # slug, label, kind, momentum, trend_state, keywords, extra
    ("quantization", "Quantization of large language models", "technique", 2.8, "rising",
     ["quantization", "int8", "low-bit", "weights", "activations"], {"trend": RISING_TREND}),
    ("representation-learning", "Representation learning", "area", 0.4, "steady",
     ["representation", "contrastive", "self-supervised", "embeddings"], {}),
    ("diffusion-models", "Diffusion models", "area", -1.2, "falling",
     ["diffusion", "denoising", "score", "image generation"], {"trend": FALLING_TREND}),
    ("secret-topic", "Hidden operator topic", "area", 5.0, "bursting", ["hidden"], {"hidden": True}),
    ("old-quant", "Old quantization topic", "technique", 0.0, "steady", ["int4"], {"status": "merged"}),
]  # fmt: skip


def _paper(i: int, day: date, *, title: str, abstract: str, **extra: object) -> Paper:
    arxiv_id = f"2611.{10000 + i:05d}"
    published = datetime.combine(day - timedelta(days=1), time(17, 0), tzinfo=UTC) + timedelta(minutes=i)
    fields: dict[str, object] = {
        "arxiv_version": 1,
        "authors": [f"Author {i}A", f"Author {i}B", f"Author {i}C", f"Author {i}D"][: 1 + i % 4],
        "categories": ["cs.LG", "cs.CL"] if i % 2 else ["cs.CV"],
        "published_at": published,
        "updated_at_source": published,
        "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}",
        "text_hash": f"{i:064d}",
        "raw": {"arxiv_api": {"id": arxiv_id}},
    }
    fields.update(extra)
    return make_paper(title, abstract, arxiv_id=arxiv_id, day=day, **fields)


def seed(session: Session, *, scores: bool = True, with_ops: bool = True) -> Seeded:
    out = Seeded()
    for slug, label, kind, momentum, state, keywords, extra in TOPICS:
        topic = Topic(
            slug=slug,
            label=label,
            kind=kind,
            momentum=momentum,
            trend_state=state,
            keywords=keywords,
            size=0,
            **extra,
        )
        session.add(topic)
        session.flush()
        out.topics[slug] = topic.id
    merged = session.get(Topic, out.topics["old-quant"])
    assert merged is not None
    merged.merged_into_id = out.topics["quantization"]

    specs: list[tuple[date, str, str, list[str], dict[str, object]]] = []
    # Today's papers (the reference day): quantization is hot.
    zeroquant = {
        "upvotes": 42,
        "code_url": "https://github.com/example/zeroquant",
        "github_stars": 1200,
        "hf_date": REF_DAY,
        "raw": {"hf_daily": {"paper": {"ai_summary": "FP formats beat INT."}}},
    }
    specs += [
        (
            REF_DAY,
            "ZeroQuant-FP: floating point W4A8 quantization of LLMs",
            r"We quantize weights to $4$ bits with error $O(n^2)$ and $\alpha \leq 0.5$ using \emph{FP8}.",
            ["quantization"],
            zeroquant,
        ),
        (
            REF_DAY,
            "LLM.int8(): 8-bit matrix multiplication for transformers at scale",
            "Outlier features make int8 inference hard; we keep them in 16 bits.",
            ["quantization"],
            {"upvotes": 7},
        ),
        (
            REF_DAY,
            "Contrastive embeddings for retrieval",
            "Self-supervised representation learning for search.",
            ["representation-learning", "quantization"],
            {},
        ),
        (
            REF_DAY,
            HOSTILE_TITLE,
            "An abstract with <i>markup</i> & an ampersand.",
            ["representation-learning"],
            {},
        ),
    ]
    # Earlier days this week and this month.
    for n in range(1, 30):
        day = REF_DAY - timedelta(days=n)
        if day.weekday() >= 5:
            continue  # no listings at weekends
        slug = ("diffusion-models", "representation-learning", "quantization")[n % 3]
        specs.append(
            (day, f"Paper {n} on {slug.replace('-', ' ')}", f"Study number {n} about {slug}.", [slug], {})
        )
    # Older papers for the weekly baseline of the chart.
    for n in range(30, 70, 3):
        specs.append(
            (REF_DAY - timedelta(days=n), f"Older work {n}", "Background paper.", ["diffusion-models"], {})
        )

    per_day: dict[tuple[int, date], int] = {}
    for i, (day, title, abstract, slugs, extra) in enumerate(specs):
        paper = _paper(i, day, title=title, abstract=abstract, **extra)
        session.add(paper)
        session.flush()
        out.papers[paper.arxiv_id or ""] = paper.id
        for rank, slug in enumerate(slugs):
            session.add(PaperTopic(paper_id=paper.id, topic_id=out.topics[slug], score=0.9 - 0.3 * rank))
            key = (out.topics[slug], day)
            per_day[key] = per_day.get(key, 0) + 1
    # The hidden topic also holds today's first paper: it must never show.
    first = out.papers["2611.10000"]
    session.add(PaperTopic(paper_id=first, topic_id=out.topics["secret-topic"], score=0.95))
    for (topic_id, day), count in per_day.items():
        session.add(TopicDailyCount(topic_id=topic_id, day=day, count=count, share=0.1))
    for topic_id in out.topics.values():
        topic = session.get(Topic, topic_id)
        assert topic is not None
        topic.size = sum(c for (t, _), c in per_day.items() if t == topic_id)

    # A title phrase the last trends run found rising (no topic names it).
    session.add(
        PhraseTrend(
            key="agent skill",
            label="Agent Skills",
            state="rising",
            momentum=3.1,
            position=0,
            trend=RISING_TREND,
            as_of=REF_DAY,
        )
    )
    if scores:
        _scores(session, out)
    if with_ops:
        _ops(session)
    session.flush()
    return out


def _scores(session: Session, out: Seeded) -> None:
    """Scores that reverse the recency order, so a test can tell ranked from newest-first."""
    for window, days in (("day", 1), ("week", 7), ("month", 30)):
        for paper_id in out.papers.values():
            paper = session.get(Paper, paper_id)
            assert paper is not None and paper.announced_date is not None
            age = (REF_DAY - paper.announced_date).days
            if age >= days:
                continue
            upvotes = paper.upvotes or 0
            value = min(1.0, upvotes / 50)
            parts = {
                "recency": round(0.25 * (0.5**age), 6),
                "upvotes": round(0.4 * value, 6),
                "topic_momentum": 0.05,
            }
            # Older papers get a small bonus so "newest first" and "by score" differ.
            parts["code"] = 0.1 if paper.code_url else round(0.001 * age, 6)
            session.add(
                PaperScore(
                    paper_id=paper_id,
                    window=window,
                    score=round(sum(parts.values()), 6),
                    components={
                        "parts": parts,
                        "values": {"recency": 0.5**age, "upvotes": value, "topic_momentum": 0.2, "code": 1.0},
                        "detail": {
                            "age_days": age,
                            "upvotes": paper.upvotes,
                            "has_code": bool(paper.code_url),
                        },
                    },
                )
            )


def _ops(session: Session) -> None:
    at = datetime.combine(REF_DAY, time(1, 0), tzinfo=UTC)
    session.add_all(
        [
            JobRun(job="pipeline:ingest", status="ok", started_at=at, finished_at=at + timedelta(minutes=2),
                   stats={"summary": "34 new, 0 updated"}),
            JobRun(job="pipeline:embed", status="ok", started_at=at + timedelta(minutes=2),
                   finished_at=at + timedelta(minutes=3), stats={"summary": "34 texts encoded"}),
            JobRun(job="pipeline:topics", status="failed", started_at=at + timedelta(minutes=3),
                   finished_at=at + timedelta(minutes=4), error="ValueError: not enough papers"),
            SourceState(source="arxiv_api", watermark="2026-11-25", updated_at=at),
            SourceState(source="hf_daily", watermark="2026-11-24", updated_at=at - timedelta(days=1)),
            Subscriber(email="reader@example.org", status="confirmed"),
            Subscriber(email="pending@example.org", status="pending"),
        ]
    )  # fmt: skip
