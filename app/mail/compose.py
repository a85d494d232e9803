"""From built digests and subscribers to outbox rows, and from outbox rows to signed messages.

`MailSetup` bundles the mail adapters (identity, link signer, renderer, DKIM signer); it is
built once from settings by `from_settings`. Everything a message needs on retry is fixed
in the Delivery row at enqueue time (subject, bodies, Message-ID, list headers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from app.digest.built import BuiltDigest, BuiltItem
from app.digest.schedule import long_date
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
from app.models.digest import DeliveryContent
from app.models.statuses import DeliveryStatus
from app.subscribers.tokens import TokenSigner

if TYPE_CHECKING:
    from app.config import Settings
    from app.mail.leases import Claimed


@dataclass
class MailSetup:
    identity: MailIdentity
    signer: TokenSigner
    renderer: Renderer
    dkim: DkimSigner | None = None
    stale_hours: int = 24
    _parts: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict, repr=False)

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

    def feedback_url(self, subscriber_id: int, link_key: str, paper_id: int, topic_id: int | None) -> str:
        """The base of an item's feedback links; `/more`, `/less` or `/mute` is appended."""
        token = self.signer.feedback_token(subscriber_id, link_key, paper_id, topic_id)
        return self.identity.url("/feedback/" + token)

    # Confirmation ----------------------------------------------------------------------------

    def confirmation_delivery(
        self, subscriber: Subscriber, now: datetime
    ) -> tuple[Delivery, DeliveryContent]:
        """The outbox row of a confirmation email and its content (link the two after a flush)."""
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
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            stale_after=now + timedelta(hours=min(self.stale_hours, 24)),
            created_at=now,
        ), DeliveryContent(body_text=rendered.text, body_html=rendered.html, headers={})

    # Digests ---------------------------------------------------------------------------------

    def digest_view(self, built: BuiltDigest) -> DigestView:
        sid, key = built.subscriber_id, built.link_key
        prefs = self.preferences_url(sid, key)

        def item(it: BuiltItem) -> ItemView:
            fixed = self._paper_parts(
                it.paper_id, it.public_id, it.title, it.abstract, tuple(it.authors), it.abs_url, it.code_url,
                it.upvotes, tuple(it.topics), it.day, it.day_kind,
            )  # fmt: skip
            mute = it.topics[0][0] if it.topics else None
            base = self.feedback_url(sid, key, it.paper_id, mute)
            return ItemView(
                **fixed,
                reason=it.reason,
                more_url=base + "/more",
                less_url=base + "/less",
                mute_url=base + "/mute" if mute is not None else None,
            )

        main = [item(i) for i in built.items if i.section == "for_you"]
        trending = [item(i) for i in built.items if i.section == "trending"]
        likely = [item(i) for i in built.items if i.section == "likely"]
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
            note=built.note,
            likely=likely,
            interests=[
                (name, items)
                for key, name in built.sections.items()
                if (items := [item(i) for i in built.items if i.section == key])
            ],
        )

    def _paper_parts(
        self,
        paper_id: int,
        public_id: str,
        title: str,
        abstract: str,
        authors: tuple[str, ...],
        abs_url: str | None,
        code_url: str | None,
        upvotes: int | None,
        topics: tuple[tuple[int, str, str], ...],
        day: date | None = None,
        day_kind: str = "announced",
    ) -> dict[str, Any]:
        """What every digest shows the same way for a paper (computed once per paper and build)."""
        key = (
            paper_id,
            public_id,
            title,
            abstract,
            authors,
            abs_url,
            code_url,
            upvotes,
            topics,
            day,
            day_kind,
        )
        cached = self._parts.get(key)
        if cached is None:
            if len(self._parts) > 20_000:
                self._parts.clear()
            cached = self._parts[key] = {
                "title": " ".join(title.split()),
                "paper_url": self.identity.url("/papers/" + quote(public_id, safe=":")),
                "arxiv_url": abs_url
                or (f"https://arxiv.org/abs/{public_id}" if ":" not in public_id else None),
                "authors": short_authors(authors),
                "summary": summarize(abstract),
                "topics": [(label, self.identity.url("/topics/" + quote(slug))) for _, slug, label in topics],
                "upvotes": upvotes,
                "code_url": code_url,
                "mute_label": topics[0][2] if topics else None,
                "when": f"{day_kind.capitalize()} {long_date(day)}" if day is not None else "",
            }
        return cached

    def digest_row(self, built: BuiltDigest, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """The outbox row and its content (as insert values) of one built digest."""
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
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "stale_after": now + timedelta(hours=self.stale_hours),
            "created_at": now,
        }, {
            "body_text": rendered.text,
            "body_html": rendered.html,
            "headers": list_headers(self.identity, token),
        }

    # Sending ---------------------------------------------------------------------------------

    def message(self, delivery: Claimed, now: datetime) -> bytes:
        """The wire bytes of a claimed outbox row: identical on every attempt except the Date header."""
        raw = build_message(
            identity=self.identity,
            to=delivery.recipient,
            subject=delivery.subject,
            text=delivery.body_text,
            html=delivery.body_html,
            message_id=delivery.message_id,
            date=now,
            extra_headers=dict(delivery.headers or {}),
        )
        return self.dkim.sign(raw) if self.dkim is not None else raw
