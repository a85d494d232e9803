"""A prediction in words: its top reasons and how far to trust it (pure).

Reasons are the inputs that raised the paper's log-odds the most compared with an average
training paper (`TrendModel.contributions`), at least `MIN_LIFT` each, at most three, each
said in words from the paper's own input values ("authors with 3 featured papers", "code
released", "in a rising topic: Diffusion models"). An input that lowered the odds is never
given as a reason.

Reliability says how much the number can be trusted, from what the model and this instance
know:

* **low**: the model saw fewer than `MIN_FIELD_PAPERS` training papers from the paper's
  primary category (a field Hugging Face rarely covers), or its own evaluation had fewer
  than `MIN_EVAL_POSITIVES` listed papers, or it scored below AUC 0.7;
* **moderate**: the bundled starting model while this instance has fewer than the labels it
  needs to train its own (its authors' history here is thin), or an evaluation below AUC 0.8;
* **good**: otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.early.features import CATEGORY_PREFIX, PRIMARY_PREFIX
from app.early.model import SUBJECT

MIN_LIFT = 0.15  # log-odds; about a 15 % rise of the odds
MAX_REASONS = 3
MIN_FIELD_PAPERS = 30
MIN_EVAL_POSITIVES = 20


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    lift: float  # what the input added to the log-odds


def _count(value: float) -> int:
    return round(math.expm1(value))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(name: str, value: float, extras: Mapping[str, str]) -> str | None:
    """The words for one input with this value (None: nothing worth saying)."""
    if name in ("authors_featured_total", "authors_featured_max", "authors_featured_recent"):
        total = _count(value) if name == "authors_featured_total" else None
        if total:
            return f"authors with {_plural(total, 'featured paper')}"
        return "authors featured before"
    if name in ("first_author_featured", "last_author_featured"):
        n = _count(value)
        who = "first" if name.startswith("first") else "last"
        return f"{who} author has {_plural(n, 'featured paper')}" if n else None
    if name == "authors_featured_share":
        return f"{round(value * 100)} % of the authors featured before" if value else None
    if name == "code_link":
        return "code released" if value else None
    if name == "project_page":
        return "project page" if value else None
    if name == "venue":
        venue = extras.get("venue")
        return f"accepted at {venue}" if venue else "accepted at a venue" if value else None
    if name == "authors_log":
        return f"{_plural(_count(value), 'author')}"
    if name == "named_title":
        return "a named method in the title" if value else None
    if name == "topic_momentum":
        topic = extras.get("topic")
        if value <= 0:
            return None
        return f"in a rising topic: {topic}" if topic else "in a rising topic"
    if name == SUBJECT:
        return "on a subject that often trends"
    if name.startswith(PRIMARY_PREFIX) and value:
        return f"a {name.removeprefix(PRIMARY_PREFIX)} paper, a field often featured"
    if name.startswith(CATEGORY_PREFIX) and value:
        return f"also listed in {name.removeprefix(CATEGORY_PREFIX)}, a field often featured"
    if name == "has_comment":
        return "details in the arXiv comment" if value else None
    if name == "abstract_words":
        return "a detailed abstract"
    if name == "n_categories":
        return f"listed in {_plural(round(value), 'category')}"
    return None


def top_reasons(
    names: Sequence[str],
    lifts: Sequence[float],
    values: Mapping[str, float],
    extras: Mapping[str, str] | None = None,
    *,
    limit: int = MAX_REASONS,
) -> list[Reason]:
    """The inputs that raised this paper's odds the most, in words, best first; one per wording."""
    extras = extras or {}
    order = sorted(range(len(names)), key=lambda i: -lifts[i])
    out: list[Reason] = []
    said: set[str] = set()
    author_said = False
    for i in order:
        if lifts[i] < MIN_LIFT or len(out) >= limit:
            break
        name = names[i]
        # The author inputs say the same thing several ways: give the strongest one only.
        if name.startswith(("authors_featured", "first_author", "last_author")):
            if author_said:
                continue
            text = describe("authors_featured_total", values.get("authors_featured_total", 0.0), extras)
            author_said = True
        else:
            text = describe(name, values.get(name, 0.0 if name != SUBJECT else 1.0), extras)
        if text and text not in said:
            said.add(text)
            out.append(Reason(name, text, round(float(lifts[i]), 3)))
    return out


@dataclass(frozen=True)
class Reliability:
    level: str  # low | moderate | good
    note: str


def reliability(
    *,
    bundled: bool,
    eval_auc: float | None,
    eval_positives: int,
    field: str | None,
    field_papers: int | None,
    labels_here: int,
    labels_needed: int,
) -> Reliability:
    """How far to trust a prediction (rules in the module docstring)."""
    if field and field_papers is not None and field_papers < MIN_FIELD_PAPERS:
        return Reliability(
            "low",
            f"the model saw only {_plural(field_papers, 'training paper')} in {field}: "
            "Hugging Face rarely covers this field",
        )
    if eval_auc is None or eval_positives < MIN_EVAL_POSITIVES:
        return Reliability("low", "the model has too few listed papers to measure its accuracy")
    if eval_auc < 0.7:
        return Reliability("low", f"the model's measured ROC AUC is only {eval_auc:.2f}")
    if bundled and labels_here < labels_needed:
        return Reliability(
            "moderate",
            f"starting model; this site has {_plural(labels_here, 'labelled paper')} of the "
            f"{labels_needed} it needs to learn its own, so authors' history here is thin",
        )
    if eval_auc < 0.8:
        return Reliability("moderate", f"measured ROC AUC {eval_auc:.2f}")
    return Reliability(
        "good", f"measured ROC AUC {eval_auc:.2f} on {_plural(eval_positives, 'listed paper')}"
    )
