"""The one subscribe path of the web form and the JSON API.

Both front doors validate their own input (a form with topic ids, a JSON body with topic
slugs), then hand a normalised address and topic ids to `SubscribeDep.submit`, which applies
everything that must be the same whichever door was used:

* the limits (per-address cooldown and daily cap, per-IP and global hourly limits) from the
  settings (`SubscribeLimits.from_settings`);
* the address check against what the relay takes (`address_refusal`: an address that needs
  SMTPUTF8 once the relay is known not to offer it);
* the client address the per-IP limit counts (`app.http.deps.client_ip`);
* the one clock (`AppState.now`);
* the mail setup, sender and delivery policy for the confirmation email;
* the flow itself (`app.mail.flows.request_subscription`): the request and its outbox row
  commit first, the confirmation is sent after the commit.

The answer to the client never depends on the outcome (that would tell whether an address
is subscribed); the outcome is logged and returned for the route's own use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.http.deps import ClientIpDep, StateDep
from app.http.state import AppState
from app.mail.flows import request_subscription
from app.mail.policy import DeliveryPolicy
from app.mail.senders import SendResult, address_refusal
from app.subscribers.service import SubscribeLimits, SubscribeResult

log = logging.getLogger("papertrend.subscriptions")


@dataclass(frozen=True)
class Submitted:
    """What became of one request: the decision and, when a confirmation went out now, its send."""

    result: SubscribeResult
    sent: SendResult | None

    @property
    def outcome(self) -> str:
        return self.result.outcome


@dataclass(frozen=True)
class Subscriptions:
    """The subscribe path bound to one request (its app and its client address)."""

    state: AppState
    ip: str

    def address_refusal(self, email: str) -> str | None:
        """Why the configured relay cannot take `email` (a sentence for the client), or None."""
        return address_refusal(self.state.sender, email)

    def submit(self, *, email: str, topic_ids: list[int], source: str, honeypot: bool = False) -> Submitted:
        """Record the request for `email` (already normalised) and mail the confirmation if allowed.

        Runs in its own transactions: a route holding a `SessionDep` closes it first, so no
        transaction stays open while the confirmation is sent.
        """
        settings = self.state.settings
        result, sent = request_subscription(
            self.state.session_factory,
            self.state.mail_setup,
            self.state.sender,
            email=email,
            topic_ids=topic_ids,
            ip=self.ip,
            now=self.state.now(),
            limits=SubscribeLimits.from_settings(settings),
            source=source,
            honeypot=honeypot,
            policy=DeliveryPolicy.from_settings(settings),
        )
        log.info("subscribe request (%s): %s%s", source, result.outcome, f" ({sent.status})" if sent else "")
        return Submitted(result, sent)


async def subscriptions(state: StateDep, ip: ClientIpDep) -> Subscriptions:
    return Subscriptions(state, ip)


SubscribeDep = Annotated[Subscriptions, Depends(subscriptions)]
