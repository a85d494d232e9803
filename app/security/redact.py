"""Taking secrets out of text before it is shown or logged.

Four kinds of secret can reach a message: credentials in a URL (`postgresql://user:pw@host`,
`smtp://apikey:key@relay`), secret query parameters (`?password=`, `?token=`), the signed
tokens in the paths of the subscriber's private pages (`/preferences/<token>`,
`/unsubscribe/<token>`, `/confirm/<token>`, `/feedback/<token>`, `/feeds/subscriber/<token>.atom`;
whoever holds such a path acts for the subscriber, so it must never sit in a log file), and
the row values PostgreSQL quotes in a constraint error (`Key (email)=(ada@example.org) already
exists`, `Failing row contains (...)`). Statement parameters are kept out at the source
(`hide_parameters` on the engine).

`redact_text` finds all of them anywhere in a string; `redact_url` and `redact_path` are the
narrower forms for one URL or one request path. All are idempotent and leave other text alone.
"""

from __future__ import annotations

import re

MASK = "***"
TOKEN_MASK = "[token]"

# scheme://userinfo@ : the userinfo stops at the first "/", whitespace or quote; "@" ends it.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://)(?P<userinfo>[^\s/@'\"<>]+)@")
_SECRET_PARAMS = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pass|pwd|secret|token|api_?key|access_token|auth|sslpassword)=)"
    r"(?P<value>[^&;#\s'\"<>]+)",
    re.IGNORECASE,
)
# The private pages' paths: the segment after the prefix is a signed token.
_TOKEN_PATHS = re.compile(
    r"(?P<prefix>/(?:preferences|unsubscribe|feedback|confirm|feeds/subscriber)/)"
    r"(?P<token>[A-Za-z0-9_\-.~%]{8,}?)(?P<end>\.atom\b|(?=[/?#\s'\"<>)\]]|$))"
)


# PostgreSQL's DETAIL lines quote the values of the row that broke a constraint.
_PG_KEY = re.compile(r"\bKey \((?P<columns>[^)]*)\)=\((?:[^()]|\([^()]*\))*\)")
_PG_ROW = re.compile(r"\bFailing row contains \((?:[^()]|\([^()]*\))*\)")


def _userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    if userinfo == MASK or userinfo.endswith(":" + MASK):
        return match.group(0)
    user, sep, password = userinfo.partition(":")
    # Some relays take an API key as the user name (or as both names): then the user goes too.
    if not sep or not user or user == password:
        return f"{match.group('scheme')}{MASK}@"
    return f"{match.group('scheme')}{user}:{MASK}@"


def _token_path(match: re.Match[str]) -> str:
    return f"{match.group('prefix')}{TOKEN_MASK}{match.group('end')}"


def redact_url(url: str) -> str:
    """The URL with its password (or a user name that may be a key) and secret parameters masked."""
    return redact_text(url)


def redact_path(path: str) -> str:
    """A request path (with or without its query) with signed tokens and secret parameters masked."""
    return _SECRET_PARAMS.sub(lambda m: m.group("key") + MASK, _TOKEN_PATHS.sub(_token_path, path))


def redact_text(text: str) -> str:
    """Every URL credential, secret parameter and signed token path in `text` masked."""
    if not text:
        return text
    if "://" in text:
        text = _USERINFO.sub(_userinfo, text)
    if "=" in text:
        text = _SECRET_PARAMS.sub(lambda m: m.group("key") + MASK, text)
    if "/" in text:
        text = _TOKEN_PATHS.sub(_token_path, text)
    if "Key (" in text or "Failing row" in text:
        text = _PG_KEY.sub(lambda m: f"Key ({m.group('columns')})=({MASK})", text)
        text = _PG_ROW.sub(f"Failing row contains ({MASK})", text)
    return text
