"""What the web app needs for semantic search: the encoder (loaded lazily) and the vector index.

The index file is derived data: when it is missing the site falls back to keyword search
until the pipeline writes one; it is reloaded after each pipeline run.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.http import state_of

log = logging.getLogger("papertrend.search")


def load_search_state(app: FastAPI, settings: Settings, factory: sessionmaker[Session]) -> None:
    """Put an encoder and the saved index (if any) on the app's state; never raise."""
    from app.embed.encoder import SentenceTransformerEncoder
    from app.embed.faiss_index import VectorIndex
    from app.embed.index import index_path

    state = state_of(app)
    try:
        encoder = SentenceTransformerEncoder.from_settings(settings)  # weights load on first query
    except Exception as exc:  # the site still serves keyword search without a model
        log.warning("semantic search off: the embedding model cannot be used (%s)", exc)
        state.set_search(None, None)
        return
    path = index_path(settings.index_dir, encoder.model_name)
    index = None
    if not path.exists():
        log.info("no vector index at %s yet; search is keyword-only until the pipeline builds it", path)
    else:
        try:
            index = VectorIndex.load(path, nprobe=settings.search_nprobe)
        except Exception as exc:
            log.warning(
                "vector index at %s unusable (%s); keyword search only until it is rebuilt", path, exc
            )
    state.set_search(encoder, index)
