"""A delivery worker in its own process, for the kill-and-restart test (not a test module).

Usage: python tests/mail/deliver_worker.py '<json: {"db": url, "settings": {...}, "lease": seconds}>'
"""

from __future__ import annotations

import json
import sys

from app.config import load_settings
from app.db import make_engine, make_session_factory
from app.mail.compose import MailSetup
from app.mail.flows import deliver_outbox
from app.mail.policy import DeliveryPolicy
from app.mail.senders import make_sender


def main() -> None:
    args = json.loads(sys.argv[1])
    settings = load_settings(**args["settings"])
    factory = make_session_factory(make_engine(args["db"]))
    policy = DeliveryPolicy(concurrency=2, lease_seconds=args["lease"], batch_size=8, commit_every=1)
    report = deliver_outbox(factory, make_sender(settings), MailSetup.from_settings(settings), policy=policy)
    print(report.summary(), flush=True)


if __name__ == "__main__":
    main()
