"""The JSON API under /api/v1: papers, topics, trending, search, and the error format.

`router` is mounted by `app.main.create_app` at /api/v1; `install_error_handlers(app)` gives
every error one JSON shape under /api and the site's error pages elsewhere; `install_cors(app)`
allows cross-origin reads of the API.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.errors import install_error_handlers

router = APIRouter()

__all__ = ["install_error_handlers", "router"]
