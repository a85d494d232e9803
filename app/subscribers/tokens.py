"""Signed links: one purpose (salt) per link kind, key rotation, expiry where a link must expire.

Confirmation links expire after 72 hours and work once (they carry the subscriber's
`token_version`, bumped on confirmation). Unsubscribe, preference and feedback links never
expire, so a digest from years ago still works; they carry the subscriber's random
`link_key`, so a row id reused after a deletion cannot inherit old links. Form (CSRF)
tokens are bound to one form and expire after a few hours; subscribe tokens are also
single-use (`app.subscribers.queries.use_form_token`).

Rotation: the signer is built from `[old_key, new_key]`; itsdangerous signs with the last
key and verifies with all of them. Keyed hashes that act as credentials (the private feed URL,
the admin session cookie) follow the same rule through `digest_matches`: made with the newest
key, accepted with any.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, Signer, URLSafeTimedSerializer

from app.security.strength import secret_equals

CONFIRM_MAX_AGE_S = 72 * 3600
FORM_MAX_AGE_S = 4 * 3600

PURPOSE_CONFIRM = "confirm"
PURPOSE_UNSUBSCRIBE = "unsubscribe"
PURPOSE_PREFERENCES = "preferences"
PURPOSE_FEEDBACK = "feedback"
PURPOSE_FORM = "form"
FEEDBACK_KINDS = ("more", "less", "mute")


class InvalidToken(Exception):
    """A link that is unknown, altered, expired, used, or meant for another purpose (one generic error)."""


@dataclass(frozen=True)
class LinkClaims:
    """What a verified link says: who it acts for, and for feedback links which paper (and topic)."""

    subscriber_id: int
    link_key: str
    version: int = 0
    paper_id: int = 0
    topic_id: int = 0


@dataclass(frozen=True)
class FormClaims:
    form: str
    bound: str
    issued_at: float


class TokenSigner:
    """Signs and verifies every link kind. `keys` is oldest first; the last one signs."""

    def __init__(self, keys: list[str]) -> None:
        keys = [k for k in keys if k]
        if not keys:
            raise ValueError("at least one secret key is needed to sign links")
        self._keys = keys
        self._timed = {
            purpose: URLSafeTimedSerializer(keys, salt=f"papertrend.{purpose}")
            for purpose in (PURPOSE_CONFIRM, PURPOSE_FORM)
        }
        # Links in digests are plain signed strings ("id~key[~kind~target].signature"): a digest
        # carries dozens of them, and a JSON serializer costs ten times as much per link.
        self._plain = {
            purpose: Signer(keys, salt=f"papertrend.{purpose}")
            for purpose in (PURPOSE_UNSUBSCRIBE, PURPOSE_PREFERENCES, PURPOSE_FEEDBACK)
        }
        self._signing_keys: dict[str, bytes] = {}

    @classmethod
    def from_keys(cls, secret_key: str, secret_key_old: str = "") -> TokenSigner:
        return cls([secret_key_old, secret_key])

    # Link kinds --------------------------------------------------------------------------

    def confirm_token(self, subscriber_id: int, link_key: str, version: int) -> str:
        return str(self._timed[PURPOSE_CONFIRM].dumps([subscriber_id, link_key, version]))

    def unsubscribe_token(self, subscriber_id: int, link_key: str) -> str:
        return self._sign(PURPOSE_UNSUBSCRIBE, subscriber_id, link_key)

    def preferences_token(self, subscriber_id: int, link_key: str) -> str:
        return self._sign(PURPOSE_PREFERENCES, subscriber_id, link_key)

    def feedback_token(self, subscriber_id: int, link_key: str, paper_id: int, topic_id: int | None) -> str:
        """One link per digest item: more or less like this paper, or mute its (first) topic.
        The action is chosen by the URL path; the signature binds the paper and the topic."""
        return self._sign(PURPOSE_FEEDBACK, subscriber_id, link_key, paper_id, topic_id or 0)

    def read_confirm(self, token: str, *, now_ts: float | None = None) -> LinkClaims:
        data = self._load_timed(PURPOSE_CONFIRM, token, CONFIRM_MAX_AGE_S, now_ts)
        sid, key, version = _shape(data, (int, str, int))
        return LinkClaims(subscriber_id=sid, link_key=key, version=version)

    def read_unsubscribe(self, token: str) -> LinkClaims:
        sid, key = _shape(self._load_plain(PURPOSE_UNSUBSCRIBE, token), (int, str))
        return LinkClaims(subscriber_id=sid, link_key=key)

    def read_preferences(self, token: str) -> LinkClaims:
        sid, key = _shape(self._load_plain(PURPOSE_PREFERENCES, token), (int, str))
        return LinkClaims(subscriber_id=sid, link_key=key)

    def read_feedback(self, token: str) -> LinkClaims:
        sid, key, paper, topic = _shape(self._load_plain(PURPOSE_FEEDBACK, token), (int, str, int, int))
        return LinkClaims(subscriber_id=sid, link_key=key, paper_id=paper, topic_id=topic)

    # Forms (CSRF) --------------------------------------------------------------------------

    def form_token(self, form: str, bound: str = "") -> str:
        """A CSRF token for one form (optionally bound to a link token); carries its issue time.

        A random nonce makes every token different, so a form whose token must be used once
        (subscribe) can tell two visitors who opened the page in the same second apart.
        """
        return str(self._timed[PURPOSE_FORM].dumps([form, bound, secrets.token_urlsafe(9)]))

    def read_form(self, token: str, form: str, bound: str = "", *, now_ts: float | None = None) -> FormClaims:
        serializer = self._timed[PURPOSE_FORM]
        try:
            data, issued = serializer.loads(token, max_age=FORM_MAX_AGE_S, return_timestamp=True)
        except BadData as exc:
            raise InvalidToken("form token invalid or expired") from exc
        if isinstance(data, list) and len(data) == 2:  # issued before tokens carried a nonce
            data = [*data, ""]
        got_form, got_bound, _nonce = _shape(data, (str, str, str))
        if not (secret_equals(got_form, form) and secret_equals(got_bound, bound)):
            raise InvalidToken("form token belongs to another form")
        issued_ts = issued.timestamp()
        if now_ts is not None and now_ts - issued_ts > FORM_MAX_AGE_S:
            raise InvalidToken("form token expired")
        return FormClaims(form=got_form, bound=got_bound, issued_at=issued_ts)

    # Other uses of the key -------------------------------------------------------------------

    def digest(self, value: str, purpose: str) -> str:
        """Keyed hash (for rate-limit keys and Message-IDs): stable, not reversible, per purpose."""
        return _keyed_hash(self._keys[-1], value, purpose)

    def digest_matches(self, value: str, purpose: str, candidate: str, *, length: int | None = None) -> bool:
        """Whether `candidate` is the keyed hash of `value` (its first `length` characters) under any key.

        For keyed hashes that act as credentials: one made before a key rotation keeps working
        while the old key is still configured. Constant time per key; never raises.
        """
        found = False
        for key in self._keys:
            expected = _keyed_hash(key, value, purpose)
            found |= secret_equals(candidate, expected[:length] if length else expected)
        return found

    # Internals ---------------------------------------------------------------------------

    def _load_timed(self, purpose: str, token: str, max_age: int, now_ts: float | None) -> Any:
        serializer = self._timed[purpose]
        try:
            data, issued = serializer.loads(token, max_age=max_age, return_timestamp=True)
        except BadData as exc:
            raise InvalidToken(purpose) from exc
        # A little negative age is clock skew between machines; a lot is a token from the future.
        if now_ts is not None and not (-300 <= now_ts - issued.timestamp() <= max_age):
            raise InvalidToken(f"{purpose} link expired")
        return data

    def _sign(self, purpose: str, *parts: int | str) -> str:
        """What `Signer.sign` returns, with the derived key computed once (digests carry many links)."""
        text = "~".join(map(str, parts))
        if text.count("~") != len(parts) - 1 or "." in text or "\r" in text or "\n" in text:
            raise ValueError("link parts must not contain '~', '.' or line breaks")
        key = self._signing_keys.get(purpose)
        if key is None:
            key = self._signing_keys[purpose] = self._plain[purpose].derive_key()
        mac = hmac.digest(key, text.encode(), "sha1")
        return f"{text}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def _load_plain(self, purpose: str, token: str) -> Any:
        try:
            text = self._plain[purpose].unsign(token).decode()
        except (BadData, UnicodeError) as exc:
            raise InvalidToken(purpose) from exc
        return text.split("~")


def _keyed_hash(secret: str, value: str, purpose: str) -> str:
    key = hashlib.sha256(f"papertrend.{purpose}.{secret}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _shape(data: Any, types: tuple[type, ...]) -> Any:
    """Check a decoded payload is a list of the expected types (a signed but odd payload is invalid).

    Plain links carry text: a field expected to be a number must be digits only.
    """
    if not isinstance(data, list) or len(data) != len(types):
        raise InvalidToken("payload shape")
    out: list[Any] = []
    for value, kind in zip(data, types, strict=True):
        if kind is int and isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
            value = int(value)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidToken("payload shape")
        if kind is str and not isinstance(value, str):
            raise InvalidToken("payload shape")
        out.append(value)
    return out
