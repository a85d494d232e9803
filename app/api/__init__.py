"""The JSON API under /api/v1: papers, topics, trending, search, status, and the error format.

`router` is mounted by `app.main.create_app` at /api/v1; `install_error_handlers(app)` gives
every error one JSON shape under /api and the site's error pages elsewhere. Reads are open
to any origin (read-only CORS: GET, HEAD and OPTIONS only; a cross-origin write is refused
by the browser at its preflight).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api import discover, papers, topics
from app.api.errors import install_error_handlers

router = APIRouter()
router.include_router(papers.router)
router.include_router(topics.router)
router.include_router(discover.router)

# The subscription endpoints have their own module, added by the subscriptions work.
try:
    from app.api import subscriptions as _subscriptions
except ModuleNotFoundError as exc:  # pragma: no cover - only while that module does not exist
    if exc.name != "app.api.subscriptions":
        raise
else:
    _subscriptions_router = getattr(_subscriptions, "router", None)
    if _subscriptions_router is not None:
        router.include_router(_subscriptions_router)


__all__ = ["install_error_handlers", "router"]
