"""Training and scoring on a real database (SQLite and PostgreSQL): leak-freeness, versions, rescoring."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.early import queries
from app.early.labels import LabelRule
from app.early.service import EarlyOptions, ensure_bundled, label_counts, score, train, training_due
from app.models import Paper, TrendModelVersion, TrendPrediction
from tests.early.world import LAB, MODEL, add_paper, build

START = date(2026, 1, 1)
OPTIONS = EarlyOptions(
    rule=LabelRule(settle_days=3), min_labels=100, min_positives=10, retrain_labels=50, eval_days=5
)


def _probabilities(session: Session, ids: list[int]) -> dict[int, float]:
    rows = session.execute(
        select(TrendPrediction.paper_id, TrendPrediction.probability).where(TrendPrediction.paper_id.in_(ids))
    )
    return {int(pid): float(p) for pid, p in rows}


def _forget_models(session: Session) -> None:
    session.execute(delete(TrendPrediction))
    session.execute(delete(TrendModelVersion))
    session.flush()


def test_prediction_for_day_d_ignores_labels_of_day_d_and_later(db: Session) -> None:
    """The leakage test: adding labels dated D or later (new listings, new listed papers by the same
    authors, late listings of old papers) leaves the model trained for day D and its predictions alone."""
    world = build(db, START, days=40)
    day = START + timedelta(days=30)
    report = train(db, OPTIONS, MODEL, day)
    assert report.trained and report.model is not None and report.model.active, report.reason
    first_model = dict(report.model.document["model"])
    score(db, OPTIONS, MODEL, day)
    todays = world.ids_by_day[day]
    before = _probabilities(db, todays)
    assert len(before) == len(todays)

    # Labels of day D and later arrive: every paper of D and after gets listed on its day, the
    # day-D authors publish more listed papers, and old unlisted papers get a late listing on D.
    rng = np.random.default_rng(99)
    db.execute(
        update(Paper).where(Paper.announced_date >= day).values(hf_date=Paper.announced_date, hf_listed=True)
    )
    authors = [a for (a,) in db.execute(select(Paper.authors).where(Paper.id.in_(todays)))]
    for k, names in enumerate(authors):
        add_paper(
            db,
            50_000 + k,
            day + timedelta(days=1 + k % 3),
            authors=[*names, LAB[0]],
            code=True,
            listed_on=day + timedelta(days=2),
            rng=rng,
        )
    db.execute(
        update(Paper)
        .where(Paper.announced_date < day - timedelta(days=10), Paper.hf_date.is_(None))
        .values(hf_date=day, hf_listed=True)
    )
    db.flush()

    # Rescored by the same model: identical.
    db.execute(delete(TrendPrediction))
    score(db, OPTIONS, MODEL, day)
    assert _probabilities(db, todays) == pytest.approx(before, abs=1e-9)

    # Trained again from scratch for the same day: the same model, the same numbers.
    _forget_models(db)
    again = train(db, OPTIONS, MODEL, day)
    assert again.model is not None
    assert again.model.document["model"] == first_model
    score(db, OPTIONS, MODEL, day)
    assert _probabilities(db, todays) == pytest.approx(before, abs=1e-9)


def test_the_model_learns_the_signal_and_is_versioned_with_its_window(db: Session) -> None:
    build(db, START, days=40)
    day = START + timedelta(days=40)
    due, why = training_due(db, OPTIONS, day)
    assert due, why
    report = train(db, OPTIONS, MODEL, day)
    model = report.model
    assert model is not None and model.kind == "trained" and model.label == "featured"
    assert model.cutoff == day and model.train_to is not None and model.train_to <= day - timedelta(days=3)
    assert "code_link" in model.features and "vector" in model.features
    ev = model.evaluation
    assert ev["method"] == "holdout" and ev["model"]["auc"] > ev["baselines"]["code"]["auc"] - 0.05
    assert ev["model"]["auc"] > 0.75 and set(ev["baselines"]) == {"vector", "authors", "code"}
    assert model.document["embedding_model"] == MODEL
    # Right after training, nothing new is due.
    assert training_due(db, OPTIONS, day + timedelta(days=1))[0] is False


def test_a_new_model_rescores_only_the_days_it_may_serve(db: Session) -> None:
    world = build(db, START, days=40)
    early_day, late_day = START + timedelta(days=25), START + timedelta(days=35)
    first = train(db, OPTIONS, MODEL, early_day).model
    assert first is not None
    score(db, OPTIONS, MODEL, early_day)
    kept = _probabilities(db, world.ids_by_day[early_day + timedelta(days=2)])
    assert kept
    second = train(db, OPTIONS, MODEL, late_day).model
    assert second is not None and second.active
    report = score(db, OPTIONS, MODEL, late_day)
    assert report.rescored == sum(len(world.ids_by_day[d]) for d in world.ids_by_day if d >= late_day)
    owners = dict(db.execute(select(TrendPrediction.paper_id, TrendPrediction.model_id)).all())
    for d, ids in world.ids_by_day.items():
        for pid in ids:
            if d < early_day:
                assert pid not in owners  # no leak-free model for those days
            else:
                assert owners[pid] == (second.id if d >= late_day else first.id)
    assert _probabilities(db, world.ids_by_day[early_day + timedelta(days=2)]) == kept
    spans = queries.spans(queries.serving_models(db, "featured"))
    assert [(s.start, s.end) for s in spans] == [(early_day, late_day), (late_day, None)]


def test_predictions_carry_reasons_reliability_and_inputs(db: Session) -> None:
    build(db, START, days=40)
    day = START + timedelta(days=32)
    train(db, OPTIONS, MODEL, day)
    score(db, OPTIONS, MODEL, day)
    rows = list(db.scalars(select(TrendPrediction)))
    assert rows and all(0 < r.probability < 1 for r in rows)
    with_code = [r for r in rows if r.inputs.get("code_link")]
    assert any("code released" in [x["text"] for x in r.reasons] for r in with_code)
    assert {r.reliability for r in rows} <= {"low", "moderate", "good"}
    assert all(r.reliability_note for r in rows)


def test_too_few_labels_means_no_model_of_its_own(db: Session) -> None:
    build(db, START, days=6, per_day=10)
    day = START + timedelta(days=6)
    due, why = training_due(db, OPTIONS, day)
    assert not due and "needs 100" in why
    report = train(db, OPTIONS, MODEL, day)
    assert not report.trained and "needs" in report.reason
    counts = label_counts(db, OPTIONS, day)
    assert counts.labelled < 100


def test_bundled_model_serves_minilm_vectors_from_its_cutoff_on(db: Session) -> None:
    rng = np.random.default_rng(3)
    before = add_paper(
        db,
        1,
        date(2025, 4, 18),
        authors=["A"],
        code=True,
        listed_on=None,
        rng=rng,
        model="all-MiniLM-L6-v2",
        dim=384,
    )
    after = add_paper(
        db,
        2,
        date(2026, 11, 2),
        authors=["B"],
        code=True,
        listed_on=None,
        rng=rng,
        model="all-MiniLM-L6-v2",
        dim=384,
    )
    other = add_paper(
        db, 3, date(2026, 11, 2), authors=["C"], code=False, listed_on=None, rng=rng, model=MODEL, dim=16
    )
    bundled = ensure_bundled(db, EarlyOptions())
    assert bundled is not None and bundled.kind == "bundled" and ensure_bundled(db, EarlyOptions()) is bundled
    report = score(db, EarlyOptions(), "all-MiniLM-L6-v2", date(2026, 11, 3))
    assert report.scored == 1 and report.models == [bundled.name]
    assert set(_probabilities(db, [before.id, after.id, other.id])) == {after.id}
    prediction = db.get(TrendPrediction, after.id)
    assert prediction is not None and prediction.reliability == "moderate"
    assert "starting model" in (prediction.reliability_note or "")
    # Vectors of another embedding model: the bundled model does not understand them.
    assert score(db, EarlyOptions(), MODEL, date(2026, 11, 3)).models == []
    # An upvote-threshold label: the bundled model (it learned "featured") does not serve it.
    assert ensure_bundled(db, EarlyOptions(rule=LabelRule(min_upvotes=30))) is None
    removed = score(db, EarlyOptions(rule=LabelRule(min_upvotes=30)), "all-MiniLM-L6-v2", date(2026, 11, 3))
    assert removed.removed == 1 and db.get(TrendPrediction, after.id) is None


def test_vectors_of_another_size_are_skipped_with_a_reason(db: Session) -> None:
    rng = np.random.default_rng(4)
    add_paper(
        db,
        1,
        date(2026, 11, 2),
        authors=["A"],
        code=True,
        listed_on=None,
        rng=rng,
        model="all-MiniLM-L6-v2",
        dim=16,
    )
    ensure_bundled(db, EarlyOptions())
    report = score(db, EarlyOptions(), "all-MiniLM-L6-v2", date(2026, 11, 3))
    assert report.scored == 0 and "expects vectors of dimension 384" in report.summary()


def test_an_upvote_threshold_label_gets_its_own_models(db: Session) -> None:
    world = build(db, START, days=40)
    for k, pid in enumerate(sorted(world.listed)):
        db.execute(update(Paper).where(Paper.id == pid).values(upvotes=5 + (k % 3) * 20))  # 5, 25, 45
    options = EarlyOptions(rule=LabelRule(settle_days=3, min_upvotes=20), min_labels=100, min_positives=10)
    day = START + timedelta(days=30)
    report = train(db, options, MODEL, day)
    assert report.model is not None and report.model.label == "upvotes>=20"
    featured = train(db, OPTIONS, MODEL, day).model
    assert featured is not None and report.model.n_positive < featured.n_positive
    scored = score(db, options, MODEL, day)
    assert scored.scored == sum(len(ids) for d, ids in world.ids_by_day.items() if d >= day)
    assert set(db.scalars(select(TrendPrediction.model_id))) == {report.model.id}
