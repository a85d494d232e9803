"""A small synthetic corpus for the topics service tests: papers with titles, abstracts and vectors.

Three research areas, each with its own vocabulary and its own direction in vector space, and one
technique (quantization) that cuts across them. Vectors are written as Embedding rows directly, so
the tests need no encoder. Everything is seeded: the same call gives the same corpus.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from app.embed.vectors import to_bytes
from app.models import Embedding, Paper
from app.topics.fields import FIELDS

MODEL = "synthetic-test"
DIM = 48
END = date(2026, 6, 30)

AREAS: dict[str, dict[str, list[str]]] = {
    "speech": {
        "phrases": ["speech recognition", "speaker verification", "spoken language understanding"],
        "words": ["acoustic", "audio", "phoneme", "utterance", "speaker", "prosody", "waveform"],
    },
    "medical": {
        "phrases": ["medical imaging", "tumor segmentation", "chest radiograph analysis"],
        "words": ["clinical", "patient", "radiology", "lesion", "diagnosis", "hospital", "scan"],
    },
    "driving": {
        "phrases": ["autonomous driving", "trajectory prediction", "motion planning"],
        "words": ["vehicle", "lidar", "traffic", "pedestrian", "road", "lane", "urban"],
    },
}
TECHNIQUE = "quantization"


def area_words(area: str) -> set[str]:
    """Lower-case words a label of that area may be made of."""
    vocab = AREAS[area]
    return {w for phrase in vocab["phrases"] for w in phrase.split()} | set(vocab["words"]) | {area}


def names_area(label: str, area: str) -> bool:
    """The label is made of the area's words, or is the research field whose terms they are."""
    if set(label.lower().replace("-", " ").split()) & area_words(area):
        return True
    terms = {t.lower() for t in FIELDS.get(label, ())}
    return len(terms & area_words(area)) >= 3


FILLERS = ["robust", "scalable", "efficient", "adaptive", "hierarchical", "contrastive", "sparse"]


@dataclass
class SyntheticPaper:
    source_id: str
    area: str
    title: str
    abstract: str
    day: date
    vector: np.ndarray
    technique: bool
    upvotes: int | None = None


def make_corpus(
    *,
    per_area: int = 40,
    areas: tuple[str, ...] = ("speech", "medical", "driving"),
    technique_share: float = 0.25,
    seed: int = 0,
    days: int = 70,
    prefix: str = "syn",
    surge_last_week: int = 0,
) -> list[SyntheticPaper]:
    """Papers spread evenly over `days` days ending on END; `surge_last_week` extra technique papers
    (spread over the areas) land in the last seven days."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(np.random.default_rng(1234).normal(size=(DIM, DIM)))[0]
    direction = {name: basis[i] for i, name in enumerate(AREAS)}
    tech_direction = basis[len(AREAS)]
    papers: list[SyntheticPaper] = []

    def one(area: str, index: int, technique: bool, day: date) -> SyntheticPaper:
        vocab = AREAS[area]
        phrase = vocab["phrases"][int(rng.integers(len(vocab["phrases"])))]
        words = [str(w) for w in rng.choice(vocab["words"], size=3, replace=False)]
        filler = FILLERS[int(rng.integers(len(FILLERS)))]
        if technique:
            title = f"Low-bit {TECHNIQUE} for {filler} {phrase}"
            abstract = (
                f"We study {TECHNIQUE} of {phrase} models with {words[0]} and {words[1]} data. "
                f"Post-training {TECHNIQUE} keeps {words[2]} accuracy at four bits."
            )
            vec = 0.8 * direction[area] + 0.6 * tech_direction
        else:
            title = f"{filler.capitalize()} {phrase} with {words[0]} {words[1]} cues"
            abstract = (
                f"This paper addresses {phrase} using {words[0]}, {words[1]} and {words[2]} signals "
                f"from a large {area} benchmark."
            )
            vec = direction[area].copy()
        vec = vec + 0.12 * rng.normal(size=DIM)
        vec = (vec / np.linalg.norm(vec)).astype(np.float32)
        return SyntheticPaper(f"{prefix}-{area}-{index:04d}", area, title, abstract, day, vec, technique)

    for area in areas:
        for i in range(per_area):
            day = END - timedelta(days=int(i * days / per_area))
            papers.append(one(area, i, bool(rng.random() < technique_share), day))
    for j in range(surge_last_week):
        area = areas[j % len(areas)]
        papers.append(one(area, per_area + j, True, END - timedelta(days=j % 7)))
    return papers


def insert_corpus(session: Session, papers: list[SyntheticPaper], *, model: str = MODEL) -> list[int]:
    """Paper and Embedding rows for the synthetic papers; returns the paper ids in order."""
    ids = []
    for p in papers:
        text_hash = hashlib.sha256(f"{p.title}. {p.abstract}".encode()).hexdigest()
        paper = Paper(
            source="synthetic",
            source_id=p.source_id,
            title=p.title,
            abstract=p.abstract,
            announced_date=p.day,
            primary_category=f"cs.{p.area[:2].upper()}",
            upvotes=p.upvotes,
            text_hash=text_hash,
        )
        session.add(paper)
        session.flush()
        session.add(
            Embedding(paper_id=paper.id, model=model, text_hash=text_hash, dim=DIM, vector=to_bytes(p.vector))
        )
        ids.append(paper.id)
    session.flush()
    return ids
