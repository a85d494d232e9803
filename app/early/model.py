"""The early-trending model: fit, calibrate, predict, explain, and store as plain JSON (pure).

margin = intercept + Σ coef_j · (x_j − mean_j) / scale_j + vector_weight · (v · w)

A logistic regression (scikit-learn, L2, `C`) over the standardised named inputs x and the
paper's unit-length vector v; `vector_weight` scales the vector block, which sets how strongly
its 384 coefficients are regularised against the few named ones. The margin is then calibrated
on out-of-fold margins (folds are whole announcement days, so a day's papers never calibrate
their own predictions): Platt scaling (a sigmoid, `a · margin + b`) or isotonic regression.
Last, `prior_shift` (log of the share of negatives kept when training on a subsample) is
added to the calibrated log-odds, so probabilities refer to the full flow of papers and not
to the subsample.

The stored form is numbers only (no pickle): `to_dict` / `from_dict` round-trip it and reject
a document whose shapes do not fit together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from app.early.errors import ModelError

FORMAT = "papertrend-early-logistic/1"
SUBJECT = "subject"  # the vector block's share of the margin, in explanations
PROBABILITY_FLOOR = 1e-4

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FitParams:
    C: float = 1.0
    vector_weight: float = 1.0
    calibration: str = "platt"  # platt | isotonic
    folds: int = 5
    max_iter: int = 3000

    def __post_init__(self) -> None:
        if self.calibration not in ("platt", "isotonic"):
            raise ValueError("calibration must be 'platt' or 'isotonic'")
        if self.C <= 0 or self.vector_weight < 0 or self.folds < 2:
            raise ValueError("C must be positive, vector_weight non-negative and folds at least 2")


@dataclass
class TrendModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    vector_coef: list[float] | None = None
    vector_weight: float = 0.0
    vector_center: float = 0.0
    calibration: dict[str, Any] = field(default_factory=lambda: {"method": "platt", "a": 1.0, "b": 0.0})
    prior_shift: float = 0.0

    @property
    def dim(self) -> int | None:
        return len(self.vector_coef) if self.vector_coef is not None else None

    # Prediction ------------------------------------------------------------------------------

    def _standardised(self, X: Array) -> Array:
        if X.shape[1] != len(self.features):
            raise ModelError(f"expected {len(self.features)} named inputs, got {X.shape[1]}")
        return (X - np.asarray(self.mean)) / np.asarray(self.scale)

    def _vector_term(self, V: Array | None, n: int) -> Array:
        if self.vector_coef is None or self.vector_weight == 0:
            return np.zeros(n)
        if V is None or V.shape != (n, len(self.vector_coef)):
            raise ModelError(f"expected {n} vectors of dimension {len(self.vector_coef)}")
        return np.asarray(self.vector_weight * (V @ np.asarray(self.vector_coef)), dtype=np.float64)

    def margins(self, X: Array, V: Array | None) -> Array:
        """The uncalibrated log-odds of each row."""
        Xs = self._standardised(X)
        return np.asarray(self.intercept + Xs @ np.asarray(self.coef) + self._vector_term(V, X.shape[0]))

    def calibrate(self, margins: Array) -> Array:
        method = self.calibration.get("method")
        if method == "platt":
            p = _sigmoid(float(self.calibration["a"]) * margins + float(self.calibration["b"]))
        elif method == "isotonic":
            p = np.interp(margins, self.calibration["x"], self.calibration["y"])
        else:
            raise ModelError(f"unknown calibration {method!r}")
        p = np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        if self.prior_shift:
            p = _sigmoid(np.log(p / (1 - p)) + self.prior_shift)
        return np.asarray(p, dtype=np.float64)

    def predict(self, X: Array, V: Array | None) -> Array:
        """Calibrated probabilities, one per row."""
        return self.calibrate(self.margins(X, V))

    def contributions(self, X: Array, V: Array | None) -> tuple[list[str], Array]:
        """What each named input (and the subject, from the vector) adds to each row's log-odds,
        measured from an average training paper (0 = typical)."""
        Xs = self._standardised(X)
        parts = Xs * np.asarray(self.coef)
        names = list(self.features)
        if self.vector_coef is not None and self.vector_weight:
            subject = self._vector_term(V, X.shape[0]) - self.vector_center
            parts = np.column_stack([parts, subject])
            names.append(SUBJECT)
        return names, np.asarray(parts)

    # Storage ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        calibration = {
            k: ([_round(x) for x in v] if isinstance(v, list) else _round(v) if isinstance(v, float) else v)
            for k, v in self.calibration.items()
        }
        return {
            "format": FORMAT,
            "features": list(self.features),
            "mean": [_round(x) for x in self.mean],
            "scale": [_round(x) for x in self.scale],
            "coef": [_round(x) for x in self.coef],
            "intercept": _round(self.intercept),
            "vector_coef": None if self.vector_coef is None else [_round(x) for x in self.vector_coef],
            "vector_weight": self.vector_weight,
            "vector_center": _round(self.vector_center),
            "calibration": calibration,
            "prior_shift": _round(self.prior_shift),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrendModel:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"not a stored early-trending model (format {FORMAT} expected)")
        try:
            model = cls(
                features=[str(n) for n in data["features"]],
                mean=[float(x) for x in data["mean"]],
                scale=[float(x) for x in data["scale"]],
                coef=[float(x) for x in data["coef"]],
                intercept=float(data["intercept"]),
                vector_coef=None
                if data.get("vector_coef") is None
                else [float(x) for x in data["vector_coef"]],
                vector_weight=float(data.get("vector_weight", 0.0)),
                vector_center=float(data.get("vector_center", 0.0)),
                calibration=dict(data["calibration"]),
                prior_shift=float(data.get("prior_shift", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"stored model is incomplete: {exc}") from None
        n = len(model.features)
        if not (len(model.mean) == len(model.scale) == len(model.coef) == n):
            raise ModelError("stored model: features, mean, scale and coef differ in length")
        if any(s <= 0 or not math.isfinite(s) for s in model.scale):
            raise ModelError("stored model: a scale is not a positive number")
        method = model.calibration.get("method")
        if method == "isotonic":
            xs, ys = model.calibration.get("x"), model.calibration.get("y")
            if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys) or not xs:
                raise ModelError("stored model: isotonic calibration needs x and y of equal length")
        elif method != "platt":
            raise ModelError(f"stored model: unknown calibration {method!r}")
        return model


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def _sigmoid(z: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), dtype=np.float64)


def _design(Xs: Array, V: Array | None, vector_weight: float) -> Array:
    if V is None or vector_weight == 0:
        return Xs
    return np.hstack([Xs, vector_weight * np.asarray(V, dtype=np.float64)])


def _logistic(C: float, max_iter: int) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=max_iter)


def _fit_calibration(margins: Array, y: npt.NDArray[np.int64], method: str) -> dict[str, Any]:
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margins, y)
        return {
            "method": "isotonic",
            "x": [float(x) for x in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(margins.reshape(-1, 1), y)
    return {"method": "platt", "a": float(platt.coef_[0, 0]), "b": float(platt.intercept_[0])}


def fit(
    X: Array,
    names: Sequence[str],
    V: Array | None,
    y: Sequence[int] | npt.NDArray[np.int64],
    days: Sequence[int] | npt.NDArray[np.int64],
    params: FitParams = FitParams(),
    *,
    prior_shift: float = 0.0,
) -> TrendModel:
    """Fit on rows X (named inputs), V (vectors, or None), labels y; `days` groups the folds."""
    labels = np.asarray(y, dtype=np.int64)
    groups = np.asarray(days)
    if X.shape[0] != labels.shape[0] or groups.shape[0] != labels.shape[0]:
        raise ModelError("one label and one day per row are needed")
    if V is not None and V.shape[0] != X.shape[0]:
        raise ModelError("one vector per row is needed")
    positives = int(labels.sum())
    if positives < 2 or positives > len(labels) - 2:
        raise ModelError(
            f"need at least 2 positive and 2 negative examples, got {positives} of {len(labels)}"
        )
    mean = X.mean(axis=0) if X.shape[1] else np.zeros(0)
    scale = X.std(axis=0) if X.shape[1] else np.zeros(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    Xs = (X - mean) / scale
    design = _design(Xs, V, params.vector_weight)

    # Out-of-fold margins for the calibration: whole days per fold.
    oof = np.zeros(len(labels))
    n_days = len(np.unique(groups))
    folds = min(params.folds, n_days)
    covered = np.zeros(len(labels), dtype=bool)
    if folds >= 2:
        for train, test in GroupKFold(n_splits=folds).split(design, labels, groups):
            if len(np.unique(labels[train])) < 2:
                continue
            part = _logistic(params.C, params.max_iter).fit(design[train], labels[train])
            oof[test] = part.decision_function(design[test])
            covered[test] = True
    final = _logistic(params.C, params.max_iter).fit(design, labels)
    if covered.sum() < 10 or len(np.unique(labels[covered])) < 2:
        oof, covered = final.decision_function(design), np.ones(len(labels), dtype=bool)
    calibration = _fit_calibration(oof[covered], labels[covered], params.calibration)

    k = X.shape[1]
    coef = final.coef_[0]
    vector_coef = None
    center = 0.0
    if V is not None and params.vector_weight:
        vector_coef = [float(c) for c in coef[k:]]
        center = float(np.mean(params.vector_weight * (np.asarray(V, dtype=np.float64) @ coef[k:])))
    return TrendModel(
        features=list(names),
        mean=[float(m) for m in mean],
        scale=[float(s) for s in scale],
        coef=[float(c) for c in coef[:k]],
        intercept=float(final.intercept_[0]),
        vector_coef=vector_coef,
        vector_weight=float(params.vector_weight) if vector_coef is not None else 0.0,
        vector_center=center,
        calibration=calibration,
        prior_shift=float(prior_shift),
    )
