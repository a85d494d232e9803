"""Load the bundled demo slice into an empty database and run the offline pipeline on it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.ingest.queries import count_papers
from app.jobs.pipeline import make_encoder, run_pipeline

log = logging.getLogger("papertrend.demo")

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_data"
SEED_FILE = DEMO_DIR / "seed_papers.json"
PAPERS_FILE = DEMO_DIR / "demo_papers.jsonl.gz"
VECTORS_FILE = DEMO_DIR / "demo_vectors.f16.npy"
VECTOR_IDS_FILE = DEMO_DIR / "demo_vectors.ids.txt"


def load_demo(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Ingest the demo files, import their vectors, embed the rest, build topics and trends.

    Does nothing when the database already holds papers (unless `force`), so `make run`
    can call it every time. Returns the summary lines of the pipeline steps.
    """
    from app.embed.transfer import import_vectors
    from app.ingest.service import ingest_file

    with session_scope(factory) as session:
        existing = count_papers(session)
    if existing and not force:
        return [f"the database already holds {existing} papers; demo data not loaded"]

    echo(f"loading the demo papers from {DEMO_DIR} ...")
    with session_scope(factory) as session:
        seed = ingest_file(session, SEED_FILE, source="seed")
        sample = ingest_file(session, PAPERS_FILE, source="arxiv")
    echo(f"  {seed.summary()}")
    echo(f"  {sample.summary()}")

    encoder = make_encoder(settings)
    with session_scope(factory) as session:
        imported = import_vectors(
            session, VECTORS_FILE, VECTOR_IDS_FILE, model_name=encoder.model_name, expected_dim=encoder.dim
        )
    echo(f"  {imported.summary()}")
    echo("embedding the papers that came without vectors, building topics and trends ...")
    report = run_pipeline(settings, factory, encoder=encoder, ingest=False, digests=False)
    return report.lines()
