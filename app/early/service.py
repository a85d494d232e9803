"""Training and scoring early-trending models against the database. Never commits.

* `ensure_bundled` stores the bundled starting model once (label "featured" only: it learned
  nothing about upvote thresholds), so predictions work from the first run.
* `training_due` / `train`: once this instance has `min_labels` labelled papers of its own
  (`min_positives` of them listed), and again whenever `retrain_labels` more arrived, a model
  is trained at cutoff today on the last `train_days` days that have labels (every listed paper and at most
  `negatives_per_positive` others per listed one, chosen by a hash of the paper id; the
  probabilities are shifted back to the full flow). It is first evaluated on a holdout, the
  last `eval_days` labelled days (more when they hold under a sixth of the papers) with all
  their papers, by a copy trained at the holdout's first
  day; a model that cannot show an AUC of 0.6 on 20 listed papers is kept for the record but
  not used.
* `score`: every paper with a vector gets the prediction of the model that serves its day (the
  newest active model whose cutoff is not after the day); a new model rescores the papers of its
  days and no others, so no paper is ever scored by a model that saw labels from its own day on.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.config import Settings
from app.early import queries
from app.early.bundled import load_bundled
from app.early.features import AuthorHistory, PaperFacts, feature_rows, paper_features, venue_name
from app.early.labels import LabelFacts, LabelRule
from app.early.metrics import evaluate
from app.early.model import FitParams, ModelError, TrendModel
from app.early.reasons import MIN_EVAL_POSITIVES, reliability, top_reasons
from app.early.replay import holdout
from app.early.topic_signal import topic_inputs
from app.early.training import (
    BASELINES,
    Recipe,
    baseline_input,
    baseline_predict,
    fit_rows,
    model_document,
    predict_rows,
)
from app.models import TrendModelVersion
from app.models._common import utcnow

log = logging.getLogger("papertrend.early")

MIN_ADOPT_AUC = 0.6
EVAL_MAX_PAPERS = 20_000
Progress = Callable[[str], None]


@dataclass(frozen=True)
class EarlyOptions:
    rule: LabelRule = field(default_factory=LabelRule)
    min_labels: int = 500
    min_positives: int = 50
    retrain_labels: int = 200
    train_days: int = 180
    max_rows: int = 30_000
    negatives_per_positive: float = 5.0
    calibration: str = "platt"
    eval_days: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> EarlyOptions:
        return cls(
            rule=LabelRule(settle_days=settings.early_settle_days, min_upvotes=settings.early_label_upvotes),
            min_labels=settings.early_min_labels,
            min_positives=settings.early_min_positives,
            retrain_labels=settings.early_retrain_labels,
            train_days=settings.early_train_days,
            max_rows=settings.early_max_rows,
            negatives_per_positive=settings.early_negatives_per_positive,
            calibration=settings.early_calibration,
        )


# Bundled model ---------------------------------------------------------------------------------


def _row_from_document(
    document: dict[str, Any], *, kind: str, labels_here: int, active: bool, note: str | None
) -> TrendModelVersion:
    return TrendModelVersion(
        name=str(document["name"]),
        kind=kind,
        label=str(document["label"]),
        cutoff=date.fromisoformat(document["cutoff"]),
        train_from=date.fromisoformat(document["train_from"]) if document.get("train_from") else None,
        train_to=date.fromisoformat(document["train_to"]) if document.get("train_to") else None,
        n_train=int(document["n_train"]),
        n_positive=int(document["n_positive"]),
        n_labels_here=labels_here,
        features=list(document["features"]),
        document=document,
        evaluation=dict(document.get("evaluation") or {}),
        active=active,
        note=note,
        created_at=utcnow(),
    )


def ensure_bundled(session: Session, options: EarlyOptions) -> TrendModelVersion | None:
    """Store the bundled model when it is missing; None when it cannot serve this instance's label."""
    document = load_bundled()
    TrendModel.from_dict(document["model"])  # refuse an unreadable file before storing it
    if document["label"] != options.rule.key:
        return None
    existing = queries.model_by_name(session, document["name"])
    if existing is not None:
        return existing
    row = _row_from_document(document, kind="bundled", labels_here=0, active=True, note=None)
    session.add(row)
    session.flush()
    log.info("bundled early-trending model %s stored (cutoff %s)", row.name, row.cutoff)
    return row


