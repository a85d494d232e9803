"""The JSON API under /api/v1: papers, topics, trending, search, status, subscriptions, and errors.

`router` is mounted by `app.main.create_app` at /api/v1; `install_error_handlers(app)` gives
every error one JSON shape under /api and the site's error pages elsewhere. Reads are open
to any origin (read-only CORS: GET, HEAD and OPTIONS only; a cross-origin write is refused
by the browser at its preflight).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api import discover, likely, papers, subscriptions, topics
from app.api.errors import install_error_handlers

router = APIRouter()
for module in (papers, topics, discover, likely, subscriptions):
    router.include_router(module.router)

__all__ = ["install_error_handlers", "router"]
