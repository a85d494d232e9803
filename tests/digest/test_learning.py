"""What feedback teaches (pure): the Rocchio step of the interest vector and the shared words."""

from __future__ import annotations

import numpy as np

from app.digest.learning import Marked, learn


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_more_and_less_move_the_interest_vector() -> None:
    interest = _unit(1, 0, 0)
    liked = Marked(1, "more", "A", _unit(0, 1, 0))
    disliked = Marked(2, "less", "B", _unit(0, 0, 1))
    moved = learn(interest, [liked, disliked]).direction
    assert moved is not None and moved.dtype == np.float32
    assert moved @ _unit(0, 1, 0) > 0 > moved @ _unit(0, 0, 1)
    assert moved @ interest > 0.9  # a small step: the interest stays what the subscriber wrote
    assert learn(None, []).direction is None


def test_words_count_only_when_several_marked_titles_share_them() -> None:
    marks = [
        Marked(1, "less", "Speech recognition for meetings"),
        Marked(2, "less", "Robust speech recognition"),
        Marked(3, "more", "Graph transformers for molecules"),
    ]
    learned = learn(None, marks)
    assert learned.terms == {"speech": -2.0, "recognit": -2.0}
    assert learned.words["recognit"] == "recognition"
