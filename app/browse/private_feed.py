"""A subscriber's private Atom feed: the papers of their digests, behind an unguessable URL.

The URL carries `<subscriber id>-<keyed hash of id and link key>`: it needs no database
row, cannot be guessed, and stops working when the subscriber's link key changes (as it
does when they delete their data). Unsubscribed addresses get no feed. The hash is made
with the newest secret key and accepted with the previous one too (key rotation).

The feed is never kept in the shared response cache: every request checks the token
against the subscriber's current row, so a deleted or unsubscribed subscriber's feed stops
at once (see `app.web.feeds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.browse.papers import cards_by_ids
from app.browse.trending import trending
from app.browse.types import PaperCard
from app.models import Digest, DigestItem, Subscriber, SubscriberTopic, Topic
from app.models.statuses import SubscriberStatus
from app.subscribers.tokens import TokenSigner

FEED_PURPOSE = "feed"
HASH_CHARS = 32


@dataclass(frozen=True)
class FeedItem:
    card: PaperCard
    reason: str
    when: datetime  # when the digest that carried it was built


def feed_token(signer: TokenSigner, subscriber_id: int, link_key: str) -> str:
    return f"{subscriber_id}-{signer.digest(f'{subscriber_id}:{link_key}', FEED_PURPOSE)[:HASH_CHARS]}"


def feed_path(signer: TokenSigner, subscriber_id: int, link_key: str) -> str:
    """The path of the subscriber's feed (for the preferences page and the digest footer)."""
    return f"/feeds/subscriber/{feed_token(signer, subscriber_id, link_key)}.atom"


def subscriber_for_feed(session: Session, signer: TokenSigner, token: str) -> Subscriber | None:
    """The subscriber a feed token belongs to, or None for a wrong, old or unsubscribed one."""
    head, sep, mac = token.partition("-")
    if not sep or not head.isdigit() or len(head) > 12 or len(mac) != HASH_CHARS:
        return None
    subscriber = session.get(Subscriber, int(head))
    if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return None
    value = f"{subscriber.id}:{subscriber.link_key}"
    return subscriber if signer.digest_matches(value, FEED_PURPOSE, mac, length=HASH_CHARS) else None


def subscriber_items(
    session: Session, subscriber: Subscriber, *, now: datetime, limit: int = 50
) -> list[FeedItem]:
    """Papers of the subscriber's digests of the last 30 days, newest digest first.

    Before the first digest, the week's trending papers in their topics stand in, so a
    new feed is not empty.
    """
    rows = session.execute(
        select(DigestItem.paper_id, DigestItem.reason, Digest.created_at)
        .join(Digest, Digest.id == DigestItem.digest_id)
        .where(Digest.subscriber_id == subscriber.id, Digest.created_at >= now - timedelta(days=30))
        .order_by(Digest.created_at.desc(), DigestItem.rank)
        .limit(limit * 2)
    ).all()
    seen: dict[int, tuple[str, datetime]] = {}
    for paper_id, reason, created in rows:
        seen.setdefault(paper_id, (reason, created))
    if seen:
        cards = cards_by_ids(session, list(seen)[:limit])
        return [FeedItem(card, seen[card.id][0], seen[card.id][1]) for card in cards]
    slugs = session.scalars(
        select(Topic.slug)
        .join(SubscriberTopic, SubscriberTopic.topic_id == Topic.id)
        .where(SubscriberTopic.subscriber_id == subscriber.id, Topic.hidden.is_(False))
    ).all()
    items: list[FeedItem] = []
    wanted: list[str | None] = list(slugs) or [None]
    for slug in wanted:
        result = trending(
            session, window="week", topic_slug=slug, per_page=10, today=now.date(), with_chips=False
        )
        reason = "Trending this week" + (f" in {result.topic.label}" if result.topic else "")
        taken = {i.card.id for i in items}
        items += [FeedItem(card, reason, now) for card in result.cards if card.id not in taken]
    return items[:limit]
