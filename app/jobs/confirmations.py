"""The web process's confirmation thread: queued confirmation emails sent within seconds.

A subscribe request only queues its confirmation (`app.mail.flows.request_subscription`);
this daemon thread sends it. The request wakes the thread right after its commit, and the
thread also looks every `POLL_SECONDS` for rows queued by other processes or due for a
retry. Each run is the plain job `app.jobs.mailing.send_confirmations`, so a worker task can
do the same work; claims with leases make the two safe side by side.

Where the workers send them (CONFIRMATION_SENDER=worker, or `auto` in scale-out mode) the web
process starts no thread and each `papertrend worker` runs one (`for_worker`): it cannot be
woken across processes, so it looks every `POLL_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.jobs.mailing import send_confirmations
from app.mail.compose import MailSetup
from app.mail.senders import Sender

log = logging.getLogger("papertrend.mail")

POLL_SECONDS = 5.0


class ConfirmationThread:
    """Runs `send_confirmations` when woken and every `poll_seconds`, until stopped."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        sender: Sender,
        setup: Callable[[], MailSetup],
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._settings, self._factory, self._sender, self._setup = settings, factory, sender, setup
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="confirmations", daemon=True)

    def start(self) -> ConfirmationThread:
        self._thread.start()
        return self

    def wake(self) -> None:
        """A confirmation was queued: send it now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                report = send_confirmations(
                    self._settings, self._factory, sender=self._sender, setup=self._setup()
                )
                if report.claimed:
                    log.info("confirmations: %s", report.summary())
            except Exception:  # the thread must outlive a database or relay outage
                log.exception("sending confirmation emails failed; retrying at the next poll")
            finally:
                # Connections opened by this run's sending threads are not reused by the next run.
                self._sender.close()


def for_worker(settings: Settings, factory: sessionmaker[Session]) -> ConfirmationThread:
    """The thread a worker process runs when the workers send the confirmations (started)."""
    from app.mail.senders import make_sender

    setup = MailSetup.from_settings(settings)
    return ConfirmationThread(settings, factory, make_sender(settings), lambda: setup).start()
