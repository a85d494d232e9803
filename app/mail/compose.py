"""From built digests and subscribers to outbox rows, and from outbox rows to signed messages.

`MailSetup` bundles the mail adapters (identity, link signer, renderer, DKIM signer); it is
built once from settings by `from_settings`. Everything a message needs on retry is fixed
in the Delivery row at enqueue time (subject, bodies, Message-ID, list headers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from app.digest.service import BuiltDigest, BuiltItem
from app.mail.dkim import DkimSigner
from app.mail.message import (
    MailIdentity,
    build_message,
    confirm_message_id,
    digest_message_id,
    list_headers,
)
from app.mail.render import DigestView, ItemView, Renderer, short_authors, summarize
from app.models import Delivery, Subscriber
from app.subscribers.tokens import TokenSigner

if TYPE_CHECKING:
    from app.config import Settings


class OutboxMessage(Protocol):
    """What a message is built from: a Delivery row or a plain copy of one."""

    recipient: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    headers: dict[str, str]


@dataclass
class MailSetup:
    identity: MailIdentity
    signer: TokenSigner
    renderer: Renderer
    dkim: DkimSigner | None = None
    stale_hours: int = 24

    @classmethod
    def from_settings(cls, settings: Settings, *, renderer: Renderer | None = None) -> MailSetup:
        identity = MailIdentity.create(
            settings.mail_from, settings.base_url, settings.mail_unsubscribe_mailto
        )
        dkim = None
        if settings.dkim_domain:
            dkim = DkimSigner.from_file(
                settings.dkim_domain, settings.dkim_selector, settings.dkim_private_key_path
            )
            dkim.check_alignment(identity.from_address)
        return cls(
            identity=identity,
            signer=TokenSigner.from_keys(settings.resolved_secret_key(), settings.secret_key_old),
            renderer=renderer or Renderer(),
            dkim=dkim,
            stale_hours=settings.mail_stale_hours,
        )

    # Links ---------------------------------------------------------------------------------

    def preferences_url(self, subscriber_id: int, link_key: str) -> str:
        return self.identity.url("/preferences/" + self.signer.preferences_token(subscriber_id, link_key))

    def unsubscribe_url(self, subscriber_id: int, link_key: str) -> str:
        return self.identity.url("/unsubscribe/" + self.signer.unsubscribe_token(subscriber_id, link_key))

    def confirm_url(self, subscriber: Subscriber) -> str:
        token = self.signer.confirm_token(subscriber.id, subscriber.link_key, subscriber.token_version)
        return self.identity.url("/confirm/" + token)

    def feedback_url(self, subscriber_id: int, link_key: str, kind: str, target: int) -> str:
        return self.identity.url(
            "/feedback/" + self.signer.feedback_token(subscriber_id, link_key, kind, target)
        )

    # Confirmation ----------------------------------------------------------------------------

    def confirmation_delivery(self, subscriber: Subscriber, now: datetime) -> Delivery:
        rendered = self.renderer.confirmation(
            confirm_url=self.confirm_url(subscriber), site_url=self.identity.base_url, site_name="papertrend"
        )
        tag = self.signer.digest(f"confirm:{subscriber.id}:{now.isoformat()}", "message-id")
        return Delivery(
            subscriber_id=subscriber.id,
            kind="confirm",
            recipient=subscriber.email,
            message_id=confirm_message_id(self.identity, subscriber.id, now, tag),
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            headers={},
            status="queued",
            next_attempt_at=now,
            stale_after=now + timedelta(hours=min(self.stale_hours, 24)),
            created_at=now,
        )

    # Digests ---------------------------------------------------------------------------------

    def digest_view(self, built: BuiltDigest) -> DigestView:
        sid, key = built.subscriber_id, built.link_key
        prefs = self.preferences_url(sid, key)

        def item(it: BuiltItem) -> ItemView:
            topic = it.topics[0] if it.topics else None
            return ItemView(
                title=" ".join(it.title.split()),
                paper_url=self.identity.url("/papers/" + quote(it.public_id, safe=":")),
                arxiv_url=it.abs_url
                or (f"https://arxiv.org/abs/{it.public_id}" if ":" not in it.public_id else None),
                authors=short_authors(it.authors),
                summary=summarize(it.abstract),
                reason=it.reason,
                topics=[(label, self.identity.url("/topics/" + quote(slug))) for _, slug, label in it.topics],
                upvotes=it.upvotes,
                code_url=it.code_url,
                more_url=self.feedback_url(sid, key, "more", it.paper_id),
                less_url=self.feedback_url(sid, key, "less", it.paper_id),
                mute_url=self.feedback_url(sid, key, "mute", topic[0]) if topic else None,
                mute_label=topic[2] if topic else None,
            )

        main = [item(i) for i in built.items if i.section == "for_you"]
        trending = [item(i) for i in built.items if i.section == "trending"]
        first = main[0].title if main else ""
        preheader = f"{first} — and {len(main) - 1} more" if len(main) > 1 else first or built.subject
        return DigestView(
            subject=built.subject,
            preheader=preheader[:140],
            heading=built.heading,
            items=main,
            trending=trending,
            preferences_url=prefs,
            unsubscribe_url=self.unsubscribe_url(sid, key),
            browser_url=f"{prefs}/digest/{built.period}",
            site_url=self.identity.base_url,
            frequency=built.frequency,
            quiet=built.kind == "quiet",
        )

    def digest_row(self, built: BuiltDigest, now: datetime) -> dict[str, Any]:
        """The outbox row (as insert values) of one built digest."""
        rendered = self.renderer.digest(self.digest_view(built))
        tag = self.signer.digest(f"digest:{built.subscriber_id}:{built.period}", "message-id")
        token = self.signer.unsubscribe_token(built.subscriber_id, built.link_key)
        return {
            "digest_id": built.digest_id,
            "subscriber_id": built.subscriber_id,
            "kind": "digest",
            "recipient": built.email,
            "message_id": digest_message_id(self.identity, built.period, built.subscriber_id, tag),
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "headers": list_headers(self.identity, token),
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "stale_after": now + timedelta(hours=self.stale_hours),
            "created_at": now,
        }

    # Sending ---------------------------------------------------------------------------------

    def message(self, delivery: OutboxMessage, now: datetime) -> EmailMessage:
        """The message of an outbox row: identical on every attempt except the Date header."""
        msg = build_message(
            identity=self.identity,
            to=delivery.recipient,
            subject=delivery.subject,
            text=delivery.body_text,
            html=delivery.body_html,
            message_id=delivery.message_id,
            date=now,
            extra_headers=dict(delivery.headers or {}),
        )
        return self.dkim.sign(msg) if self.dkim is not None else msg
