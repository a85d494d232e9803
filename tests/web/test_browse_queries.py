"""The read models behind pages, API and feeds, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.browse.cache import bump_generation, read_generation
from app.browse.papers import decode_cursor, list_papers, paper_detail
from app.browse.status import PUBLIC_FAILURE, job_statuses, status_facts
from app.browse.topics import topic_detail, topic_list, topic_series, trending_topics
from app.browse.trending import latest_day, trending
from app.models import PaperScore
from tests.web.seed import HOSTILE_TITLE, REF_DAY, seed


def test_day_window_ranks_by_score_on_the_latest_day(db: Session) -> None:
    seed(db)
    result = trending(db, window="day")
    assert result.day == REF_DAY and result.start == REF_DAY
    assert result.ranked is True
    assert result.total == 4
    titles = [c.title for c in result.cards]
    assert titles[0].startswith("ZeroQuant-FP") and titles[1].startswith("LLM.int8()")
    assert [c.rank for c in result.cards] == [1, 2, 3, 4]
    assert result.cards[0].score == pytest.approx(0.736)
    assert result.cards[0].components["parts"]["upvotes"] == pytest.approx(0.336)
    assert result.prev_day == REF_DAY - timedelta(days=1) and result.next_day is None


def test_without_scores_the_list_is_newest_first(db: Session) -> None:
    seed(db, scores=False)
    result = trending(db, window="day")
    assert result.ranked is False
    published = [c.published_at for c in result.cards]
    assert published == sorted(published, reverse=True)
    assert result.cards[0].title == HOSTILE_TITLE  # the last one added that day
    assert all(c.score is None for c in result.cards)


def test_week_and_month_windows_cover_their_days(db: Session) -> None:
    seeded = seed(db)
    week = trending(db, window="week", per_page=100)
    assert week.start == REF_DAY - timedelta(days=6)
    assert {c.day for c in week.cards} <= {REF_DAY - timedelta(days=n) for n in range(7)}
    weekdays_before = sum(1 for n in range(1, 7) if (REF_DAY - timedelta(days=n)).weekday() < 5)
    assert week.total == 4 + weekdays_before
    month = trending(db, window="month", per_page=100)
    assert month.total > week.total
    assert len(seeded.papers) > month.total  # older papers fall outside the month


def test_topic_filter_and_chips_hide_hidden_topics(db: Session) -> None:
    seed(db)
    result = trending(db, window="day", topic_slug="quantization")
    assert result.topic is not None and result.topic.slug == "quantization"
    assert result.total == 3
    assert HOSTILE_TITLE not in [c.title for c in result.cards]
    chip_slugs = [t.slug for t, _ in result.chips]
    assert "secret-topic" not in chip_slugs
    assert dict((t.slug, n) for t, n in result.chips)["quantization"] == 3
    for card in result.cards:
        assert all(t.slug != "secret-topic" for t in card.topics)
    with pytest.raises(LookupError):
        trending(db, topic_slug="secret-topic")
    with pytest.raises(LookupError):
        trending(db, topic_slug="no-such-topic")
    with pytest.raises(ValueError):
        trending(db, window="year")


def test_pages_and_earlier_days(db: Session) -> None:
    seed(db)
    first = trending(db, window="week", per_page=3, page=1)
    second = trending(db, window="week", per_page=3, page=2)
    assert first.pages == -(-first.total // 3)
    assert not {c.id for c in first.cards} & {c.id for c in second.cards}
    assert second.cards[0].rank == 4
    monday = date(2026, 11, 23)
    earlier = trending(db, window="day", day=monday)
    assert earlier.day == monday and earlier.total == 1
    assert earlier.prev_day == date(2026, 11, 20)  # the weekend has no papers
    assert earlier.next_day == monday + timedelta(days=1)
    assert trending(db, window="day", day=date(2026, 11, 22)).total == 0  # a Sunday


def test_empty_database_gives_an_empty_result(db: Session) -> None:
    result = trending(db)
    assert result.day is None and result.cards == [] and result.total == 0
    assert latest_day(db) is None


def test_topic_list_and_strip(db: Session) -> None:
    seed(db)
    listed = topic_list(db)
    slugs = [m.topic.slug for m in listed]
    assert slugs == ["quantization", "representation-learning", "diffusion-models"]  # by momentum
    assert all(len(m.weekly) == 12 for m in listed)
    quant = listed[0]
    assert quant.weekly[-1] == quant.week_count == 5  # 2 papers today + Thu, Fri... of the last 7 days
    assert [m.topic.slug for m in topic_list(db, kind="technique")] == ["quantization"]
    assert [m.topic.slug for m in topic_list(db, sort="name")] == [
        "diffusion-models",
        "quantization",
        "representation-learning",
    ]
    assert [t.slug for t in trending_topics(db)] == slugs


def test_sparkline_falls_back_to_assignments_without_daily_counts(db: Session) -> None:
    seed(db)
    from app.models import TopicDailyCount

    expected = {m.topic.slug: m.weekly for m in topic_list(db)}
    db.execute(delete(TopicDailyCount))
    assert {m.topic.slug: m.weekly for m in topic_list(db)} == expected


def test_topic_detail(db: Session) -> None:
    seed(db)
    detail = topic_detail(db, "quantization", weeks=10, baseline_weeks=4)
    assert detail is not None
    assert detail.keywords[0] == "quantization"
    assert detail.weeks[-1].end == REF_DAY and detail.weeks[-1].count == 5
    assert detail.weeks[-1].baseline is not None
    assert detail.top_papers[0].title.startswith("ZeroQuant-FP")
    newest_days = [c.day for c in detail.newest_papers]
    assert newest_days == sorted(newest_days, reverse=True)
    related = {t.slug: n for t, n in detail.related}
    assert related == {"representation-learning": 1}  # the shared contrastive paper; never the hidden topic
    assert topic_detail(db, "secret-topic") is None
    assert topic_detail(db, "missing") is None
    series = topic_series(db, "quantization", weeks=6, baseline_weeks=2)
    assert series is not None and len(series) == 6 and series[-1].count == 5


def test_paper_detail_and_lookup_forms(db: Session) -> None:
    seeded = seed(db)
    detail = paper_detail(db, "2611.10000")
    assert detail is not None
    card = detail.card
    assert card.id == seeded.papers["2611.10000"]
    assert card.summary == "FP formats beat INT."
    assert card.hf_url == "https://huggingface.co/papers/2611.10000"
    assert card.code_url and card.github_stars == 1200
    assert [t.slug for t in detail.all_topics] == ["quantization"]
    assert card.score is not None  # the week's score
    assert paper_detail(db, "2611.10000v1") is not None
    assert paper_detail(db, "arxiv_api:2611.10000") is not None
    assert paper_detail(db, "9999.99999") is None


def test_paper_list_cursor_walks_every_paper_once(db: Session) -> None:
    seeded = seed(db)
    seen: list[int] = []
    cursor = None
    for _ in range(50):
        page = list_papers(db, limit=7, cursor=cursor)
        seen += [c.id for c in page.cards]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(seeded.papers.values())
    assert len(seen) == len(set(seen))


def test_paper_list_filters(db: Session) -> None:
    seed(db)
    code = list_papers(db, has_code=True).cards
    assert [c.arxiv_id for c in code] == ["2611.10000"]
    cv = list_papers(db, category="cs.CV", limit=100).cards
    assert cv and all("cs.CV" in c.categories for c in cv)
    cl = list_papers(db, category="cs.CL", limit=100).cards
    assert cl and all("cs.CL" in c.categories for c in cl)
    assert not {c.id for c in cv} & {c.id for c in cl}
    today = list_papers(db, date_from=REF_DAY, date_to=REF_DAY).cards
    assert len(today) == 4
    quant = list_papers(db, topic_slug="quantization", limit=100).cards
    assert all(any(t.slug == "quantization" for t in c.topics) for c in quant)
    with pytest.raises(LookupError):
        list_papers(db, topic_slug="secret-topic")
    with pytest.raises(ValueError):
        list_papers(db, category="cs.LG%' OR 1=1")
    with pytest.raises(ValueError):
        list_papers(db, cursor="not-a-cursor")


def test_cursor_round_trip_rejects_junk() -> None:
    with pytest.raises(ValueError):
        decode_cursor("WyJ4IiwgMV0")  # ["x", 1]
    with pytest.raises(ValueError):
        decode_cursor("")


def test_status_facts(db: Session) -> None:
    seed(db)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    facts = status_facts(db, now=now)
    jobs = {j.job: j for j in facts.jobs}
    assert jobs["pipeline:ingest"].status == "ok" and jobs["pipeline:ingest"].summary == "34 new, 0 updated"
    assert [j.job for j in facts.failing] == ["pipeline:topics"]
    assert jobs["pipeline:topics"].error == PUBLIC_FAILURE  # the public facts never carry the error text
    detailed = {j.job: j for j in job_statuses(db, details=True)}
    assert detailed["pipeline:topics"].error == "ValueError: not enough papers"
    assert facts.subscribers_confirmed == 1 and facts.subscribers_pending == 1
    assert facts.papers > 30 and facts.topics == 3
    assert facts.newest_paper_day == REF_DAY
    assert facts.last_ingest_ok_at == datetime(2026, 11, 25, 1, 2, tzinfo=UTC)
    assert facts.lag_hours is not None and 0 < facts.lag_hours < 24
    assert [s.source for s in facts.sources] == ["arxiv_api", "hf_daily"]
    assert facts.announcement.is_announcement_day is True  # a Wednesday


def test_generation_moves_with_bumps_and_job_runs(db: Session) -> None:
    before = read_generation(db)
    assert bump_generation(db) == 1
    after = read_generation(db)
    assert after != before
    assert bump_generation(db) == 2
    assert read_generation(db) != after
    # The generation row is internal: it never shows as a source on the status page.
    assert all(not s.source.startswith("cache:") for s in status_facts(db, now=datetime.now(UTC)).sources)


def test_scores_of_other_windows_do_not_leak(db: Session) -> None:
    seed(db)
    db.execute(delete(PaperScore).where(PaperScore.window == "day"))
    assert trending(db, window="day").ranked is False
    assert trending(db, window="week").ranked is True
