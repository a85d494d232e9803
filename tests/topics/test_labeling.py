"""Words and names: stemming, phrase counting, casing, near-duplicates, label choice, slugs."""

from __future__ import annotations

import numpy as np
import pytest

from app.topics.labeling import (
    PhraseCorpus,
    assign_labels,
    build_corpus,
    is_acronym,
    label_key,
    label_ok,
    near_duplicate,
    pretty,
    slugify,
    stem,
)


def test_stem_groups_inflections() -> None:
    assert {stem(w) for w in ["quantization", "quantized", "quantizing", "quantize", "Quantisation"]} == {
        "quantiz"
    }
    assert stem("pruning") == stem("pruned") == stem("prune")
    assert stem("representations") == stem("representation") == stem("representing")
    assert stem("embeddings") == stem("embedding") == stem("embedded")
    assert stem("fine-tuning") == stem("finetuning")
    assert stem("images") == stem("imaging") == stem("image")
    assert stem("transformer") != stem("transform")
    assert stem("LLMs") == stem("llm") == "llm"
    assert stem("3D") == "3d"


def test_stop_words_are_scikit_learns_list_plus_title_fillers() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as sklearn_words

    from app.topics.words import ENGLISH_STOP_WORDS, STOP_WORDS

    assert sklearn_words == ENGLISH_STOP_WORDS
    assert sklearn_words < STOP_WORDS
    assert {"via", "towards", "rethinking", "leveraging"} <= STOP_WORDS


def corpus_of(titles: list[str], abstracts: list[str] | None = None) -> PhraseCorpus:
    return build_corpus(titles, abstracts or [""] * len(titles))


def column(corpus: PhraseCorpus, key: str) -> int:
    return corpus.keys.index(key)


def test_corpus_counts_title_and_abstract_phrases() -> None:
    corpus = corpus_of(
        ["Quantization of LLMs", "Post-Training Quantization for Vision", "Quantized Transformers at Scale"],
        ["We quantize weights; quantization error drops.", "", "Nothing here."],
    )
    j = column(corpus, "quantiz")
    assert corpus.title[:, j].toarray().ravel().tolist() == [1, 1, 1]
    assert corpus.abstract[:, j].toarray().ravel().tolist() == [2, 0, 0]
    assert corpus.phrases[j] == "Quantization"  # not "Quantized"
    assert "of" not in " ".join(corpus.keys).split()  # stop words end phrases
    assert all(not k.isdigit() for k in corpus.keys)


def test_corpus_merges_spellings_and_marks_fragments() -> None:
    titles = [
        "Vision-Language Models for Robots",
        "Vision-Language Models in Space",
        "Vision Language Models at Scale",
        "Vision Language Models Count",
        "Retrieval-Augmented Generation for QA",
        "Retrieval-Augmented Generation in Medicine",
        "Large Language Models Reason",
        "Large Language Models Plan",
    ]
    corpus = corpus_of(titles)
    vlm = [k for k in corpus.keys if k.replace(" ", "") == "visionlanguagmodel"]
    assert len(vlm) == 1
    assert corpus.title[:, column(corpus, vlm[0])].sum() == 4
    assert corpus.complete[column(corpus, "retrievalaugment")] < 0.5  # always followed by "Generation"
    assert corpus.complete[column(corpus, "retrievalaugment gener")] >= 0.5
    assert "larg languag model" not in corpus.keys  # only generic words


def test_corpus_with_a_fixed_vocabulary() -> None:
    abstracts = ["low-rank adaptation (LoRA) and LoRA again", "lora"]
    corpus = build_corpus(["LoRA adapters", "Nothing"], abstracts, vocabulary=["LoRA"])
    assert corpus.keys == ["lora"]
    assert corpus.title[:, 0].toarray().ravel().tolist() == [1, 0]
    assert corpus.abstract[:, 0].toarray().ravel().tolist() == [2, 1]
    assert corpus.complete.tolist() == [1.0]


def test_corpus_of_nothing() -> None:
    corpus = corpus_of(["", "The of and"])
    assert corpus.keys == [] and corpus.title.shape == (2, 0)
    with pytest.raises(ValueError):
        build_corpus(["a"], [])


def test_pretty_keeps_acronyms() -> None:
    assert pretty("retrieval-augmented generation") == "Retrieval-Augmented Generation"
    assert pretty("LoRA and parameter-efficient fine-tuning") == "LoRA and Parameter-Efficient Fine-Tuning"
    assert pretty("LLM quantization") == "LLM Quantization"
    assert pretty("3D gaussian splatting") == "3D Gaussian Splatting"
    assert pretty("text-to-image") == "Text-to-Image"
    assert pretty("Quantization", title_case=False) == "quantization"
    assert pretty("NeRF", title_case=False) == "NeRF"


