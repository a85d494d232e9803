"""When a secret is strong enough for production, and comparing secrets without leaking them.

The rule (stated in full in every error that applies it, see `RULE`): at least 32 characters,
printable ASCII without spaces (a token goes into headers and forms), at least 10 different
characters, and not a short pattern repeated. `secrets.token_urlsafe(32)` always passes; a
word, a short password padded out, or a key typed on one row of the keyboard does not.

`secret_equals` compares what a client sent with the configured value as UTF-8 bytes in
constant time: `hmac.compare_digest` refuses non-ASCII `str` with a TypeError, which turned a
header such as `Authorization: Bearer jörg` into a server error instead of a plain 401.
"""

from __future__ import annotations

import hmac

MIN_LENGTH = 32
MIN_DISTINCT = 10
PLACEHOLDERS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "dev", "insecure", "password", "admin", "token"}
)
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
RULE = (
    f"at least {MIN_LENGTH} printable ASCII characters without spaces, at least {MIN_DISTINCT} of them "
    f"different and not a repeated pattern (generate one with: {GENERATE})"
)


def weakness(value: str) -> str | None:
    """Why `value` is not a strong secret, or None when it is."""
    if value.strip().lower() in PLACEHOLDERS:
        return "is empty or a placeholder"
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value):
        return "has spaces or characters outside printable ASCII"
    if len(value) < MIN_LENGTH:
        return f"has {len(value)} characters, fewer than {MIN_LENGTH}"
    if len(set(value)) < MIN_DISTINCT:
        return f"uses only {len(set(value))} different characters"
    for size in range(1, len(value) // 2 + 1):
        unit = value[:size]
        if (unit * (len(value) // size + 1)).startswith(value):
            return "repeats a pattern"
    return None


def secret_equals(given: str | bytes | None, expected: str | bytes) -> bool:
    """True when `given` equals `expected`; constant time for equal lengths, never raises."""
    if given is None:
        return False
    a = given if isinstance(given, bytes) else given.encode("utf-8", "surrogatepass")
    b = expected if isinstance(expected, bytes) else expected.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(a, b)
