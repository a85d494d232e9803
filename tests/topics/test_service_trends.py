"""The trends step and the as-of view on both databases: counts, horizons, states, reasons, paper scores."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Paper, PaperScore, PaperTopic, Topic, TopicDailyCount
from app.topics.service import add_topic, build_topics, compute_trends, hide_topic
from app.topics.trending import pct, times
from app.topics.trends import topic_trends, trend_params
from tests.topics.made_up_trends import END as MADE_END
from tests.topics.made_up_trends import QUARTER_START, add_papers, expected, insert_made_up
from tests.topics.synthetic import END, MODEL, insert_corpus, make_corpus

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
# The build may find a quantization technique of its own; the operator's topic has another name.
MANUAL = "Weight Quantization"


def setup(session: Session, surge: int = 0) -> list[int]:
    papers = make_corpus(per_area=70, days=70, surge_last_week=surge, technique_share=0.08)
    for i, p in enumerate(papers):
        p.upvotes = (i * 7) % 60 if i % 3 == 0 else None
    ids = insert_corpus(session, papers)
    build_topics(session, model_name=MODEL, seed=0, n_areas=3, max_techniques=None, now=NOW)
    # A topic whose members do not depend on the clustering: every paper with "quantiz" in its title.
    add_topic(session, MANUAL, ["quantiz*"], now=NOW, model_name=MODEL)
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
    quant = next(t for t in topics if t.label == MANUAL)
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
    # The operator's topic and any quantization topic the build found: hidden, they lend nothing.
    quant = [t for t in db.scalars(select(Topic)) if "quantiz" in t.label.lower()]
    assert any(t.label == MANUAL for t in quant)
    for t in quant:
        hide_topic(db, t.id)
    report = compute_trends(db, now=NOW, baseline_weeks=8, min_count=5)
    assert not {t.label for t in quant} & set(report.rising + report.bursting)
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


# The made-up corpus: a known rise, a known fall, a flat topic ------------------------------------


def test_a_made_up_rise_and_fall_are_reported_and_a_flat_topic_stays_steady(db: Session) -> None:
    made = insert_made_up(db)
    view = topic_trends(db, as_of=MADE_END, today=MADE_END + timedelta(days=3))
    assert view.reference_day == MADE_END and view.papers == made.papers
    rows = {r.id: r for r in view.rows}

    rise = rows[made.rising]
    assert (rise.label, rise.kind, rise.parent) == ("Agent Systems", "subtopic", "Language")
    assert rise.trend.state == "rising" and rise.trend.deciding == "quarter"
    quarter = rise.trend.horizon("quarter")
    assert (quarter.count, quarter.total) == expected("rising", QUARTER_START, MADE_END)
    base = expected("rising", QUARTER_START - timedelta(weeks=26), QUARTER_START - timedelta(days=1))
    assert (quarter.baseline_count, quarter.baseline_total) == base
    assert quarter.state == "rising" and quarter.ratio is not None and quarter.ratio > 1.8
    assert rise.trend.explanation.startswith(f"{pct(quarter.share)} of papers in the 13 weeks to 30 Jun 2026")
    assert f", {times(quarter.ratio)}" in rise.trend.explanation

    fall = rows[made.falling]
    assert fall.parent is None and fall.trend.state == "falling"
    assert fall.trend.horizon("quarter").state == "falling" and fall.trend.momentum < -2

    flat = rows[made.flat]
    assert flat.trend.state == "steady"
    # The deadline week, the holidays and the weekday mix move the counts, not the share.
    assert [h.state for h in flat.trend.horizons] == ["steady", "steady", "steady"]
    assert flat.trend.explanation.startswith("no clear change: ")

    listed = view.as_dict()
    assert [t["label"] for t in listed["topics"][:2]] == ["Agent Systems", "Image Retrieval"]
    assert listed["states"]["rising"] == 1 and listed["states"]["falling"] == 1
    for item in listed["topics"]:
        assert {"label", "kind", "parent", "state", "horizons", "explanation"} <= set(item)
        assert set(item["horizons"]) == {"week", "month", "quarter"}


def test_before_the_change_began_everything_is_steady(db: Session) -> None:
    made = insert_made_up(db)
    day = QUARTER_START - timedelta(days=1)
    view = topic_trends(db, as_of=day, today=MADE_END)
    assert view.reference_day is not None and view.reference_day <= day
    states = {r.id: r.trend.state for r in view.rows}
    assert states[made.rising] == states[made.falling] == states[made.flat] == "steady"


def test_the_flat_topic_is_steady_on_every_day_and_the_rise_is_called_once_it_shows(db: Session) -> None:
    made = insert_made_up(db)
    # Every week of the last quarter and a half, deadline week and holidays included.
    days = [MADE_END - timedelta(weeks=k) for k in range(20)]
    states = {
        day: {r.id: r.trend.state for r in topic_trends(db, as_of=day, today=MADE_END).rows} for day in days
    }
    assert all(s[made.flat] == "steady" for s in states.values())
    # Before the change nothing moves; once it has run a while, the rise and the fall are called and stay.
    before = [day for day in days if day < QUARTER_START]
    assert before and all(states[day][made.rising] == states[day][made.falling] == "steady" for day in before)
    late = [day for day in days if day >= MADE_END - timedelta(weeks=4)]
    assert all(states[day][made.rising] in {"rising", "emerging"} for day in late)
    assert all(states[day][made.falling] == "falling" for day in late)


def test_papers_after_the_as_of_day_have_no_influence(db: Session) -> None:
    made = insert_made_up(db)
    day = MADE_END - timedelta(weeks=10)
    before = topic_trends(db, as_of=day, today=MADE_END).as_dict()
    later = [day + timedelta(days=k) for k in range(1, 36) if (day + timedelta(days=k)).weekday() < 5]
    add_papers(db, made.flat, later, 30, prefix="late")
    assert topic_trends(db, as_of=day, today=MADE_END).as_dict() == before
    # The same papers do move the flat topic as of a later day, and as of today.
    moved = {r.id: r.trend.state for r in topic_trends(db, as_of=later[-1], today=MADE_END).rows}
    assert moved[made.flat] in {"rising", "bursting"}
    # A paper of the day itself counts (announced "up to" the day, inclusive).
    add_papers(db, made.flat, [day], 30, prefix="same-day")
    assert topic_trends(db, as_of=day, today=MADE_END).as_dict() != before


def test_the_step_stores_every_horizon_for_the_site(db: Session) -> None:
    made = insert_made_up(db)
    now = datetime.combine(MADE_END + timedelta(days=1), datetime.min.time(), UTC)
    report = compute_trends(db, now=now)
    assert report.as_of == MADE_END
    assert "Agent Systems" in report.rising and "Image Retrieval" in report.falling
    rising = db.get(Topic, made.rising)
    assert rising is not None and rising.trend_state == "rising"
    stored = rising.trend
    assert stored["as_of"] == MADE_END.isoformat() and stored["deciding"] == "quarter"
    assert set(stored["horizons"]) == {"week", "month", "quarter"}
    assert stored["horizons"]["quarter"]["text"] == stored["explanation"]
    assert rising.momentum == pytest.approx(stored["momentum"], abs=1e-3) and rising.momentum > 2
    # What the step stored is what `topic_trends` computes as of the same day.
    view = topic_trends(db, as_of=MADE_END, today=MADE_END)
    assert {r.id: r.trend.state for r in view.rows} == {
        t.id: t.trend_state for t in db.scalars(select(Topic)) if t.id in {r.id for r in view.rows}
    }


def test_minimum_counts_come_from_the_settings(db: Session) -> None:
    made = insert_made_up(db)
    strict = trend_params(min_count=5, min_count_month=10, min_count_quarter=10_000)
    view = topic_trends(db, as_of=MADE_END, today=MADE_END, params=strict)
    rise = next(r for r in view.rows if r.id == made.rising)
    assert rise.trend.horizon("quarter").state is None  # too few papers for the quarter now
    assert rise.trend.state != "rising" or rise.trend.deciding == "month"


def test_an_as_of_day_before_any_paper_gives_no_trends(db: Session) -> None:
    insert_made_up(db)
    view = topic_trends(db, as_of=date(2020, 1, 1), today=MADE_END)
    assert view.reference_day is None and view.papers == 0 and view.rows == []
