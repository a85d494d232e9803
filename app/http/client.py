"""Who the client is: the address behind trusted proxies, and the key the abuse limits count.

The server is started without its own proxy-header handling (`papertrend web` runs uvicorn
with `proxy_headers=False`), so `TrustedProxies` is the one place forwarded headers are read:

* a request whose TCP peer is in TRUSTED_PROXIES gets its client address from
  `X-Forwarded-For`, read from the right and skipping further trusted proxies (the first
  address a trusted proxy did not add is the client; entries to its left are the client's
  own claims), and its scheme from `X-Forwarded-Proto`;
* from any other peer these headers are ignored: a visitor cannot pick the address the
  limits count.

`limit_key` is what the per-IP limits count: an IPv4 address as it is, an IPv6 address by
its /64 (one subscriber line, or one host that can take any of its 2^64 addresses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> Address | None:
    """An IP address from a header or the peer ("[::1]", "1.2.3.4:80" and IPv4-mapped IPv6 accepted)."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address | None, networks: Sequence[Network]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in networks)


def forwarded_client(peer: str, forwarded_for: str, networks: Sequence[Network]) -> str | None:
    """The client address a trusted `peer` reports in `X-Forwarded-For`; None to keep the peer."""
    if not is_trusted(parse_address(peer), networks):
        return None
    hops = [h for h in (part.strip() for part in forwarded_for.split(",")) if h]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return None  # a malformed entry: nothing to its left can be believed
        if not is_trusted(address, networks):
            return str(address)
    return str(parse_address(hops[0])) if hops else None  # every hop is a trusted proxy


def limit_key(address: str) -> str:
    """What the per-IP limits count for a client address: IPv6 by /64, IPv4 as it is."""
    parsed = parse_address(address)
    if parsed is None:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class TrustedProxies:
    """ASGI middleware: the client address and scheme from forwarded headers of trusted proxies only."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client") and self.networks:
            peer = str(scope["client"][0])
            headers = {k.lower(): v for k, v in scope.get("headers", [])}
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded is not None:
                client = forwarded_client(peer, forwarded.decode("latin-1"), self.networks)
                if client is not None:
                    scope = {**scope, "client": (client, 0)}
                    proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip()
                    if proto in ("http", "https"):
                        scheme = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
                        scope["scheme"] = scheme
        await self.app(scope, receive, send)


def install_trusted_proxies(app: FastAPI, networks: Sequence[Network]) -> None:
    """Read forwarded headers from `networks` only (call once in create_app)."""
    app.add_middleware(TrustedProxies, networks=networks)
