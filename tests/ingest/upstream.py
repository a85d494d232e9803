"""Fakes at the network edge: an httpx.MockTransport that replays recorded responses, a fake clock.

`Upstream` answers each request with the next response queued for the first matching route
and records every request (with the fake clock's time), so tests can check what was asked,
how often, and how far apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.config import Settings, load_settings
from app.ingest.sources.http import ArxivLimiter

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@dataclass
class Route:
    match: Callable[[httpx.Request], bool]
    replies: list[Reply]
    repeat_last: bool = True


@dataclass
class Upstream:
    clock: FakeClock = field(default_factory=FakeClock)
    routes: list[Route] = field(default_factory=list)
    calls: list[tuple[float, httpx.Request]] = field(default_factory=list)

    def on(
        self, match: Callable[[httpx.Request], bool], *replies: Reply, repeat_last: bool = True
    ) -> Upstream:
        self.routes.append(Route(match, list(replies), repeat_last))
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((self.clock(), request))
        for route in self.routes:
            if route.match(request) and route.replies:
                reply = (
                    route.replies[0]
                    if (len(route.replies) == 1 and route.repeat_last)
                    else route.replies.pop(0)
                )
                if isinstance(reply, Exception):
                    raise reply
                if callable(reply) and not isinstance(reply, httpx.Response):
                    return reply(request)
                return reply
        return httpx.Response(404, text=f"no route for {request.url}")

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def limiter(self, interval: float = 3.0) -> ArxivLimiter:
        return ArxivLimiter(interval, clock=self.clock, sleep=self.clock.sleep)

    def params(self, index: int) -> dict[str, str]:
        return dict(self.calls[index][1].url.params)


def path(suffix: str, **params: str) -> Callable[[httpx.Request], bool]:
    """Match a request by the end of its path and (some of) its query parameters."""

    def match(request: httpx.Request) -> bool:
        if not request.url.path.endswith(suffix):
            return False
        return all(request.url.params.get(k) == v for k, v in params.items())

    return match


def xml(body: bytes | str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body if isinstance(body, bytes) else body.encode(), headers=headers)


def json_reply(body: bytes | str, status: int = 200) -> httpx.Response:
    content = body if isinstance(body, bytes) else body.encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


def source_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "arxiv_api_url": "http://arxiv.test/api/query",
        "arxiv_oai_url": "http://arxiv.test/oai",
        "arxiv_rss_url": "http://rss.arxiv.test/rss",
        "hf_api_url": "http://hf.test/api",
        "arxiv_categories": "cs.LG cs.AI",
        "http_max_retries": 4,
        "http_retry_budget": 120.0,
        "operator_contact": "ops@example.org",
    }
    values.update(overrides)
    return load_settings(**values)
