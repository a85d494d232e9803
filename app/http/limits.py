"""Request body caps, enforced before a route reads anything.

`BodyLimit` is an ASGI middleware around the whole app. For each request it picks the cap of
its route (`BODY_LIMITS`, else `DEFAULT_BODY_LIMIT`), then:

* a declared `Content-Length` above the cap is answered 413 before the app runs: not one
  byte of the body is read;
* a body without a length (chunked) or one longer than declared is counted as the app reads
  it, and the read that crosses the cap raises `BodyTooLarge` (a 413 through the app's own
  error pages), so at most one network chunk beyond the cap is ever read.

The caps are generous for every form and JSON body the site takes and far below what
would let a visitor fill memory.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_BODY_LIMIT = 64 * 1024
# Bounce reports arrive in batches from the mail provider.
WEBHOOK_BODY_LIMIT = 1_000_000
BODY_LIMITS: dict[str, int] = {"/webhooks/bounces": WEBHOOK_BODY_LIMIT}
TOO_LARGE = "The request body is too large."


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def body_limit(path: str) -> int:
    return BODY_LIMITS.get(path.rstrip("/") or "/", DEFAULT_BODY_LIMIT)


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = body_limit(scope.get("path", "/"))
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(send, json=scope.get("path", "").startswith("/api/"))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(send: Send, *, json: bool) -> None:
    body = (b'{"error":"%s"}' if json else b"%s\n") % TOO_LARGE.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json" if json else b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install_body_limit(app: FastAPI) -> None:
    """Cap every request body by its route (call once in create_app, after the other middleware)."""
    app.add_middleware(BodyLimit)
