"""A made-up corpus where one input decides the label: the model learns it, in range and calibrated."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from app.early.bundled import load_bundled
from app.early.features import AuthorHistory, PaperFacts, feature_rows, paper_features
from app.early.labels import LabelFacts, LabelRule
from app.early.metrics import evaluate
from app.early.model import FitParams, ModelError, TrendModel
from app.early.replay import holdout, rolling
from app.early.training import Recipe, fit_rows, predict_rows

D0 = date(2026, 1, 5)


def corpus(
    n: int, seed: int, *, p_code: float = 0.85, p_plain: float = 0.05
) -> tuple[list[PaperFacts], np.ndarray, np.ndarray]:
    """Papers whose label depends only on a code link (P = p_code with one, p_plain without)."""
    rng = np.random.default_rng(seed)
    facts, labels = [], []
    for i in range(n):
        code = rng.random() < 0.3
        facts.append(
            PaperFacts(
                day=D0 + timedelta(days=i % 40),
                title=f"Study {i} of things",
                # The same number of words either way: only the link differs.
                abstract="We study things. "
                + ("Code: https://github.com/a/b here." if code else "Data: https://example.org/a/b here."),
                comment=None,
                authors=tuple(f"Person {rng.integers(0, 400)}" for _ in range(int(rng.integers(1, 8)))),
                categories=("cs.LG",),
                primary_category="cs.LG",
            )
        )
        labels.append(int(rng.random() < (p_code if code else p_plain)))
    vectors = rng.normal(size=(n, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return facts, vectors, np.array(labels)


@pytest.mark.parametrize("calibration", ["platt", "isotonic"])
def test_one_deciding_input_is_learned_and_probabilities_are_calibrated(calibration: str) -> None:
    facts, vectors, y = corpus(3000, seed=1)
    rows = feature_rows(facts, [])
    days = [f.day.toordinal() for f in facts]
    recipe = Recipe(params=FitParams(C=1.0, vector_weight=1.0, calibration=calibration))
    model = fit_rows(rows, vectors, y, days, recipe)
    # The deciding input has by far the largest weight.
    weights = dict(zip(model.features, model.coef, strict=True))
    assert max(weights, key=lambda k: abs(weights[k])) == "code_link"
    assert weights["code_link"] > 1.0
    # Fresh papers from the same world: probabilities in range and close to the true rates.
    test_facts, test_vectors, test_y = corpus(3000, seed=2)
    p = predict_rows(model, feature_rows(test_facts, []), test_vectors)
    assert np.all((p > 0) & (p < 1))
    code = np.array(["github" in f.abstract for f in test_facts])
    assert p[code].mean() == pytest.approx(0.85, abs=0.06)
    assert p[~code].mean() == pytest.approx(0.05, abs=0.03)
    scores = evaluate(p, test_y, [f.day for f in test_facts])
    for b in scores.reliability:
        if b.n >= 100:
            assert abs(b.mean_predicted - b.observed) < 0.08, b
    assert scores.auc is not None and scores.auc > 0.85


def test_prior_shift_moves_probabilities_to_the_full_flow() -> None:
    facts, vectors, y = corpus(2000, seed=3)
    rows = feature_rows(facts, [])
    days = [f.day.toordinal() for f in facts]
    plain = fit_rows(rows, vectors, y, days)
    shifted = fit_rows(rows, vectors, y, days, prior_shift=np.log(0.25))
    p, q = predict_rows(plain, rows, vectors), predict_rows(shifted, rows, vectors)
    # Keeping a quarter of the negatives: odds are four times lower, the ranking is the same.
    np.testing.assert_allclose(q / (1 - q), p / (1 - p) * 0.25, rtol=1e-6)
    assert np.array_equal(np.argsort(p, kind="stable"), np.argsort(q, kind="stable"))


def test_stored_form_round_trips_and_refuses_garbage() -> None:
    facts, vectors, y = corpus(800, seed=4)
    rows = feature_rows(facts, [])
    model = fit_rows(rows, vectors, y, [f.day.toordinal() for f in facts])
    again = TrendModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(
        predict_rows(again, rows, vectors), predict_rows(model, rows, vectors), rtol=1e-4
    )
    names, parts = again.contributions(np.zeros((1, len(again.features))), vectors[:1])
    assert names[-1] == "subject" and parts.shape == (1, len(again.features) + 1)
    broken = model.to_dict()
    broken["coef"] = broken["coef"][:-1]
    with pytest.raises(ModelError):
        TrendModel.from_dict(broken)
    with pytest.raises(ModelError):
        TrendModel.from_dict({"format": "pickle"})
    with pytest.raises(ModelError):
        TrendModel.from_dict({**model.to_dict(), "calibration": {"method": "magic"}})
    with pytest.raises(ModelError):
        again.predict(np.zeros((2, len(again.features))), np.zeros((2, 3)))


def test_fit_refuses_a_single_class() -> None:
    facts, vectors, _ = corpus(100, seed=5)
    rows = feature_rows(facts, [])
    with pytest.raises(ModelError):
        fit_rows(rows, vectors, np.zeros(100, dtype=int), [f.day.toordinal() for f in facts])


def test_rolling_replay_trains_only_on_labels_known_before_each_day() -> None:
    facts, _, y = corpus(1200, seed=6)
    rule = LabelRule(settle_days=3)
    labels = [
        LabelFacts(f.day, hf_date=f.day + timedelta(days=1) if v else None, hf_listed=None if v else False)
        for f, v in zip(facts, y, strict=True)
    ]
    seen: list[tuple[date, int]] = []

    def spy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray) -> np.ndarray:
        day = facts[test[0]].day
        # Training papers were announced at least settle_days before; positives listed before the day.
        assert all(facts[i].day <= day - timedelta(days=3) for i in train)
        for i, label in zip(train, y_train, strict=True):
            if label == 1:
                assert labels[i].hf_date is not None and labels[i].hf_date < day
        seen.append((day, len(train)))
        return np.full(len(test), 0.5)

    test_days = sorted({f.day for f in facts})[-5:]
    pred = rolling(labels, test_days, rule, spy, truth_cutoff=D0 + timedelta(days=90))
    assert [d for d, _ in seen] == test_days and len(pred.rows) == sum(1 for f in facts if f.day in test_days)
    once = holdout(labels, test_days[0], test_days[-1], rule, spy, truth_cutoff=D0 + timedelta(days=90))
    assert len(once.rows) == len(pred.rows) and len(once.train_sizes) == 1


def test_the_bundled_model_is_plain_numbers_and_serves_minilm_vectors() -> None:
    document = load_bundled()
    model = TrendModel.from_dict(document["model"])
    assert document["label"] == "featured" and document["cutoff"] == "2025-04-21"
    assert document["train_to"] < "2025-04-21" and model.dim == 384
    assert document["embedding_model"] == "all-MiniLM-L6-v2"
    assert document["evaluation"]["model"]["auc"] > 0.8
    # A paper with a strong author history and a code link scores higher than a bare one.
    history = AuthorHistory([])
    bare = paper_features(PaperFacts(day=date(2026, 1, 5), title="On x", authors=("A",)), history)
    rich_facts = PaperFacts(
        day=date(2026, 1, 5),
        title="Xformer: fast x",
        abstract="Code is available at https://github.com/a/b.",
        authors=tuple(f"P{i}" for i in range(12)),
        categories=("cs.CV",),
        primary_category="cs.CV",
    )
    rich = paper_features(rich_facts, history)
    v = np.zeros((2, 384))
    v[:, 0] = 1.0
    p = predict_rows(model, [bare, rich], v)
    assert 0 < p[0] < p[1] < 1
