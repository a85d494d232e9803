"""Recipes: which inputs a model learns from and how, plus the three reference baselines (pure).

A `Recipe` names the input groups (`features.GROUPS`), whether the paper's vector is used,
the least number of papers an input must occur in to be learned (`min_support`: rare
categories would only add noise) and the fit parameters. `fit_rows` turns feature rows into a
`TrendModel`; the model keeps the feature names it learned, so later rows can have more or
fewer names without harm.

Baselines (what the model must beat, measured the same way):
* `vector`: logistic regression on the vector alone (C = 1, no calibration);
* `authors`: the number of authors alone;
* `code`: whether the arXiv comment mentions code, GitHub or a project ("code", "github",
  "project" anywhere in it).
Each baseline is fitted as a logistic regression on its one input, so it gives probabilities
too (for the Brier score); its ranking is that of the raw input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from app.early.features import GROUPS, PaperFacts, to_matrix, vocabulary
from app.early.model import FitParams, TrendModel, fit

Array = npt.NDArray[np.float64]
BASELINES = ("vector", "authors", "code")
CODE_IN_COMMENT = re.compile(r"code|github|project", re.I)


@dataclass(frozen=True)
class Recipe:
    groups: tuple[str, ...] = GROUPS
    use_vector: bool = True
    min_support: int = 20
    params: FitParams = field(default_factory=FitParams)

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown input group(s): {', '.join(sorted(unknown))}")
        if not self.groups and not self.use_vector:
            raise ValueError("a recipe needs at least one input group or the vector")

    def describe(self) -> list[str]:
        return [*self.groups, *(["vector"] if self.use_vector else [])]


def fit_rows(
    rows: Sequence[dict[str, float]],
    vectors: Array | None,
    labels: npt.ArrayLike,
    days: Sequence[int] | npt.NDArray[np.int64],
    recipe: Recipe = Recipe(),
    *,
    prior_shift: float = 0.0,
) -> TrendModel:
    """A model fitted on these rows (vectors are ignored when the recipe does not use them)."""
    names = vocabulary(rows, min_support=recipe.min_support, groups=recipe.groups)
    X = to_matrix(rows, names)
    V = vectors if recipe.use_vector else None
    return fit(X, names, V, np.asarray(labels, dtype=np.int64), days, recipe.params, prior_shift=prior_shift)


def predict_rows(model: TrendModel, rows: Sequence[dict[str, float]], vectors: Array | None) -> Array:
    X = to_matrix(rows, model.features)
    return model.predict(X, vectors if model.vector_coef is not None else None)


def baseline_input(name: str, facts: Sequence[PaperFacts], vectors: Array | None) -> Array:
    """The one input of a baseline, one row per paper (the vector baseline: the vectors)."""
    if name == "vector":
        if vectors is None:
            raise ValueError("the vector baseline needs vectors")
        return np.asarray(vectors, dtype=np.float64)
    if name == "authors":
        return np.array([[math.log1p(len(f.authors))] for f in facts], dtype=np.float64)
    if name == "code":
        return np.array([[float(bool(CODE_IN_COMMENT.search(f.comment or "")))] for f in facts])
    raise ValueError(f"unknown baseline {name!r}")


def baseline_predict(train: Array, y: npt.ArrayLike, test: Array) -> Array:
    """A plain logistic regression (C = 1) on the baseline's input."""
    model = LogisticRegression(C=1.0, max_iter=3000).fit(train, np.asarray(y, dtype=np.int64))
    return np.asarray(model.predict_proba(test)[:, 1], dtype=np.float64)


def model_document(
    model: TrendModel,
    *,
    name: str,
    label: str,
    cutoff: date,
    train_from: date | None,
    train_to: date | None,
    n_train: int,
    n_positive: int,
    recipe: Recipe,
    settle_days: int,
    fields: dict[str, int],
    evaluation: dict[str, Any],
    source: str,
    embedding_model: str | None,
) -> dict[str, Any]:
    """Everything stored about one model version (the bundled file and the database row share it)."""
    return {
        "name": name,
        "label": label,
        "cutoff": cutoff.isoformat(),
        "train_from": train_from.isoformat() if train_from else None,
        "train_to": train_to.isoformat() if train_to else None,
        "n_train": n_train,
        "n_positive": n_positive,
        "settle_days": settle_days,
        "recipe": {
            "groups": list(recipe.groups),
            "vector": recipe.use_vector,
            "min_support": recipe.min_support,
            "C": recipe.params.C,
            "vector_weight": recipe.params.vector_weight,
            "calibration": recipe.params.calibration,
        },
        "features": [*model.features, *(["vector"] if model.vector_coef is not None else [])],
        # The vectors it learned from: it serves only where papers are embedded by the same model.
        "embedding_model": embedding_model if model.vector_coef is not None else None,
        "fields": dict(sorted(fields.items())),
        "evaluation": evaluation,
        "source": source,
        "model": model.to_dict(),
    }