# Labels and training ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelCounts:
    labelled: int
    positives: int
    first_day: date | None
    last_day: date | None


def label_counts(session: Session, options: EarlyOptions, cutoff: date) -> LabelCounts:
    ids, facts, labels = queries.labelled_at(session, options.rule, cutoff)
    return LabelCounts(
        len(ids), int(sum(labels)), facts[0].day if facts else None, facts[-1].day if facts else None
    )


def _latest_trained(session: Session, label: str) -> TrendModelVersion | None:
    trained = [m for m in queries.all_models(session) if m.kind == "trained" and m.label == label]
    return trained[-1] if trained else None


def training_due(session: Session, options: EarlyOptions, today: date) -> tuple[bool, str]:
    """Whether enough new labels arrived for a (new) model of this instance, and why (not)."""
    counts = label_counts(session, options, today)
    if counts.labelled < options.min_labels or counts.positives < options.min_positives:
        return False, (
            f"{counts.labelled} labelled papers here ({counts.positives} listed); a model of this site's own "
            f"needs {options.min_labels} ({options.min_positives} listed)"
        )
    latest = _latest_trained(session, options.rule.key)
    if latest is None:
        return (
            True,
            f"{counts.labelled} labelled papers ({counts.positives} listed): first model of this site",
        )
    new = counts.labelled - latest.n_labels_here
    if latest.cutoff >= today:
        return False, f"model {latest.name} was trained today"
    if new >= options.retrain_labels:
        return True, f"{new} new labels since {latest.name}"
    return False, f"{new} new labels since {latest.name}; retraining needs {options.retrain_labels}"


@dataclass
class TrainReport:
    trained: bool
    reason: str
    model: TrendModelVersion | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.trained or self.model is None:
            return f"no new model: {self.reason}"
        ev = self.model.evaluation.get("model") or {}
        auc = ev.get("auc")
        used = "serving" if self.model.active else "stored, NOT used"
        head = (
            f"model {self.model.name} ({used}): {self.model.n_train} papers ({self.model.n_positive} listed)"
        )
        measured = f", holdout AUC {auc:.3f}" if auc is not None else ", not measured"
        return f"{head}{measured} ({self.seconds:.1f}s)"


def _keep_negative(paper_id: int, share: float) -> bool:
    """A stable pseudo-random choice of negatives (the same paper is kept on every retrain)."""
    return ((paper_id * 2654435761) % 2**32) / 2**32 < share


def _bundled_recipe(options: EarlyOptions) -> Recipe:
    try:
        params = load_bundled().get("recipe") or {}
    except (OSError, ValueError):
        params = {}
    return Recipe(
        params=FitParams(
            C=float(params.get("C", 1.0)),
            vector_weight=float(params.get("vector_weight", 1.0)),
            calibration=options.calibration,
        )
    )


@dataclass
class _Data:
    ids: list[int]
    facts: list[PaperFacts]
    labels: list[LabelFacts]
    rows: list[dict[str, float]]
    vectors: np.ndarray


def _inputs(
    session: Session,
    ids: list[int],
    label_facts: dict[int, LabelFacts],
    embedding_model: str,
    history_listings: Any,
) -> _Data:
    with_vectors, matrix = queries.vectors(session, embedding_model, ids)
    facts_by_id = queries.paper_facts(session, with_vectors)
    keep = [i for i, pid in enumerate(with_vectors) if pid in facts_by_id]
    kept_ids = [with_vectors[i] for i in keep]
    topics = topic_inputs(session, [(pid, facts_by_id[pid].day) for pid in kept_ids])
    facts = [
        replace(facts_by_id[pid], topic_momentum=topics[pid].momentum if pid in topics else None)
        for pid in kept_ids
    ]
    return _Data(
        ids=kept_ids,
        facts=facts,
        labels=[label_facts[pid] for pid in kept_ids],
        rows=feature_rows(facts, history_listings),
        vectors=matrix[keep] if keep else np.zeros((0, 0)),
    )


