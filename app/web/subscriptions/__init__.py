"""The subscription side of the site: subscribe, confirm, preferences, feedback, unsubscribe,
the embedded-mode outbox, /admin and the bounce webhook. `router` is included by `app.web`."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.subscriptions import admin, feedback, outbox, preferences, signup, unsubscribe

router = APIRouter(include_in_schema=False)
for module in (signup, unsubscribe, preferences, feedback, outbox, admin):
    router.include_router(module.router)

__all__ = ["router"]
