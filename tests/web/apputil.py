"""Build the real application for the site, API and feed tests (no scheduler, no search index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.browse.fastpath import install_response_cache
from app.config import load_settings
from app.main import create_app
from app.web import install_error_pages


def build_app(session_factory: sessionmaker[Session], var_dir: Path, **overrides: Any) -> FastAPI:
    values: dict[str, Any] = {
        "environment": "test",
        "var_dir": var_dir,
        "secret_key": "test-secret-key-" + "x" * 32,
        "base_url": "https://papers.example.org",
    }
    settings = load_settings(**{**values, **overrides})
    app = create_app(settings, session_factory=session_factory, load_search=False)
    # Until create_app installs them itself: the site's error pages and the cache's fast path.
    if not hasattr(app.state, "html_error_renderer"):
        install_error_pages(app)
    install_response_cache(app)
    return app
