"""Building the email itself: headers (Message-ID, List-Unsubscribe, ...) and the MIME structure.

Every header value is checked (no line breaks, bounded length) before it is written; the
bytes are produced by `mime`, which is fast enough for thousands of digests a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

from app.mail import mime
from app.mail.mime import HeaderError
from app.mail.senders import wire_address

MAX_SUBJECT = 250


@dataclass(frozen=True)
class MailIdentity:
    """Who sends, and the URLs mail links to (from settings, validated once)."""

    from_header: str
    from_address: str
    domain: str
    base_url: str
    unsubscribe_mailto: str = ""
    list_name: str = "papertrend digest"

    @classmethod
    def create(cls, mail_from: str, base_url: str, unsubscribe_mailto: str = "") -> MailIdentity:
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise HeaderError(f"MAIL_FROM has no usable address: {mail_from!r}")
        domain = address.rsplit("@", 1)[1].lower()
        return cls(
            from_header=formataddr((name, address), charset="utf-8") if name else address,
            from_address=address,
            domain=domain,
            base_url=base_url.rstrip("/"),
            unsubscribe_mailto=unsubscribe_mailto.removeprefix("mailto:"),
            list_name=(name or "papertrend") + " digest",
        )

    @property
    def list_id(self) -> str:
        return f"{self.list_name} <digest.{self.domain}>"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def digest_message_id(identity: MailIdentity, period: str, subscriber_id: int, tag: str) -> str:
    """Deterministic per (subscriber, period): a retry carries the same id; `tag` makes it unguessable."""
    return f"<digest.{period}.s{subscriber_id}.{tag[:10]}@{identity.domain}>"


def confirm_message_id(identity: MailIdentity, subscriber_id: int, when: datetime, tag: str) -> str:
    return f"<confirm.{when.strftime('%Y%m%d%H%M%S')}.s{subscriber_id}.{tag[:10]}@{identity.domain}>"


def list_headers(identity: MailIdentity, unsubscribe_token: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers of a digest: one https URL (and a mailto when configured)."""
    links = [f"<{identity.url('/unsubscribe/' + unsubscribe_token)}>"]
    if identity.unsubscribe_mailto:
        links.append(
            f"<mailto:{identity.unsubscribe_mailto}?subject={quote('unsubscribe ' + unsubscribe_token)}>"
        )
    return {
        "List-Id": identity.list_id,
        "List-Unsubscribe": ", ".join(links),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }


def build_message(
    *,
    identity: MailIdentity,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """The wire bytes of a multipart/alternative message, text/plain first, both UTF-8.

    Every header value is checked for line breaks and length before it is written, so no
    submitted text can ever add a header (see `mime`). The recipient is written in its ASCII
    form when it has one (IDNA domain); an address beyond ASCII before the @ can only be written
    as UTF-8, and such a message is sent with SMTPUTF8 (see `senders`).
    """
    if len(subject) > MAX_SUBJECT:
        raise HeaderError("subject too long")
    wire_to = wire_address(to)
    headers = [
        ("From", identity.from_header),
        ("To", wire_to or to),
        ("Subject", subject),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "OOF, AutoReply"),
        *(extra_headers or {}).items(),
    ]
    return mime.alternative(headers, text, html, utf8_headers=frozenset() if wire_to else frozenset({"To"}))
