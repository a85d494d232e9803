"""Scale-out delivery: one worker sends one chunk of the outbox (a flow: it commits as it goes).

A digest build hands its new outbox rows to the workers as send chunks (lists of delivery
ids, deferred in the build's own transaction); the periodic delivery run hands out chunks
without ids that take whatever is due (retries, rows recovered from a dead worker). Each
chunk, in whichever worker runs it:

1. claims its rows: `sending` with a lease, FOR UPDATE SKIP LOCKED (`app.mail.leases.claim`);
   rows another worker holds are skipped, so a chunk run twice sends nothing twice;
2. waits for one of the fleet's SMTP connection slots and holds it while it sends
   (`app.mail.fleet`), and reserves each message's start in the fleet-wide pace;
3. extends its leases every third of the lease while it sends (`LeaseKeeper`);
4. records every reply right after it arrives, only as the lease holder
   (`lease_owner = me AND status = 'sending'`), so a killed worker resends at most the
   messages it had in flight (the relay said 250, our commit had not happened), with the same
   Message-ID;
5. stops the chunk as soon as a lease is found lost (another worker holds the row now) and
   gives back the rows it did not attempt.

The error-share pause, the daily limit and the staleness rules are those of `deliver_outbox`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.compose import MailSetup
from app.mail.fleet import Fleet
from app.mail.flows import attempt_one, commit_results, open_run
from app.mail.leases import Claimed, LeaseKeeper, claim
from app.mail.outcomes import DeliverReport
from app.mail.pause import ErrorTally, raise_pause_alert
from app.mail.policy import DeliveryPolicy
from app.mail.senders import Sender
from app.models._common import utcnow

log = logging.getLogger("papertrend.mail")


def send_chunk(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    fleet: Fleet,
    *,
    policy: DeliveryPolicy,
    ids: list[int] | None,
    limit: int,
    now: Callable[[], datetime] = utcnow,
    owner: str | None = None,
) -> DeliverReport:
    """Send the due rows among `ids` (or up to `limit` due rows when `ids` is None)."""
    run = open_run(factory, policy, now(), owner)
    report = run.report
    if run.budget is None:
        return report
    if run.budget <= 0:
        report.daily_limit_reached = True
        return report
    stop = threading.Event()
    with fleet.connections.hold() as slot:
        if slot is None:
            return report
        with session_scope(factory) as session:
            batch, report.skipped = claim(
                session,
                owner=run.owner,
                now=now(),
                limit=min(limit if ids is None else len(ids), run.budget),
                policy=policy,
                only_ids=ids,
            )
        report.claimed = len(batch)
        if batch:
            tripped = _send(factory, sender, setup, fleet, batch, policy, now, run.owner, stop, report)
            if tripped:
                report.paused = True
                with session_scope(factory) as session:
                    raise_pause_alert(session, report, now(), policy)
    try:
        sender.close()  # the slot is free again: so must the connection be
    except Exception:  # closing is best effort; the relay drops idle connections anyway
        log.debug("closing the SMTP connection failed", exc_info=True)
    return run.finish()


def _send(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    fleet: Fleet,
    batch: list[Claimed],
    policy: DeliveryPolicy,
    now: Callable[[], datetime],
    owner: str,
    stop: threading.Event,
    report: DeliverReport,
) -> bool:
    """Send a claimed batch one message at a time; True when the error share paused sending."""
    tally = ErrorTally()
    tripped = False
    with LeaseKeeper(factory, owner=owner, ids=[item.id for item in batch], policy=policy, now=now) as keeper:
        unsent = list(batch)
        while unsent:
            if keeper.lost.is_set() or tripped:
                break
            item = unsent.pop(0)
            _, result = attempt_one(item, sender, setup, now, fleet.rate, stop)
            if commit_results(factory, keeper, [(item, result)], now(), policy, report, owner):
                log.warning("delivery %s: lease lost before the result was recorded; chunk stopped", item.id)
                break
            tripped = tally.add(result, policy)
        if unsent:
            # Not attempted: back to the queue for the next run (rows whose lease is lost stay
            # with their new holder: recording checks the lease).
            commit_results(factory, keeper, [(item, None) for item in unsent], now(), policy, report, owner)
    return tripped
