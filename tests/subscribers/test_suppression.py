"""The suppression list and the parsing of bounce/complaint events from webhooks and files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Delivery, Subscriber, Suppression
from app.subscribers.suppression import apply_events, parse_import, parse_webhook, suppress, unsuppress
from app.subscribers.validation import InvalidInput

NOW = datetime(2026, 5, 5, tzinfo=UTC)


def test_webhook_payload_shapes() -> None:
    one = parse_webhook({"email": "A@Example.org", "kind": "bounce", "reason": "550 5.1.1 user unknown"})
    assert [(e.email, e.kind, e.suppresses) for e in one] == [("a@example.org", "bounce", True)]
    many = parse_webhook(
        {"events": [{"address": "b@example.org", "type": "complaint"}, {"email": "c@example.org",
         "kind": "bounce", "bounce_type": "soft"}]}
    )  # fmt: skip
    assert [(e.kind, e.suppresses, e.suppression_kind) for e in many] == [
        ("complaint", True, "complaint"),
        ("soft_bounce", False, "bounce"),
    ]
    for bad in ([{"kind": "bounce"}], {"email": "x@example.org", "kind": "explode"}, ["text"],
                {"email": "a@b.org\r\nBcc: c@d.org", "kind": "bounce"}):  # fmt: skip
        with pytest.raises(InvalidInput):
            parse_webhook(bad)


def test_import_files_json_jsonl_and_csv() -> None:
    csv_text = "email,kind,reason\nx@example.org,bounce,550 gone\ny@example.org,complaint,\n"
    assert [e.kind for e in parse_import(csv_text)] == ["bounce", "complaint"]
    jsonl = (
        '{"email": "x@example.org", "kind": "bounce"}\n\n{"email": "y@example.org", "kind": "soft_bounce"}\n'
    )
    assert [e.suppresses for e in parse_import(jsonl)] == [True, False]
    assert len(parse_import('[{"email": "z@example.org"}]')) == 1
    with pytest.raises(InvalidInput):
        parse_import("address_missing,foo\n1,2\n")
    with pytest.raises(InvalidInput, match="row 3"):
        parse_import("email,kind\nok@example.org,bounce\nnot-an-address,bounce\n")


def test_suppress_cancels_queued_mail_and_unsuppress_restores(db: Session) -> None:
    sub = Subscriber(email="q@example.org", status="confirmed", link_key="k")
    db.add(sub)
    db.flush()
    db.add(Delivery(subscriber_id=sub.id, kind="digest", recipient=sub.email, message_id="<m@x>", subject="s",
                    status="queued"))  # fmt: skip
    db.flush()
    assert suppress(db, "q@example.org", kind="complaint", reason="fbl", source="webhook", now=NOW)
    assert not suppress(db, "q@example.org", kind="complaint", reason="fbl", source="webhook", now=NOW)
    assert db.scalars(select(Delivery.status)).one() == "skipped"
    counts = apply_events(
        db, parse_webhook([{"email": "q@example.org", "kind": "bounce"}]), source="webhook", now=NOW
    )
    assert counts == {"suppressed": 0, "already": 1, "recorded": 0}
    assert unsuppress(db, "q@example.org", NOW) and not unsuppress(db, "q@example.org", NOW)
    assert db.scalars(select(Suppression)).all() == []
