"""Moving title phrases (app.topics.phrase_trends) on made-up titles: which phrases are listed, how."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.topics.phrase_trends import phrase_trends

END = date(2026, 6, 30)
WEEKS = 40


def corpus(*, after_end: int = 0) -> tuple[list[str], list[date]]:
    """Forty weeks of 30 papers a weekday. "Sparse Autoencoders" goes from 1 to 6 titles a day in the
    last quarter, "Neural Fields" from 5 to 1, "Graph Transformers" stays at 3; "Help" (an ordinary
    word) rises like the first. `after_end` days of papers after END that all write "Neural Fields"."""
    titles: list[str] = []
    days: list[date] = []
    quarter = END - timedelta(days=7 * 13 - 1)
    day = END - timedelta(days=7 * WEEKS - 1)
    while day <= END + timedelta(days=after_end):
        if day.weekday() < 5:
            late = day >= quarter
            made = [
                ("Sparse Autoencoders for Vision", 6 if late else 1),
                ("Neural Fields of Scenes", 1 if late else 5),
            ]
            made += [("Graph Transformers at Scale", 3), ("Planning with Help", 6 if late else 1)]
            if day > END:
                made = [("Neural Fields of Scenes", 30)]
            n = 0
            for text, k in made:
                for i in range(k):
                    titles.append(f"{text} {i} {day.isoformat()}")
                    n += 1
            titles += [f"Paper {i} {day.isoformat()}" for i in range(30 - n)]
            days += [day] * 30
        day += timedelta(days=1)
    return titles, days


def test_phrases_that_moved_are_listed_with_their_reason() -> None:
    titles, days = corpus()
    moving = {p.label: p for p in phrase_trends(titles, days, end=END)}
    assert moving["Sparse Autoencoders"].trend.state in {"rising", "emerging"}
    assert moving["Neural Fields"].trend.state == "falling"
    assert "Graph Transformers" not in moving  # steady
    assert not any("Help" in label for label in moving)  # an ordinary word names nothing
    assert "% of papers" in moving["Sparse Autoencoders"].trend.explanation
    listed = list(moving)
    assert listed.index("Sparse Autoencoders") < listed.index("Neural Fields")  # up first, then down


def test_papers_after_the_day_are_not_counted_and_bad_input_is_refused() -> None:
    titles, days = corpus(after_end=10)
    moving = {p.label: p.trend.state for p in phrase_trends(titles, days, end=END)}
    assert moving["Neural Fields"] == "falling"  # the later flood of "Neural Fields" is not seen
    assert phrase_trends([], [], end=END) == []
    with pytest.raises(ValueError, match="2 titles but 1 days"):
        phrase_trends(["a", "b"], [END], end=END)
