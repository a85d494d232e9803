"""The states stored in status columns, as `StrEnum`s.

The database keeps the same plain strings (the columns stay `String`): a `StrEnum` member is
a `str`, so it is written as its value and compares equal to the string read back. Use the
members in code, never the bare strings, so a typo is an AttributeError and a search for a
state finds every place that sets or tests it.
"""

from __future__ import annotations

from enum import StrEnum


class TopicStatus(StrEnum):
    """`topics.status`: where a topic stands after the last rebuild."""

    ACTIVE = "active"  # found by the last rebuild (or pinned, or added by an operator)
    EMERGING = "emerging"  # new at the last rebuild
    DORMANT = "dormant"  # not found any more; id and slug kept, a later rebuild may revive it
    MERGED = "merged"  # folded into `merged_into_id`; its URL redirects there

    @classmethod
    def live(cls) -> frozenset[str]:
        """The states of a topic that new papers may join."""
        return frozenset({cls.ACTIVE, cls.EMERGING})


class SubscriberStatus(StrEnum):
    """`subscribers.status`: double opt-in, then mailed until unsubscribed."""

    PENDING = "pending"  # asked, confirmation link not used yet
    CONFIRMED = "confirmed"  # receives digests
    UNSUBSCRIBED = "unsubscribed"  # stopped; coming back needs a new opt-in (or the undo link)


class DeliveryStatus(StrEnum):
    """`deliveries.status`: one outbox row's way to the recipient (see app.mail.flows)."""

    QUEUED = "queued"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker with a lease
    SENT = "sent"  # accepted by the relay (2xx)
    DEFERRED = "deferred"  # a temporary failure; retried with backoff
    FAILED = "failed"  # a permanent failure (5xx) or too many attempts
    EXPIRED = "expired"  # still not sent when it went stale
    SKIPPED = "skipped"  # not sent: the subscriber left or the address is suppressed

    @classmethod
    def retryable(cls) -> tuple[DeliveryStatus, ...]:
        """The states a delivery run picks up when they are due."""
        return (cls.QUEUED, cls.DEFERRED)


class SubscribeOutcome(StrEnum):
    """`subscribe_attempts.outcome`: what one subscribe request led to (never told to the client)."""

    SEND = "send"  # a confirmation email goes out
    COOLDOWN = "cooldown"  # the address got one a few minutes ago
    DAILY_CAP = "daily_cap"  # the address got its confirmations for today
    IP_LIMIT = "ip_limit"  # too many requests from this address this hour
    GLOBAL_LIMIT = "global_limit"  # too many confirmations from the whole site this hour
    SUPPRESSED = "suppressed"  # the address bounced or complained
    CONFIRMED = "confirmed"  # already subscribed
    HONEYPOT = "honeypot"  # a bot: the hidden field was filled, or the form came back too fast
