"""What the web app needs for semantic search: the encoder (loaded lazily) and the vector index.

The index is derived data: until one is published (or saved locally) the site falls back to
keyword search. `load_search_state` loads the newest published version at start-up and
returns the `IndexWatcher` that keeps it current (`app.jobs.index_watch`); embedded mode also
asks the watcher right after each pipeline run.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.http import state_of
from app.jobs.index_watch import IndexWatcher

log = logging.getLogger("papertrend.search")


def load_search_state(
    app: FastAPI, settings: Settings, factory: sessionmaker[Session]
) -> IndexWatcher | None:
    """Put an encoder and the newest usable index on the app's state; never raise.

    Returns the watcher (not yet polling in the background: `start()` it), or None when
    semantic search is off because the embedding model cannot be used.
    """
    from app.embed.encoder import SentenceTransformerEncoder

    state = state_of(app)
    try:
        encoder = SentenceTransformerEncoder.from_settings(settings)  # weights load on first query
    except Exception as exc:  # the site still serves keyword search without a model
        log.warning("semantic search off: the embedding model cannot be used (%s)", exc)
        state.set_search(None, None)
        return None
    state.set_search(encoder, state.index)
    watcher = IndexWatcher(state, settings, factory, encoder)
    watcher.poll()
    return watcher
