"""The trends step on both databases: daily counts, momentum, states and paper scores."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Paper, PaperScore, PaperTopic, Topic, TopicDailyCount
from app.topics.service import add_topic, build_topics, compute_trends, hide_topic
from tests.topics.synthetic import END, MODEL, insert_corpus, make_corpus

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def setup(session: Session, surge: int = 0) -> list[int]:
    papers = make_corpus(per_area=70, days=70, surge_last_week=surge, technique_share=0.08)
    for i, p in enumerate(papers):
        p.upvotes = (i * 7) % 60 if i % 3 == 0 else None
    ids = insert_corpus(session, papers)
    build_topics(session, model_name=MODEL, seed=0, n_areas=3, max_techniques=None, now=NOW)
    # A topic whose members do not depend on the clustering: every paper with "quantiz" in its title.
    add_topic(session, "Quantization", ["quantiz*"], now=NOW, model_name=MODEL)
    return ids


def rows(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_daily_counts_match_the_assignments(db: Session) -> None:
    setup(db)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    assert report.as_of == END
    expected: Counter[tuple[int, date]] = Counter()
    per_day: Counter[date] = Counter()
    for day in db.scalars(select(Paper.announced_date)):
        per_day[day] += 1
    for tid, day in db.execute(
        select(PaperTopic.topic_id, Paper.announced_date).join(Paper, Paper.id == PaperTopic.paper_id)
    ):
        expected[(tid, day)] += 1
    stored = {(r.topic_id, r.day): (r.count, r.share) for r in db.scalars(select(TopicDailyCount))}
    assert {k: v[0] for k, v in stored.items()} == dict(expected)
    assert all(abs(share - n / per_day[day]) < 1e-9 for (_, day), (n, share) in stored.items())


def test_a_surging_technique_rises_and_steady_areas_do_not(db: Session) -> None:
    setup(db, surge=25)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    topics = list(db.scalars(select(Topic)))
    quant = next(t for t in topics if t.label == "Quantization")
    assert quant.trend_state in {"rising", "bursting"} and quant.momentum > 2
    assert quant.trend["count"] >= 25 and quant.trend["as_of"] == END.isoformat()
    assert quant.label in report.rising + report.bursting
    assert quant.trend_updated_at == NOW
    # Areas keep their share through the surge (the surge is spread over them): nobody else rises.
    for t in topics:
        if t.kind == "area":
            assert t.trend_state in {"steady", "falling"}, (t.label, t.trend)


def test_paper_scores_for_three_windows_with_their_parts(db: Session) -> None:
    setup(db, surge=20)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    by_window = {
        w: list(
            db.scalars(select(PaperScore).where(PaperScore.window == w).order_by(PaperScore.score.desc()))
        )
        for w in ("day", "week", "month")
    }
    days = {p.id: p.announced_date for p in db.scalars(select(Paper))}
    assert all((END - days[s.paper_id]).days < 1 for s in by_window["day"])
    assert all((END - days[s.paper_id]).days < 7 for s in by_window["week"])
    assert all((END - days[s.paper_id]).days < 30 for s in by_window["month"])
    assert 0 < len(by_window["day"]) < len(by_window["week"]) < len(by_window["month"])
    assert report.scores == {w: len(v) for w, v in by_window.items()}
    for score in by_window["week"]:
        parts = score.components["parts"]
        assert set(parts) == {"recency", "upvotes", "topic_momentum", "code"}
        assert abs(sum(parts.values()) - score.score) < 1e-5
        assert score.components["detail"]["age_days"] == (END - days[score.paper_id]).days
    # Papers of the rising topic carry topic momentum.
    assert any(s.components["values"]["topic_momentum"] > 0 for s in by_window["week"])


def test_trends_are_idempotent_and_hidden_topics_lend_no_momentum(db: Session) -> None:
    setup(db, surge=25)
    compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    first = {(s.paper_id, s.window): s.score for s in db.scalars(select(PaperScore))}
    counts = rows(db, TopicDailyCount)
    compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    assert {(s.paper_id, s.window): s.score for s in db.scalars(select(PaperScore))} == first
    assert rows(db, TopicDailyCount) == counts
    quant = next(t for t in db.scalars(select(Topic)) if t.label == "Quantization")
    hide_topic(db, quant.id)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    assert quant.label not in report.rising + report.bursting
    moved = {(s.paper_id, s.window): s.score for s in db.scalars(select(PaperScore))}
    assert sum(moved.values()) < sum(first.values())


def test_dry_run_and_empty_database(db: Session) -> None:
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    assert report.as_of is None and "nothing" in report.summary()
    setup(db)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5, dry_run=True)
    assert report.daily_rows > 0 and report.scores["week"] > 0
    assert rows(db, TopicDailyCount) == rows(db, PaperScore) == 0


def test_papers_after_now_are_ignored_for_the_reference_day(db: Session) -> None:
    setup(db)
    report = compute_trends(db, now=datetime.combine(END - timedelta(days=3), datetime.min.time(), UTC),
                            baseline_weeks=8, min_count=5)  # fmt: skip
    assert report.as_of is not None and report.as_of <= END - timedelta(days=3)