# Same stems give or take words like "models"; what kind of model does the work ("LLM", "AI",
# "language model") does not change the subject either, while what the subject is made of does.
NEAR_DUPLICATES = [
    ("Diffusion Models", "diffusion model"),
    ("Vision-Language Models", "Vision Language Models"),
    ("Large Vision-Language Models", "Vision-Language Models"),
    ("Representation Learning", "Representation"),
    ("LLM Agents", "AI Agents"),
    ("Agentic AI", "Language Model Agents"),
    ("Reasoning Models", "LLM Reasoning"),
    ("Explainable AI", "Explainability"),
    ("Multi-Agent Systems", "Multi-Agent Framework"),
]
DIFFERENT = [
    ("Speech Recognition", "Emotion Recognition"),
    ("Video", "Video Generation"),
    ("Image Segmentation", "Medical Image Segmentation"),
    ("GUI Agents", "LLM Agents"),
    ("Vision Language Models", "Vision Models"),
    ("Multi-Agent Collaboration", "Multi-Agent Systems"),
]


def test_near_duplicates() -> None:
    for a, b in NEAR_DUPLICATES:
        assert near_duplicate(label_key(a), label_key(b)), (a, b)
    for a, b in DIFFERENT:
        assert not near_duplicate(label_key(a), label_key(b)), (a, b)


def test_acronyms() -> None:
    assert is_acronym("RAG", "retrieval-augmented generation")
    assert is_acronym("LoRA", "Low-Rank Adaptation")
    assert is_acronym("LVLMs", "large vision-language models")
    assert is_acronym("RL", "Reinforcement Learning")
    assert not is_acronym("Video", "video generation")
    assert not is_acronym("RL", "robot learning systems")


def test_assign_labels_never_repeats() -> None:
    labels = assign_labels(
        [["Diffusion Models", "Image Synthesis"], ["Diffusion Model", "Video"], ["Diffusion"], ["Diffusion"]]
    )
    assert labels[0] == "Diffusion Models"
    assert labels[1] == "Video"
    assert all(lab for lab in labels)
    keys = [label_key(str(lab)) for lab in labels]
    assert len(set(keys)) == len(keys)
    assert not any(ch.isdigit() for lab in labels for ch in str(lab))
    cands = [["Quantization"], ["Quantized"], ["Pruning"]]
    optional = assign_labels(cands, taken=["Pruning"], required=False)
    assert optional == ["Quantization", None, None]


def test_slugify() -> None:
    assert slugify("LoRA & Parameter-Efficient Fine-Tuning") == "lora-parameter-efficient-fine-tuning"
    assert slugify("  Médical   Imaging!! ") == "medical-imaging"
    assert slugify("3D Gaussian Splatting") == "3d-gaussian-splatting"
    assert slugify("???") == "topic"


def test_build_corpus_is_deterministic() -> None:
    titles = ["Sparse Attention", "Sparse Attention Kernels", "Attention Sinks", "Sparse Mixture"]
    a, b = corpus_of(titles), corpus_of(list(titles))
    assert a.keys == b.keys and a.phrases == b.phrases
    assert np.array_equal(a.title.toarray(), b.title.toarray())


def test_ascii_and_unicode_papers_count_the_same_phrases() -> None:
    """ASCII papers take a faster tokeniser than the others; both must count alike, punctuation runs and
    hyphens included, and a NUL byte in a text must not be taken for the end of a paper."""
    titles = [
        "Low-Bit Quantization (LLMs): a Study",
        "Low-Bit Quantization (LLMs): a Study ÷",
        "Quantization\x00 Aware Training; Low-Bit Quantization",
        "Quantization — Aware Training; Low-Bit Quantization",
    ]
    abstracts = [
        "We study low-bit quantization... of LLMs!! Quantization-aware training helps.",
        "We study low-bit quantization... of LLMs!! Quantization-aware training helps. é",
        "Low-bit quantization, again: low-bit quantization.",
        "Low-bit quantization, again: low-bit quantization. ✓",
    ]
    corpus = corpus_of(titles, abstracts)
    title, abstract = corpus.title.toarray(), corpus.abstract.toarray()
    np.testing.assert_array_equal(title[0], title[1])
    np.testing.assert_array_equal(abstract[0], abstract[1])
    np.testing.assert_array_equal(title[2], title[3])
    np.testing.assert_array_equal(abstract[2], abstract[3])
    bit = column(corpus, "lowbit quantiz")
    assert title[:, bit].tolist() == [1, 1, 1, 1]
    assert abstract[:, bit].tolist() == [1, 1, 2, 2]
    assert title[:, column(corpus, "quantiz")].tolist() == [1, 1, 2, 2]
    assert corpus.title.shape == corpus.abstract.shape == (4, 3)  # the NUL did not start a fifth paper


def test_single_word_labels() -> None:
    # The field's own words, names, and phrases written as one hyphenated word are labels.
    for ok in ["Quantization", "LoRA", "NeRF", "Mixture-of-Experts", "Chain-of-Thought", "Text-to-Speech"]:
        assert label_ok(ok), ok
    # Ordinary words, fragments of longer phrases and generic compounds are not.
    bad_words = ["Memory", "Thought", "3D", "Zero-Shot", "Multi-Agent", "End-to-End", "State-of-the-Art"]
    for bad in bad_words:
        assert not label_ok(bad), bad
