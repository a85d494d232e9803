"""A made-up labelled world in the database for the early-trending service tests.

Papers over `days` days (weekends included, to keep dates simple), `per_day` a day. A paper is
featured when it has a code link or a "lab" author, with some noise; featured papers are listed
on Hugging Face 0–2 days after their announcement. Each paper has a small unit vector whose first
coordinate leans towards its label, stored as an embedding of model `MODEL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from app.embed.vectors import to_bytes
from app.models import Embedding, Paper

MODEL = "test-vectors"
DIM = 16
LAB = ("Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")


@dataclass
class World:
    start: date
    ids_by_day: dict[date, list[int]] = field(default_factory=dict)
    listed: set[int] = field(default_factory=set)


def add_paper(
    session: Session,
    n: int,
    day: date,
    *,
    authors: list[str],
    code: bool,
    listed_on: date | None,
    rng: np.random.Generator,
    model: str = MODEL,
    dim: int = DIM,
    category: str = "cs.LG",
) -> Paper:
    arxiv_id = f"2601.{n:05d}"
    abstract = "We propose a method. " + (
        "Code: https://github.com/x/y." if code else "Data: https://example.org/x."
    )
    paper = Paper(
        source="arxiv_api",
        source_id=arxiv_id,
        arxiv_id=arxiv_id,
        arxiv_version=1,
        title=f"Paper number {n}",
        abstract=abstract,
        authors=authors,
        categories=[category],
        primary_category=category,
        announced_date=day,
        hf_date=listed_on,
        hf_listed=True if listed_on else None,
        text_hash=f"{n:064d}",
        raw={},
    )
    session.add(paper)
    session.flush()
    vector = rng.normal(size=dim)
    vector[0] += 2.0 if listed_on else -0.5
    vector /= np.linalg.norm(vector)
    session.add(
        Embedding(paper_id=paper.id, model=model, text_hash=paper.text_hash, dim=dim, vector=to_bytes(vector))
    )
    return paper


def build(
    session: Session,
    start: date,
    *,
    days: int = 40,
    per_day: int = 30,
    seed: int = 0,
    model: str = MODEL,
    dim: int = DIM,
) -> World:
    rng = np.random.default_rng(seed)
    world = World(start)
    n = 0
    for d in range(days):
        day = start + timedelta(days=d)
        world.ids_by_day[day] = []
        for _ in range(per_day):
            n += 1
            code = bool(rng.random() < 0.3)
            lab = bool(rng.random() < 0.15)
            authors = [f"Person {rng.integers(0, 300)}" for _ in range(int(rng.integers(1, 6)))]
            if lab:
                authors.append(LAB[int(rng.integers(0, len(LAB)))])
            featured = rng.random() < (0.7 if (code or lab) else 0.06)
            listed_on = day + timedelta(days=int(rng.integers(0, 3))) if featured else None
            paper = add_paper(
                session,
                n,
                day,
                authors=authors,
                code=code,
                listed_on=listed_on,
                rng=rng,
                model=model,
                dim=dim,
            )
            world.ids_by_day[day].append(paper.id)
            if listed_on:
                world.listed.add(paper.id)
    session.flush()
    return world
