"""Which links from a source are kept: absolute http(s) URLs to a host, nothing else.

A source controls the URLs it gives for a paper (code repository, project page, abstract, PDF),
and those end up in `href` attributes of pages, cards, emails and feeds and in the API. A
`javascript:` or `data:` URL there runs or shows whatever the source wants the moment someone
clicks, so a link is kept only when it is an absolute `http://` or `https://` URL with a host,
no user name or password (`https://github.com@evil.example` points somewhere else than it
reads), no whitespace or control characters, and at most `MAX_LENGTH` characters (the column).
Anything else is dropped as if the source had given no link. Pure: text in, text or None out.
`PaperRecord` applies it to every link field, so every parser (and a re-parse of stored raw
items) gets the same rule.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

MAX_LENGTH = 500
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\\\\]")


def http_url(value: Any) -> str | None:
    """The link when it is a safe absolute http(s) URL (scheme lower-cased), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_LENGTH or _UNSAFE.search(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port  # a non-numeric or out-of-range port raises ValueError
    except ValueError:
        return None
    del port
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return None
    return parts.scheme.lower() + text[len(parts.scheme) :]
