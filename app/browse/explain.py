"""Reading a trending score: its named parts, what each measures, and how much each added (pure).

PaperScore.components is written by the trends job as {"parts": {name: contribution},
"values": {name: signal in [0, 1]}, "detail": {facts}}; a flat {name: number} dict from an
older run is read as contributions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PART_LABELS = {
    "recency": ("Recency", "How new the paper is within the window; halves every third of the window."),
    "upvotes": ("Upvotes", "Hugging Face upvotes, log-scaled; 100 or more counts fully."),
    "topic_momentum": ("Topic momentum", "How fast the paper's best topic is growing against its baseline."),
    "code": ("Code", "Whether a code repository is linked."),
}


@dataclass(frozen=True)
class ScorePart:
    name: str
    label: str
    help: str
    value: float | None  # the signal, 0..1, when known
    contribution: float  # what it added to the score
    weight: float | None  # contribution / value, when both are known

    @property
    def percent(self) -> int:
        """Contribution as a share of 100 points (for the bar widths)."""
        return max(0, min(100, round(self.contribution * 100)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def score_parts(components: dict[str, Any] | None) -> list[ScorePart]:
    """The parts of a score, largest contribution first."""
    components = components or {}
    parts = components.get("parts")
    values = components.get("values") or {}
    if not isinstance(parts, dict):
        parts = {k: v for k, v in components.items() if _number(v) is not None}
    out = []
    for name, raw in parts.items():
        contribution = _number(raw)
        if contribution is None:
            continue
        value = _number(values.get(name)) if isinstance(values, dict) else None
        label, help_text = PART_LABELS.get(name, (str(name).replace("_", " ").capitalize(), ""))
        weight = contribution / value if value else None
        out.append(ScorePart(str(name), label, help_text, value, contribution, weight))
    out.sort(key=lambda p: (-p.contribution, p.name))
    return out


def score_facts(components: dict[str, Any] | None) -> dict[str, Any]:
    detail = (components or {}).get("detail")
    return dict(detail) if isinstance(detail, dict) else {}