def train(
    session: Session,
    options: EarlyOptions,
    embedding_model: str,
    today: date,
    *,
    progress: Progress | None = None,
) -> TrainReport:
    """Train, evaluate and store a model at cutoff `today` (the caller decides whether it is due)."""
    started = time.perf_counter()
    say = progress or (lambda message: log.info("%s", message))
    rule = options.rule
    ids, facts, labels = queries.labelled_at(session, rule, today)
    if not ids:
        return TrainReport(
            False, "no labelled papers: read Hugging Face Daily Papers or import labelled files"
        )
    # The last `train_days` days that have labels (not calendar days: a site that stopped reading
    # Hugging Face for a while, or a stray re-announced paper, must not empty the window).
    labelled_days = sorted({f.day for f in facts})
    since = (
        labelled_days[-options.train_days] if len(labelled_days) > options.train_days else labelled_days[0]
    )
    window = [i for i, f in enumerate(facts) if f.day >= since]
    positives = [i for i in window if labels[i] == 1]
    negatives = [i for i in window if labels[i] == 0]
    if len(positives) < options.min_positives or len(window) < options.min_labels:
        return TrainReport(
            False,
            f"{len(window)} labelled papers in the last {options.train_days} days ({len(positives)} listed); "
            f"needs {options.min_labels} ({options.min_positives} listed)",
        )
    room = max(0, options.max_rows - len(positives))
    share = min(
        1.0,
        options.negatives_per_positive * len(positives) / max(len(negatives), 1),
        room / max(len(negatives), 1),
    )
    kept_negatives = [i for i in negatives if _keep_negative(ids[i], share)]
    if len(kept_negatives) < 2:
        return TrainReport(False, "too few unlisted papers to learn from")
    shift = math.log(len(kept_negatives) / len(negatives)) if len(kept_negatives) < len(negatives) else 0.0

    # Holdout: the last labelled days with all their papers (what the model would have met).
    days = sorted({facts[i].day for i in window})
    # The holdout: the last `eval_days` labelled days, widened until it holds at least a sixth of
    # the papers (a few sparse recent days alone would measure nothing).
    by_day = Counter(facts[i].day for i in window)
    n_eval, held = 0, 0
    while n_eval < len(days) - 1 and (n_eval < options.eval_days or held < len(window) / 6):
        n_eval += 1
        held += by_day[days[-n_eval]]
        if held >= len(window) / 3:
            break
    eval_start = days[-max(n_eval, 1)]
    chosen = sorted({*positives, *kept_negatives})
    eval_rows = [i for i in window if facts[i].day >= eval_start][:EVAL_MAX_PAPERS]
    use = sorted(set(chosen) | set(eval_rows))
    say(f"early trending: {len(chosen)} training papers ({len(positives)} listed), holdout from {eval_start}")
    label_by_id = {ids[i]: facts[i] for i in use}
    history = queries.listings(session, rule, today)
    data = _inputs(session, [ids[i] for i in use], label_by_id, embedding_model, history)
    if not data.ids:
        return TrainReport(
            False, f"no labelled paper has a vector of {embedding_model} yet: run the embed step"
        )
    recipe = _bundled_recipe(options)
    at = {pid: k for k, pid in enumerate(data.ids)}
    chosen_set = {ids[i] for i in chosen}
    day_ordinals = np.array([f.day.toordinal() for f in data.facts], dtype=np.int64)

    def fit(rows: np.ndarray, y: np.ndarray) -> TrendModel:
        """The recipe fitted on these rows of `data`; `shift` makes up for the thinned negatives."""
        return fit_rows(
            [data.rows[r] for r in rows], data.vectors[rows], y, day_ordinals[rows], recipe, prior_shift=shift
        )

    def fit_predict(train_rows: np.ndarray, y: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
        # Train only on the subsample (negatives thinned), predict every holdout paper.
        keep = np.array([r for r in train_rows if data.ids[r] in chosen_set], dtype=np.int64)
        y_keep = np.array(
            [y[k] for k, r in enumerate(train_rows) if data.ids[r] in chosen_set], dtype=np.int64
        )
        model = fit(keep, y_keep)
        return predict_rows(model, [data.rows[r] for r in test_rows], data.vectors[test_rows])

    evaluation: dict[str, Any] = {
        "method": "holdout",
        "test_from": eval_start.isoformat(),
        "test_to": days[-1].isoformat(),
    }
    try:
        pred = holdout(data.labels, eval_start, days[-1], rule, fit_predict, truth_cutoff=today)
        scores = evaluate(pred.scores, pred.labels, pred.days)
        evaluation["model"] = scores.as_dict()
        evaluation["baselines"] = {}
        for name in BASELINES:
            inputs = baseline_input(name, data.facts, data.vectors)

            def run(
                train_rows: np.ndarray, y: np.ndarray, test_rows: np.ndarray, inputs: np.ndarray = inputs
            ) -> np.ndarray:
                return baseline_predict(inputs[train_rows], y, inputs[test_rows])

            base = holdout(data.labels, eval_start, days[-1], rule, run, truth_cutoff=today)
            evaluation["baselines"][name] = evaluate(base.scores, base.labels, base.days).as_dict()
    except (ModelError, ValueError) as exc:
        evaluation["error"] = str(exc)
        scores = None

    final_rows = np.array([at[ids[i]] for i in chosen if ids[i] in at], dtype=np.int64)
    y_final = np.array([labels[i] for i in chosen if ids[i] in at], dtype=np.int64)
    try:
        model = fit(final_rows, y_final)
    except ModelError as exc:
        return TrainReport(False, str(exc), seconds=time.perf_counter() - started)
    fields = Counter(data.facts[r].primary_category or "" for r in final_rows)
    train_days = [data.facts[r].day for r in final_rows]
    count = len(queries.all_models(session)) + 1
    document = model_document(
        model,
        name=f"trained-{today.isoformat()}-{count}",
        label=rule.key,
        cutoff=today,
        train_from=min(train_days),
        train_to=max(train_days),
        n_train=len(y_final),
        n_positive=int(y_final.sum()),
        recipe=recipe,
        settle_days=rule.settle_days,
        fields={k: v for k, v in fields.items() if k},
        evaluation=evaluation,
        embedding_model=embedding_model,
        source=(
            f"this site's papers announced {min(train_days)} to {max(train_days)} with the listings "
            f"known before {today}; unlisted papers thinned to {share:.0%} "
            f"(probabilities shifted by {shift:.3f})"
        ),
    )
    good = (
        scores is not None
        and scores.auc is not None
        and scores.positives >= MIN_EVAL_POSITIVES
        and scores.auc >= MIN_ADOPT_AUC
    )
    note = (
        None
        if good
        else "not used: its holdout shows no reliable skill (AUC below 0.6 or fewer than 20 listed papers)"
    )
    row = _row_from_document(document, kind="trained", labels_here=len(ids), active=good, note=note)
    session.add(row)
    session.flush()
    return TrainReport(True, "trained", row, time.perf_counter() - started)


# Scoring -----------------------------------------------------------------------------------------


def serves_embedding(model: TrendModelVersion, embedding_model: str) -> bool:
    """A model with vector inputs only understands vectors of the embedding model it learned from."""
    wanted = (model.document or {}).get("embedding_model")
    return wanted is None or wanted == embedding_model


@dataclass
class ScoreReport:
    scored: int = 0
    rescored: int = 0
    removed: int = 0
    models: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # models that could not score, and why
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.models:
            return "no early-trending model serves this site's label and embedding model yet"
        extra = f", {self.removed} from retired models removed" if self.removed else ""
        extra += "".join(f"; {note}" for note in self.skipped)
        return (
            f"{self.scored} papers scored ({self.rescored} by a newer model){extra} with "
            f"{', '.join(self.models)} ({self.seconds:.1f}s)"
        )


def score(
    session: Session,
    options: EarlyOptions,
    embedding_model: str,
    today: date,
    *,
    batch: int = 2000,
    progress: Progress | None = None,
) -> ScoreReport:
    """Score every paper that has no prediction from the model serving its day."""
    started = time.perf_counter()
    say = progress or (lambda message: log.info("%s", message))
    report = ScoreReport()
    report.removed = queries.drop_stale_predictions(session, options.rule.key)
    serving = [
        m for m in queries.serving_models(session, options.rule.key) if serves_embedding(m, embedding_model)
    ]
    if not serving:
        return report
    labels_here = label_counts(session, options, today).labelled
    history = AuthorHistory(queries.listings(session, options.rule, today + timedelta(days=1)))
    for span in queries.spans(serving):
        model = TrendModel.from_dict(span.model.document["model"])
        pending = queries.count_to_score(session, span, embedding_model)
        if not pending:
            continue
        report.models.append(span.model.name)
        done, after = 0, 0
        while True:
            ids = queries.papers_to_score(session, span, embedding_model, after_id=after, limit=batch)
            if not ids:
                break
            after = ids[-1]
            try:
                rows, rescored = _predict(
                    session, span.model, model, ids, embedding_model, history, labels_here, options
                )
            except ModelError as exc:  # e.g. vectors of another size: this model cannot serve them
                report.skipped.append(f"{span.model.name} skipped: {exc}")
                log.warning("early trending: %s skipped: %s", span.model.name, exc)
                break
            queries.replace_predictions(session, rows)
            report.scored += len(rows)
            report.rescored += rescored
            done += len(ids)
            say(f"early trending: {done}/{pending} papers scored with {span.model.name}")
    report.seconds = time.perf_counter() - started
    return report


def _predict(
    session: Session,
    version: TrendModelVersion,
    model: TrendModel,
    ids: Sequence[int],
    embedding_model: str,
    history: AuthorHistory,
    labels_here: int,
    options: EarlyOptions,
) -> tuple[list[dict[str, Any]], int]:
    with_vectors, matrix = queries.vectors(session, embedding_model, ids)
    facts_by_id = queries.paper_facts(session, with_vectors)
    keep = [i for i, pid in enumerate(with_vectors) if pid in facts_by_id]
    kept = [with_vectors[i] for i in keep]
    if not kept:
        return [], 0
    topics = topic_inputs(session, [(pid, facts_by_id[pid].day) for pid in kept])
    facts = [
        replace(facts_by_id[pid], topic_momentum=topics[pid].momentum if pid in topics else None)
        for pid in kept
    ]
    rows = [paper_features(f, history) for f in facts]
    V = matrix[keep] if model.vector_coef is not None else None
    if V is not None and V.shape[1] != model.dim:
        raise ModelError(
            f"model {version.name} expects vectors of dimension {model.dim}, "
            f"the stored ones have {V.shape[1]}"
        )
    probabilities = predict_rows(model, rows, V)
    from app.early.features import to_matrix

    names, lifts = model.contributions(to_matrix(rows, model.features), V)
    previous = queries.predictions(session, kept)
    evaluation = version.evaluation.get("model") or {}
    fields = version.document.get("fields") or {}
    bundled = version.kind == "bundled"
    now = utcnow()
    out = []
    for k, pid in enumerate(kept):
        fact = facts[k]
        extras = {}
        venue = venue_name(fact.comment)
        if venue:
            extras["venue"] = venue
        if pid in topics and topics[pid].rising_topic:
            extras["topic"] = str(topics[pid].rising_topic)
        reasons = top_reasons(names, lifts[k].tolist(), rows[k], extras)
        field_name = fact.primary_category
        trust = reliability(
            bundled=bundled,
            eval_auc=evaluation.get("auc"),
            eval_positives=int(evaluation.get("positives") or 0),
            field=field_name,
            field_papers=int(fields.get(field_name, 0)) if field_name else None,
            labels_here=labels_here,
            labels_needed=options.min_labels,
        )
        out.append(
            {
                "paper_id": pid,
                "model_id": version.id,
                "probability": round(float(probabilities[k]), 5),
                "reasons": [{"code": r.code, "text": r.text, "lift": r.lift} for r in reasons],
                "reliability": trust.level,
                "reliability_note": trust.note,
                "inputs": {name: round(value, 4) for name, value in rows[k].items()},
                "computed_at": now,
            }
        )
    rescored = sum(1 for pid in kept if pid in previous)
    return out, rescored
