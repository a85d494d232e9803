"""Corpora for the embedding and search tests (the papers come from `tests.factories`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from app.ingest.records import paper_text_hash
from app.models import Paper
from tests.factories import add_paper

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def set_abstract(session: Session, paper: Paper, abstract: str) -> None:
    """What an ingest of a new arXiv version does: new text, new hash."""
    paper.abstract = abstract
    paper.text_hash = paper_text_hash(paper.title, abstract)
    session.flush()


def seed_papers() -> list[dict[str, str]]:
    return json.loads((FIXTURES / "seed_papers.json").read_text())


def add_seed_papers(session: Session) -> dict[str, int]:
    """The 73 seed papers; returns title -> paper id."""
    ids = {}
    for i, item in enumerate(seed_papers()):
        paper = add_paper(session, item["title"], item["abstract"], source_id=f"seed-{i:03d}")
        ids[item["title"]] = paper.id
    return ids


SMALL_CORPUS = [
    (
        "ZeroQuant for low-bit weights",
        "We quantize the weights of large language models to four bits.",
        ["cs.LG"],
    ),
    (
        "INT8 inference of transformers",
        "Integer quantization of transformer weights and activations.",
        ["cs.LG"],
    ),
    ("Diffusion models for images", "Denoising diffusion generates images from noise.", ["cs.CV"]),
    (
        "Contrastive representation learning",
        "Self-supervised contrastive learning of image features.",
        ["cs.CV"],
    ),
    (
        "Speech recognition with transformers",
        "Acoustic models transcribe spoken audio.",
        ["eess.AS", "cs.CL"],
    ),
]


def add_small_corpus(session: Session) -> list[Paper]:
    return [
        add_paper(
            session,
            title,
            abstract,
            arxiv_id=f"2601.{10001 + i:05d}",
            categories=cats,
            day=date(2026, 1, 5 + i),
        )
        for i, (title, abstract, cats) in enumerate(SMALL_CORPUS)
    ]
