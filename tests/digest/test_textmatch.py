"""Keyword matching: stems, acronyms and their long forms, phrases, BM25 weighting (pure)."""

from __future__ import annotations

from app.digest.textmatch import TextIndex, compile_keywords, stem


def _index(*docs: tuple[str, str]) -> TextIndex:
    return TextIndex([t for t, _ in docs], [a for _, a in docs])


def test_gnn_matches_gnns_and_forms_of_a_word() -> None:
    index = _index(("Scaling GNNs to billions of edges", "We train them."), ("Quantized transformers", "x"))
    (gnn,) = compile_keywords(["GNN"])
    f, in_title = index.match(gnn)
    assert f[0] > 0 and in_title[0] and f[1] == 0
    (quant,) = compile_keywords(["quantization"])
    assert index.match(quant)[0][1] > 0
    assert stem("gnns") == stem("gnn") == "gnn"


def test_acronym_finds_its_long_form_only_where_the_subscribers_words_say_so() -> None:
    index = _index(("Graph neural networks for molecules", "Message passing."), ("A GNN benchmark", "x"))
    plain = compile_keywords(["GNN"])
    assert index.match(plain[0])[0][0] == 0  # nobody said what GNN stands for
    defined = compile_keywords(["graph neural networks (GNN)"])
    assert all(index.match(defined[0])[0] > 0)
    from_context = compile_keywords(["GNN"], context="I read about graph neural networks, mostly")
    assert all(index.match(from_context[0])[0] > 0)


def test_a_phrase_needs_its_words_in_order_and_the_title_weighs_more() -> None:
    index = _index(
        ("Speculative decoding at scale", "Fast."),
        ("Fast inference", "We use speculative decoding once."),
        ("Decoding speculative bets", "Nothing here."),
    )
    (phrase,) = compile_keywords(["speculative decoding"])
    f, _ = index.match(phrase)
    assert f[0] > f[1] > 0 and f[2] == 0
    ranked = index.bm25("speculative decoding")
    assert ranked[0] > ranked[1]


def test_exclusion_words_match_any_form() -> None:
    index = _index(("Diffusion models", "x"), ("Diffusing heat", "x"), ("Robots", "x"))
    hits = index.any_match(compile_keywords(["diffusion"]))
    assert hits.tolist() == [True, True, False]
