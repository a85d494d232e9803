"""The HTML site: pages, feeds, error pages and security headers.

`router` is mounted at / by `app.main.create_app`; `install_error_pages(app)` renders errors
on site paths as pages; `security.install_security_headers(app)` adds the security headers.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web import feeds, info, pages
from app.web.errors import install_error_pages

router = APIRouter()
router.include_router(pages.router)
router.include_router(info.router)
router.include_router(feeds.router)

# The subscription pages (/subscribe, confirmation, preferences, unsubscribe) have their own module.
try:
    from app.web import subscriptions as _subscriptions
except ModuleNotFoundError as exc:  # pragma: no cover - only while that module does not exist
    if exc.name != "app.web.subscriptions":
        raise
else:
    _subscriptions_router = getattr(_subscriptions, "router", None)
    if _subscriptions_router is not None:
        router.include_router(_subscriptions_router)

__all__ = ["install_error_pages", "router"]
