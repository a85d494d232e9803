"""Response cache for pages, API reads and feeds, invalidated by a data "generation".

Every pipeline run calls `bump_generation(session)` in its transaction. The generation is
kept in the database (a `cache:generation` row of source_states, plus the newest job run),
so every web process sees it; each process re-reads it at most once per `check_interval`
seconds, and a bump made in this process is seen at once. Entries also expire after
`ttl` seconds so relative dates ("3 hours ago") stay honest.

Concurrent misses of one key render once (the others wait for that render). Responses
carry a strong ETag (hash of the body) and answer If-None-Match with 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.db import session_scope
from app.http import state_of
from app.models import JobRun, SourceState

GENERATION_KEY = "cache:generation"

_local_lock = threading.Lock()
_local_generation = 0


def _bump_local(*_: object) -> None:
    global _local_generation
    with _local_lock:
        _local_generation += 1


def bump_generation(session: Session) -> int:
    """Mark every cached response stale. Call it in the transaction that changed the data."""
    row = session.get(SourceState, GENERATION_KEY)
    if row is None:
        row = SourceState(source=GENERATION_KEY, watermark="1")
        session.add(row)
    else:
        row.watermark = str(int(row.watermark or 0) + 1)
    session.flush()
    # This process's caches drop their entries as soon as the change is committed.
    event.listen(session, "after_commit", _bump_local, once=True)
    return int(row.watermark or 0)


def read_generation(session: Session) -> str:
    """The database side of the generation: the bump counter and the newest job run."""
    mark = session.scalar(select(SourceState.watermark).where(SourceState.source == GENERATION_KEY))
    newest = session.execute(select(func.max(JobRun.id), func.max(JobRun.finished_at))).one()
    return f"{mark or 0}:{newest[0] or 0}:{newest[1].isoformat() if newest[1] else '-'}"


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    media_type: str
    etag: str
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


def make_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags


@dataclass(frozen=True)
class RawResponse:
    """A complete response as sent (status, headers, body), served again by the fast path."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str | None
    ttl: float
    created: float = field(default_factory=time.monotonic)


Render = Callable[[Session], "tuple[bytes | str, str] | CachedResponse"]


class ResponseCache:
    """An LRU of rendered responses for one generation of the data."""

    def __init__(self, *, max_entries: int = 2048, check_interval: float = 1.0, ttl: float = 300.0) -> None:
        self.max_entries = max_entries
        self.check_interval = check_interval
        self.ttl = ttl
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Future[CachedResponse]] = {}
        self._db_generation: str | None = None
        self._checked_at = float("-inf")
        self._generation: tuple[str | None, int] | None = None
        self._checking = False
        # Whole responses by raw URL, for the middleware fast path (see app.browse.fastpath).
        self._raw: OrderedDict[Hashable, RawResponse] = OrderedDict()

    def clear(self) -> None:
        self._entries.clear()
        self._raw.clear()
        self._checked_at = float("-inf")

    @property
    def generation(self) -> tuple[str | None, int] | None:
        return self._generation

    async def raw_lookup(self, factory: sessionmaker[Session], key: Hashable) -> RawResponse | None:
        await self._current_generation(factory)
        entry = self._raw.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry.created >= entry.ttl:
            del self._raw[key]
            return None
        self._raw.move_to_end(key)
        self.hits += 1
        return entry

    def raw_store(self, key: Hashable, entry: RawResponse, generation: tuple[str | None, int] | None) -> None:
        """Keep a whole response, unless the data changed while it was being made."""
        if generation != self._generation:
            return
        self._raw[key] = entry
        while len(self._raw) > self.max_entries:
            self._raw.popitem(last=False)

    async def _current_generation(self, factory: sessionmaker[Session]) -> tuple[str | None, int]:
        now = time.monotonic()
        # One reader at a time; concurrent requests keep using the value read last.
        if now - self._checked_at >= self.check_interval and not self._checking:
            self._checking = True
            try:
                self._db_generation = await run_in_threadpool(_read_generation_with, factory)
                self._checked_at = time.monotonic()
            finally:
                self._checking = False
        generation = (self._db_generation, _local_generation)
        if generation != self._generation:
            self._entries.clear()
            self._raw.clear()
            self._generation = generation
        return generation

    async def get(
        self, factory: sessionmaker[Session], key: Hashable, render: Render, media_type: str
    ) -> CachedResponse:
        await self._current_generation(factory)
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.created < self.ttl:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        self.misses += 1
        future: asyncio.Future[CachedResponse] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            entry = await run_in_threadpool(_render_with, factory, render, media_type)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(entry)
        self._entries[key] = entry
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry


def _read_generation_with(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as session:
        return read_generation(session)


def _render_with(factory: sessionmaker[Session], render: Render, media_type: str) -> CachedResponse:
    with session_scope(factory) as session:
        result = render(session)
    if isinstance(result, CachedResponse):
        return result
    body, kind = result
    data = body.encode() if isinstance(body, str) else body
    return CachedResponse(body=data, media_type=kind or media_type, etag=make_etag(data))


def get_cache(app: FastAPI) -> ResponseCache:
    """The app's cache, created on first use (TTL: CACHE_SECONDS; 60 s when pages are not cached)."""
    cache: ResponseCache | None = getattr(app.state, "browse_cache", None)
    if cache is None:
        seconds = state_of(app).settings.cache_seconds
        cache = ResponseCache(ttl=float(seconds or 60))
        app.state.browse_cache = cache
    return cache


def cache_control(app: FastAPI) -> str:
    seconds = state_of(app).settings.cache_seconds
    return f"public, max-age={seconds}" if seconds > 0 else "no-cache"


def to_response(request: Request, entry: CachedResponse) -> Response:
    """The cached entry as a response, or 304 when the client already has this version."""
    headers = {"ETag": entry.etag, "Cache-Control": cache_control(request.app), **entry.headers}
    if entry.status_code == 200 and etag_matches(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, status_code=entry.status_code, media_type=entry.media_type, headers=headers)


FASTPATH_MARK = "papertrend.cacheable"


async def cached(
    request: Request,
    key: Hashable,
    render: Render,
    *,
    media_type: str = "text/html",
    ttl: float | None = None,
) -> Response:
    """Serve `render(session)` through the app's cache; exceptions (404...) are not cached.

    The response is also marked for the fast path (app.browse.fastpath), which then answers the
    same URL without routing, for `ttl` seconds (default: the cache's) or until the data changes.
    """
    cache = get_cache(request.app)
    entry = await cache.get(state_of(request).session_factory, key, render, media_type)
    mark = request.scope.get(FASTPATH_MARK)
    if isinstance(mark, dict):
        mark["ttl"] = min(ttl, cache.ttl) if ttl is not None else cache.ttl
    return to_response(request, entry)
