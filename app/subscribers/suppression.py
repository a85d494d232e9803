"""The suppression list: addresses never mailed again (hard bounces, complaints, operator choice).

Also parses bounce/complaint events from the webhook (generic JSON) and from import files
(JSON list, JSON lines or CSV with columns email, kind, reason).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Subscriber, Suppression
from app.subscribers import queries
from app.subscribers.validation import InvalidInput, clean_text, normalize_email

# Event kinds that suppress at once; soft bounces are only recorded.
SUPPRESSING_KINDS = {"bounce", "hard_bounce", "complaint", "spam", "unsubscribe", "manual"}
KNOWN_KINDS = SUPPRESSING_KINDS | {"soft_bounce", "deferred"}


@dataclass(frozen=True)
class BounceEvent:
    email: str
    kind: str  # bounce | complaint | soft_bounce | ...
    reason: str = ""

    @property
    def suppresses(self) -> bool:
        return self.kind in SUPPRESSING_KINDS

    @property
    def suppression_kind(self) -> str:
        if self.kind in {"complaint", "spam"}:
            return "complaint"
        if self.kind in {"unsubscribe", "manual"}:
            return "manual"
        return "bounce"


def suppress(
    session: Session, email: str, *, kind: str, reason: str | None, source: str, now: datetime
) -> bool:
    """Add an address (normalized) to the list. Returns False when it was already there."""
    if session.get(Suppression, email) is not None:
        return False
    session.add(
        Suppression(email=email, kind=kind, reason=(reason or "")[:1000], source=source, created_at=now)
    )
    subscriber = queries.by_email(session, email)
    if subscriber is not None:
        skipped = queries.cancel_queued_digests(session, subscriber.id, f"suppressed ({kind})")
        queries.add_event(
            session, subscriber.id, "suppressed", now, kind=kind, source=source, skipped=skipped
        )
    session.flush()
    return True


def unsuppress(session: Session, email: str, now: datetime) -> bool:
    row = session.get(Suppression, email)
    if row is None:
        return False
    session.delete(row)
    subscriber: Subscriber | None = queries.by_email(session, email)
    if subscriber is not None:
        queries.add_event(session, subscriber.id, "unsuppressed", now)
    session.flush()
    return True


def apply_events(
    session: Session, events: list[BounceEvent], *, source: str, now: datetime
) -> dict[str, int]:
    """Apply parsed events; returns counts (suppressed, already, recorded)."""
    counts = {"suppressed": 0, "already": 0, "recorded": 0}
    for event in events:
        if event.suppresses:
            added = suppress(
                session, event.email, kind=event.suppression_kind, reason=event.reason, source=source, now=now
            )
            counts["suppressed" if added else "already"] += 1
        else:
            subscriber = queries.by_email(session, event.email)
            if subscriber is not None:
                queries.add_event(session, subscriber.id, event.kind, now, reason=event.reason[:300])
            counts["recorded"] += 1
    return counts


def parse_event(item: Any, where: str = "event") -> BounceEvent:
    """One event from a JSON object: {"email" (or "address"), "kind" (or "type"), "reason"}."""
    if not isinstance(item, dict):
        raise InvalidInput(where, f"{where}: expected an object with email and kind")
    raw_email = item.get("email", item.get("address", item.get("recipient")))
    if not isinstance(raw_email, str):
        raise InvalidInput(where, f"{where}: missing email")
    kind = str(item.get("kind", item.get("type", "bounce"))).strip().lower().replace("-", "_")
    if kind == "bounce" and str(item.get("bounce_type", "hard")).lower() in {"soft", "transient"}:
        kind = "soft_bounce"
    if kind not in KNOWN_KINDS:
        raise InvalidInput(where, f"{where}: unknown kind {kind[:30]!r} (bounce, soft_bounce, complaint)")
    reason = item.get("reason", item.get("diagnostic", "")) or ""
    try:
        email = normalize_email(raw_email)
    except InvalidInput as exc:
        raise InvalidInput(where, f"{where}: {exc.message}") from exc
    return BounceEvent(email=email, kind=kind, reason=clean_text(str(reason)[:1000], "reason", 1000))


def parse_webhook(payload: Any) -> list[BounceEvent]:
    """A webhook body: one event object, a list, or {"events": [...]}."""
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        payload = payload["events"]
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > 1000:
        raise InvalidInput("events", "at most 1000 events per request")
    return [parse_event(item, f"event {i + 1}") for i, item in enumerate(items)]


def parse_import(text: str) -> list[BounceEvent]:
    """An import file: a JSON list, JSON lines, or CSV with a header (email,kind,reason)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = json.loads(stripped)
        return [parse_event(item, f"item {i + 1}") for i, item in enumerate(data)]
    if stripped.startswith("{"):
        return [
            parse_event(json.loads(line), f"line {i + 1}")
            for i, line in enumerate(text.splitlines())
            if line.strip()
        ]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"email", "address"} & {f.strip().lower() for f in reader.fieldnames}:
        raise InvalidInput("file", "CSV needs a header row with an email column (email,kind,reason)")
    events = []
    for i, row in enumerate(reader):
        cleaned = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        events.append(parse_event({k: v for k, v in cleaned.items() if v}, f"row {i + 2}"))
    return events
