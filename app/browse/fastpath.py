"""The cache's fast path: a repeated GET of a cached URL is answered before routing.

Routing and parameter validation cost more than the cached answer itself, so a pure ASGI
middleware keeps whole responses (status, headers, body) by raw path and query string for the
routes that use `app.browse.cache.cached`, and serves them again, honouring If-None-Match,
until the data generation moves or the entry's time is up. HEAD is answered from the same
entries. Errors are never kept. Install it with `install_response_cache(app)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.browse.cache import FASTPATH_MARK, RawResponse, etag_matches, get_cache
from app.readiness import note_unreachable

KEEP_STATUSES = frozenset({200, 301})
# /static is served by StaticFiles with its own validators; the probes and metrics must not
# wait on the cache's database check (a liveness probe answers even when the database does not).
SKIP_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")
NOT_FOR_304 = frozenset({b"content-type", b"content-length"})


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        app: Any = scope.get("app")
        factory = getattr(getattr(app, "state", None), "session_factory", None)
        if scope["type"] != "http" or method not in ("GET", "HEAD") or factory is None:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        cache = get_cache(app)
        key = (scope["path"], scope.get("query_string", b""))
        try:
            entry = await cache.raw_lookup(factory, key)
        except SQLAlchemyError as exc:  # the database is away: the route itself will say so (or not need it)
            note_unreachable(exc, where="the response cache")
            await self.app(scope, receive, send)
            return
        if entry is not None:
            await self._replay(scope, send, entry, head=method == "HEAD")
            return
        if method == "HEAD":
            await self.app(scope, receive, send)
            return
        mark: dict[str, Any] = {}
        scope[FASTPATH_MARK] = mark
        generation = cache.generation
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if mark.get("ttl") and start is not None and start["status"] in KEEP_STATUSES:
            headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
            body = b"".join(chunks)
            raw = RawResponse(start["status"], headers, body, _header(headers, b"etag"), float(mark["ttl"]))
            cache.raw_store(key, raw, generation)

    @staticmethod
    async def _replay(scope: Scope, send: Send, entry: RawResponse, *, head: bool) -> None:
        if_none_match = None
        for name, value in scope.get("headers", []):
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        if entry.status == 200 and entry.etag and etag_matches(if_none_match, entry.etag):
            headers = [(k, v) for k, v in entry.headers if k.lower() not in NOT_FOR_304]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
        await send({"type": "http.response.body", "body": b"" if head else entry.body})


def install_response_cache(app: FastAPI) -> None:
    """Answer repeated GETs of cached pages, feeds and API reads before routing (call once in create_app)."""
    if not any(m.cls is ResponseCacheMiddleware for m in app.user_middleware):
        app.add_middleware(ResponseCacheMiddleware)
