"""Phrase counting splits text with Arrow: it must split exactly as `str.split()` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.topics.phrases import _END, _clean_text, _tokenize, _word_ids

PIECES = ["a", "bb", " ", "  ", "\n", "\t", "é", "x ", "ü ", "-", " . ", "\u00a0", "日本", "LoRA"]
PIECES += ["fine-tuning", "x.y", "(3D)"]


def _reference(texts: list[str], lower: bool) -> list[str]:
    return _clean_text(texts, lower).split()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=60).map("".join), max_size=12), st.booleans())
def test_words_and_ids_are_those_of_str_split(texts: list[str], lower: bool) -> None:
    ids, words = _word_ids(_clean_text(texts, lower))
    expected = _reference(texts, lower)
    assert [words[i] for i in ids.tolist()] == expected
    assert words == list(dict.fromkeys(expected))  # numbered in order of first use


def test_empty_papers_keep_their_boundaries() -> None:
    # 64 empty titles: Arrow once kept the trailing space on the last "\x00" token.
    for n in (1, 2, 63, 64, 65, 200):
        tokens = _tokenize([""] * n, {}, lower=False, grow=True)
        assert tokens.docs.tolist() == list(range(n))
        assert tokens.words == [_END]
