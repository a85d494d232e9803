"""The one subscribe path of the web form and the JSON API.

Both front doors validate their own input (a form with topic ids, a JSON body with topic
slugs), then hand a normalised address and topic ids to `SubscribeDep.submit`, which applies
everything that must be the same whichever door was used:

* the subscribe token (`check_token`): signed by us, at most a few hours old, and used once
  (`use_token`, the form's CSRF field or the API's `token`, from `GET /api/v1/subscriptions/token`);
* the bot rules: a filled honeypot field or a submission sooner than SUBSCRIBE_MIN_SECONDS
  after its token was issued sends nothing (and gets the normal answer);
* the limits (per-address cooldown and daily cap, per-IP and global hourly limits) from the
  settings (`SubscribeLimits.from_settings`), decided atomically by the subscriber service;
* the address check against what the relay takes (`address_refusal`: an address that needs
  SMTPUTF8 once the relay is known not to offer it);
* the client's limit key (`app.http.deps.client_ip`: the address behind trusted proxies,
  IPv6 by /64);
* the one clock (`AppState.now`);
* the flow itself (`app.mail.flows.request_subscription`): the request and its queued
  confirmation commit in one short transaction; nothing is sent inside the request. The
  confirmation thread (or a worker) sends it within seconds. The answer is held to at least
  `ANSWER_FLOOR_S`, so the few extra rows of a new address do not show in its time.

The answer to the client never depends on the outcome (that would tell whether an address
is subscribed); the outcome is logged and returned for the route's own use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from app.db import session_scope
from app.http.deps import ClientIpDep, StateDep
from app.http.state import AppState
from app.mail.flows import request_subscription
from app.mail.senders import address_refusal
from app.subscribers.queries import use_form_token
from app.subscribers.service import SubscribeLimits, SubscribeResult
from app.subscribers.tokens import FORM_MAX_AGE_S, InvalidToken

log = logging.getLogger("papertrend.subscriptions")

# Every accepted request takes at least this long: a new address costs a few more rows than a
# known one (milliseconds), and the answer must not tell the two apart by its time either.
ANSWER_FLOOR_S = 0.1

SUBSCRIBE_FORM = "subscribe"


@dataclass(frozen=True)
class Submitted:
    """What became of one request: the decision and whether a confirmation was queued."""

    result: SubscribeResult
    queued: bool

    @property
    def outcome(self) -> str:
        return self.result.outcome


@dataclass(frozen=True)
class Subscriptions:
    """The subscribe path bound to one request (its app and its client's limit key)."""

    state: AppState
    ip: str

    def new_token(self) -> str:
        """A subscribe token (the form's hidden field, or the API's `token`)."""
        return self.state.signer.form_token(SUBSCRIBE_FORM)

    def check_token(self, token: str) -> float:
        """When a subscribe token was issued; `InvalidToken` when it is not ours, altered or expired."""
        return self.state.signer.read_form(token, SUBSCRIBE_FORM).issued_at

    def use_token(self, token: str, issued_at: float) -> bool:
        """Record the token as used; False when it was used before (the request is refused)."""
        now = self.state.now()
        expires = now + timedelta(seconds=max(0.0, issued_at + FORM_MAX_AGE_S - time.time()) + 60)
        digest = self.state.signer.digest(token, "form-use")
        with session_scope(self.state.session_factory) as session:
            return use_form_token(session, digest, now, expires)

    def address_refusal(self, email: str) -> str | None:
        """Why the configured relay cannot take `email` (a sentence for the client), or None."""
        return address_refusal(self.state.sender, email)

    def submit(
        self,
        *,
        email: str,
        topic_ids: list[int],
        source: str,
        token: str,
        issued_at: float,
        honeypot: str = "",
        profile: Mapping[str, str | None] | None = None,
    ) -> Submitted:
        """Record the request for `email` (already normalised) and queue its confirmation if allowed.

        `token` was checked by `check_token` (which gave `issued_at`); a token used before
        raises `InvalidToken`. Runs in its own transactions: a route holding a `SessionDep`
        closes it first.
        """
        started = time.monotonic()
        if not self.use_token(token, issued_at):
            raise InvalidToken("subscribe token already used")
        settings = self.state.settings
        # The token is stamped with wall-clock time by the signer, so the gap is measured on it too.
        too_fast = time.time() - issued_at < settings.subscribe_min_seconds
        result, delivery_id = request_subscription(
            self.state.session_factory,
            self.state.mail_setup,
            email=email,
            topic_ids=topic_ids,
            ip=self.ip,
            now=self.state.now(),
            limits=SubscribeLimits.from_settings(settings),
            source=source,
            honeypot=bool(honeypot.strip()) or too_fast,
            profile=profile,
        )
        if delivery_id is not None and (wake := self.state.confirmation_waker) is not None:
            wake()
        log.info("subscribe request (%s): %s", source, result.outcome)
        time.sleep(max(0.0, ANSWER_FLOOR_S - (time.monotonic() - started)))
        return Submitted(result, delivery_id is not None)


async def subscriptions(state: StateDep, ip: ClientIpDep) -> Subscriptions:
    return Subscriptions(state, ip)


SubscribeDep = Annotated[Subscriptions, Depends(subscriptions)]
