"""Early-trending predictions over the site tests' seeded database, made by the real bundled model.

Every seeded paper gets a MiniLM-sized unit vector (random, fixed seed) stored under the bundled
embedding model's name, then the service stores the bundled model and scores the papers as the
pipeline does.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.early.service import EarlyOptions, ensure_bundled, score
from app.embed.encoder import BUNDLED_MODEL_NAME
from app.embed.vectors import to_bytes
from app.models import Embedding, Paper
from tests.web.seed import REF_DAY, Seeded

UNSCORED = "2611.10003"  # left without a vector: it has no estimate


def add_predictions(session: Session, seeded: Seeded) -> None:
    rng = np.random.default_rng(7)
    for arxiv_id, paper_id in seeded.papers.items():
        if arxiv_id == UNSCORED:
            continue
        paper = session.get(Paper, paper_id)
        assert paper is not None
        vector = rng.normal(size=384)
        session.add(
            Embedding(
                paper_id=paper_id,
                model=BUNDLED_MODEL_NAME,
                text_hash=paper.text_hash,
                dim=384,
                vector=to_bytes(vector / np.linalg.norm(vector)),
            )
        )
    session.flush()
    ensure_bundled(session, EarlyOptions())
    report = score(session, EarlyOptions(), BUNDLED_MODEL_NAME, REF_DAY)
    assert report.scored == len(seeded.papers) - 1, report.summary()


def probabilities(session: Session) -> dict[str, float]:
    from app.models import TrendPrediction

    rows = session.execute(
        select(Paper.arxiv_id, TrendPrediction.probability).join(
            TrendPrediction, TrendPrediction.paper_id == Paper.id
        )
    )
    return {str(a): float(p) for a, p in rows}
