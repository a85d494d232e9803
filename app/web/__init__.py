"""The HTML site: pages (`pages`, `info`), feeds, the subscription pages (`subscriptions/`),
error pages and security headers, and the operations endpoints (`health`). Routes take their
dependencies from `app.http`.

`router` is mounted at / by `app.main.create_app`; `install_error_pages(app)` renders errors
on site paths as pages; `security.install_security_headers(app)` adds the security headers.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web import feeds, health, info, likely, pages, subscriptions
from app.web.errors import install_error_pages

router = APIRouter()
for module in (pages, info, feeds, likely, subscriptions, health):
    router.include_router(module.router)

__all__ = ["install_error_pages", "router"]
