"""Label rules, inputs as of a day, topic momentum, metrics and reasons: the pure parts of early trending."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.early.features import (
    AuthorHistory,
    Listing,
    PaperFacts,
    author_key,
    paper_features,
    text_features,
    venue_name,
    vocabulary,
)
from app.early.labels import LabelFacts, LabelRule
from app.early.metrics import evaluate, precision_at_k_per_day, reliability
from app.early.momentum import paper_momentum, topic_momentum
from app.early.reasons import reliability as trust
from app.early.reasons import top_reasons

D = date(2026, 3, 16)
RULE = LabelRule(settle_days=7)


def test_listing_known_before_the_cutoff_is_a_positive_and_later_ones_are_not() -> None:
    listed = LabelFacts(D, hf_date=D + timedelta(days=1))
    span = (D - timedelta(days=30), D + timedelta(days=20))
    assert RULE.label(listed, D + timedelta(days=8), span) == 1
    # Listed on the cutoff day itself: at that morning it was not known.
    assert RULE.label(LabelFacts(D, hf_date=D + timedelta(days=8)), D + timedelta(days=8), span) == 0
    # Not settled yet: announced less than settle_days before the cutoff, even if listed already.
    assert RULE.label(listed, D + timedelta(days=6), span) is None


def test_negatives_need_a_file_saying_so_or_hugging_face_coverage() -> None:
    cutoff = D + timedelta(days=30)
    assert RULE.label(LabelFacts(D, hf_listed=False), cutoff, None, frozenset({D})) == 0
    assert RULE.label(LabelFacts(D), cutoff, None) is None  # nobody followed Hugging Face
    # A day a file gave negatives for: its other papers are labelled too, listed or not.
    assert RULE.label(LabelFacts(D), cutoff, None, frozenset({D})) == 0
    assert RULE.label(LabelFacts(D, hf_date=D), cutoff, None, frozenset({D})) == 1
    # A listed paper of an unlabelled day is left out, like its unknown neighbours.
    assert RULE.label(LabelFacts(D, hf_date=D), cutoff, None) is None
    assert RULE.label(LabelFacts(D), cutoff, (D - timedelta(days=3), D + timedelta(days=10))) == 0
    # Coverage must reach settle_days past the paper's day.
    assert RULE.label(LabelFacts(D), cutoff, (D - timedelta(days=3), D + timedelta(days=5))) is None
    assert RULE.label(LabelFacts(D), cutoff, (D + timedelta(days=1), D + timedelta(days=20))) is None


def test_a_file_flag_without_a_date_is_known_after_settling() -> None:
    facts = LabelFacts(D, hf_listed=True)
    assert RULE.featured_known(facts) == D + timedelta(days=7)
    assert RULE.label(facts, D + timedelta(days=8), None, frozenset({D})) == 1
    assert RULE.label(facts, D + timedelta(days=7), None, frozenset({D})) == 1  # settled: counted
    assert RULE.label(facts, D + timedelta(days=6), None, frozenset({D})) is None


def test_upvote_threshold_label() -> None:
    rule = LabelRule(settle_days=7, min_upvotes=20)
    span = (D, D + timedelta(days=30))
    cutoff = D + timedelta(days=10)
    assert rule.label(LabelFacts(D, hf_date=D, upvotes=25), cutoff, span) == 1
    assert rule.label(LabelFacts(D, hf_date=D, upvotes=3), cutoff, span) == 0
    assert rule.key == "upvotes>=20" and LabelRule().key == "featured"
    with pytest.raises(ValueError):
        LabelRule(settle_days=0)


day_offsets = st.integers(min_value=0, max_value=60)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(day_offsets, st.none() | st.integers(0, 14), st.sampled_from([None, False])), max_size=30
    ),
    st.lists(st.tuples(day_offsets, st.integers(0, 14)), max_size=10),
    st.lists(st.integers(0, 20), max_size=30),
    st.integers(min_value=10, max_value=70),
)
def test_nothing_dated_on_or_after_the_cutoff_changes_a_label(
    papers: list[tuple[int, int | None, bool | None]],
    later: list[tuple[int, int]],
    delays: list[int],
    cut: int,
) -> None:
    """New papers announced on or after the cutoff, and listings dated on or after it (of new papers or
    of papers that were unlisted), leave every label at the cutoff as it was."""
    cutoff = D + timedelta(days=cut)
    base = [
        LabelFacts(D + timedelta(days=d), (D + timedelta(days=d + lag)) if lag is not None else None, flag)
        for d, lag, flag in papers
    ]
    before = RULE.labels_at(base, cutoff)
    extra = [
        LabelFacts(cutoff + timedelta(days=d), hf_date=cutoff + timedelta(days=d + lag)) for d, lag in later
    ]
    relisted = [
        LabelFacts(p.day, hf_date=cutoff + timedelta(days=delays[i % len(delays)] if delays else 0))
        if p.hf_date is None and p.hf_listed is None
        else p
        for i, p in enumerate(base)
    ]
    assert RULE.labels_at(relisted + extra, cutoff)[: len(base)] == before


def test_author_history_sees_only_listings_known_before_the_day() -> None:
    history = AuthorHistory(
        [
            Listing(D - timedelta(days=40), ("Zoë Ångström", "Bo Li")),
            Listing(D - timedelta(days=1), ("zoe angstrom",)),
            Listing(D, ("Zoë Ångström",)),  # known on the day itself: not before it
        ]
    )
    count, recent = history.featured_before("ZOË  Ångström", D)
    assert count == 2
    assert 0 < recent < 2 and recent > 1.0  # a day-old listing weighs almost 1, a 40-day-old one less
    assert history.featured_before("Bo Li", D - timedelta(days=40)) == (0, 0.0)
    feats = history.features(("Someone Else", "Zoë Ångström"), D)
    assert feats["authors_featured_max"] == pytest.approx(math.log1p(2))
    assert feats["authors_featured_share"] == 0.5
    assert feats["first_author_featured"] == 0.0 and feats["last_author_featured"] == pytest.approx(
        math.log1p(2)
    )
    assert history.features(("Nobody",), D) == {}
    assert author_key("J.-P. O'Neil") == author_key("j p o neil")


def test_text_inputs_read_only_the_paper_itself() -> None:
    facts = PaperFacts(
        day=D,
        title="FastThing: quick inference for everyone",
        abstract="We do things. Code is available at https://github.com/x/y.",
        comment="Accepted to CVPR 2026. Project page: https://x.github.io",
        authors=("A", "B", "C"),
        categories=("cs.CV", "cs.LG"),
        primary_category="cs.CV",
    )
    feats = paper_features(facts, AuthorHistory([]))
    assert feats["code_link"] == feats["project_page"] == feats["venue"] == feats["named_title"] == 1.0
    assert feats["authors_log"] == pytest.approx(math.log1p(3))
    assert feats["cat:cs.CV"] == feats["cat:cs.LG"] == feats["primary:cs.CV"] == 1.0
    assert "topic_momentum" not in feats
    plain = text_features(PaperFacts(day=D, title="On things", abstract="We study things."))
    assert "code_link" not in plain and "venue" not in plain
    assert venue_name(facts.comment) == "CVPR 2026"
    assert venue_name("12 pages, 3 figures") is None


def test_vocabulary_keeps_frequent_inputs_of_the_wanted_groups() -> None:
    rows = [{"code_link": 1.0, "cat:cs.CV": 1.0}] * 5 + [{"cat:math.AG": 1.0}]
    assert vocabulary(rows, min_support=2) == ["code_link", "cat:cs.CV"]
    assert vocabulary(rows, min_support=2, groups=("categories",)) == ["cat:cs.CV"]


def test_topic_momentum_uses_only_the_days_before() -> None:
    everything = {D - timedelta(days=i): 100 for i in range(1, 70)}
    quiet = {D - timedelta(days=i): 5 for i in range(8, 70)}
    rising = {**quiet, **{D - timedelta(days=i): 15 for i in range(1, 8)}}
    assert topic_momentum(quiet, everything, D) < 0  # nothing in the last week
    assert topic_momentum(rising, everything, D) == pytest.approx(
        math.log2((105 + 1) / 701 / ((280 + 1) / 5601))
    )
    # Counts on the day itself and later never matter.
    later = {**rising, D: 500, D + timedelta(days=1): 500}
    assert topic_momentum(later, everything, D) == topic_momentum(rising, everything, D)
    assert topic_momentum(rising, {}, D) is None
    both = paper_momentum({1: 1.0, 2: 0.0, 3: 0.5}, {1: rising, 3: quiet}, everything, D)
    one = topic_momentum(rising, everything, D)
    other = topic_momentum(quiet, everything, D)
    assert one is not None and other is not None and both == pytest.approx((one + 0.5 * other) / 1.5)


def test_metrics() -> None:
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.3])
    labels = np.array([1, 0, 0, 1, 1, 0])
    days = ["a", "a", "a", "b", "b", "b"]
    assert precision_at_k_per_day(scores, labels, days, k=1) == 1.0
    assert precision_at_k_per_day(scores, labels, days, k=2) == pytest.approx((0.5 + 0.5) / 2)
    s = evaluate(scores, labels, days, k=2)
    assert s.n == 6 and s.positives == 3 and s.days == 2 and 0 < s.auc < 1
    assert s.brier == pytest.approx(float(np.mean((scores - labels) ** 2)))
    bins = reliability([0.02, 0.04, 0.55, 0.95, 1.0], [0, 1, 1, 1, 0])
    assert [(b.n, b.observed) for b in bins] == [(2, 0.5), (1, 1.0), (2, 0.5)]
    ranking = evaluate(np.array([3, 1, 2]), np.array([1, 0, 0]), [1, 1, 1], probabilities=False)
    assert ranking.brier is None and ranking.reliability == () and ranking.auc == 1.0


def test_reasons_in_words_and_reliability() -> None:
    names = ["authors_featured_total", "authors_featured_max", "code_link", "authors_log", "subject", "venue"]
    lifts = [0.9, 0.8, 0.5, -0.4, 0.3, 0.05]
    values = {
        "authors_featured_total": math.log1p(3),
        "authors_featured_max": math.log1p(2),
        "code_link": 1.0,
    }
    reasons = top_reasons(names, lifts, values, {"venue": "ICLR"})
    assert [r.text for r in reasons] == [
        "authors with 3 featured papers",
        "code released",
        "on a subject that often trends",
    ]
    assert top_reasons(["authors_log"], [-1.0], {"authors_log": 2.0}) == []
    low = trust(
        bundled=False,
        eval_auc=0.9,
        eval_positives=100,
        field="math.AG",
        field_papers=3,
        labels_here=900,
        labels_needed=500,
    )
    assert low.level == "low" and "math.AG" in low.note
    start = trust(
        bundled=True,
        eval_auc=0.88,
        eval_positives=140,
        field="cs.CV",
        field_papers=800,
        labels_here=0,
        labels_needed=500,
    )
    assert start.level == "moderate" and "0 labelled papers" in start.note
    good = trust(
        bundled=False,
        eval_auc=0.86,
        eval_positives=140,
        field="cs.CV",
        field_papers=800,
        labels_here=900,
        labels_needed=500,
    )
    assert good.level == "good"
    assert (
        trust(
            bundled=False,
            eval_auc=None,
            eval_positives=0,
            field=None,
            field_papers=None,
            labels_here=0,
            labels_needed=500,
        ).level
        == "low"
    )
