"""Who may see the operator's pages: the machine itself, or someone holding the admin token.

`is_local_request` is true only for a request that really comes from this machine: the TCP
peer is a loopback address, no proxy header says it relays someone else (a reverse proxy on
the same machine connects from 127.0.0.1 too), and the Host header names the loopback (a web
page elsewhere cannot point a name it controls at 127.0.0.1 and read the answer: DNS
rebinding). Behind a proxy in TRUSTED_PROXIES a forwarded request already carries the
original client's address (`app.http.client`), which is not loopback.

`admin_authorized` accepts `Authorization: Bearer <ADMIN_TOKEN>` or the admin session cookie
(a keyed hash of the token, valid under the current and the previous secret key). Presented
values are compared as bytes, so any text, even non-ASCII, is a plain "no".

Wrong tokens are throttled per client and in total (`LoginThrottle`), counted in the database
so that every web process shares the count: after `PER_CLIENT` failures in `WINDOW` a client
gets 429 with `Retry-After` until its oldest failure leaves the window; after `GLOBAL`
failures from everywhere, sign-in from other machines pauses the same way (the machine itself
can still sign in, so a flood cannot lock the operator out). A successful sign-in clears the
client's count.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, Request

from app.db import session_scope
from app.http import queries, state_of
from app.http.deps import peer_address
from app.security.strength import secret_equals

COOKIE = "papertrend_admin"
COOKIE_PURPOSE = "admin-session"
FORWARDING_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"})
WINDOW = timedelta(minutes=15)
PER_CLIENT = 5
GLOBAL = 100
KEEP = timedelta(days=1)
SCOPE = "admin"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback; a name only when it is `localhost` or ends in .localhost."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _host_name(host_header: str) -> str:
    host = host_header.strip()
    if host.startswith("["):  # [::1]:8000
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_local_request(request: Request) -> bool:
    """The request comes from this machine, directly, to a loopback name (see the module docstring)."""
    if request.client is None or not is_loopback(request.client.host):
        return False
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    return is_loopback(_host_name(request.headers.get("host", "")))


def admin_token(request: Request) -> str:
    token: str = state_of(request).settings.admin_token
    if not token:
        raise HTTPException(404, "The admin page is disabled (set ADMIN_TOKEN to enable it).")
    return token


def cookie_value(request: Request, token: str) -> str:
    return state_of(request).mail_setup.signer.digest(token, COOKIE_PURPOSE)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()


def admin_authorized(request: Request) -> bool:
    """A valid Bearer token or session cookie. A wrong Bearer token counts as a failed sign-in."""
    token = state_of(request).settings.admin_token
    if not token:
        return False
    bearer = _bearer(request)
    if bearer is not None:
        throttle = LoginThrottle.of(request)
        throttle.check()
        if secret_equals(bearer, token):
            return True
        throttle.failed()
        return False
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and state_of(request).mail_setup.signer.digest_matches(token, COOKIE_PURPOSE, cookie)


@dataclass
class LoginThrottle:
    """Failed admin sign-ins of one client, counted in the database (see the module docstring)."""

    request: Request
    client_hash: str
    local: bool
    now: datetime

    @classmethod
    def of(cls, request: Request) -> LoginThrottle:
        digest = state_of(request).mail_setup.signer.digest(peer_address(request), "admin-login")
        return cls(request, digest, is_local_request(request), state_of(request).now())

    def check(self) -> None:
        """Raise 429 with Retry-After while this client (or everyone) has failed too often."""
        since = self.now - WINDOW
        with session_scope(state_of(self.request).session_factory) as session:
            mine = queries.auth_failures(
                session, scope=SCOPE, since=since, client_hash=self.client_hash, limit=PER_CLIENT
            )
            everyone = (
                []
                if self.local
                else queries.auth_failures(session, scope=SCOPE, since=since, client_hash=None, limit=GLOBAL)
            )
        blocked = mine if len(mine) >= PER_CLIENT else everyone if len(everyone) >= GLOBAL else []
        if blocked:
            wait = max(1, math.ceil((blocked[0] + WINDOW - self.now).total_seconds()))
            raise HTTPException(
                429,
                f"Too many wrong admin tokens; try again in {math.ceil(wait / 60)} minute(s).",
                headers={"Retry-After": str(wait)},
            )

    def failed(self) -> None:
        with session_scope(state_of(self.request).session_factory) as session:
            queries.record_auth_failure(
                session, scope=SCOPE, client_hash=self.client_hash, at=self.now, keep=KEEP
            )

    def succeeded(self) -> None:
        with session_scope(state_of(self.request).session_factory) as session:
            queries.clear_auth_failures(session, scope=SCOPE, client_hash=self.client_hash)
