"""Feedback links from the email: "more like this", "less like this", "mute this topic".

The link opens a page that says what will happen; one POST applies it and the answer
offers the undo. The next digest reads the feedback rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.http import NowDep, SessionDep, state_of
from app.subscribers.service import (
    apply_feedback,
    describe_feedback_target,
    from_feedback_token,
    undo_feedback,
)
from app.subscribers.tokens import FEEDBACK_KINDS, InvalidToken
from app.web.subscriptions.common import check_csrf, form_token, invalid_link, page

router = APIRouter(include_in_schema=False)


def _show(
    request: Request, session: Session, now: datetime, token: str, kind: str, state: str
) -> HTMLResponse:
    setup = state_of(request).mail_setup
    try:
        subscriber, claims = from_feedback_token(session, setup.signer, token)
    except InvalidToken:
        return invalid_link("feedback link")
    target_id = claims.topic_id if kind == "mute" else claims.paper_id
    target = (
        describe_feedback_target(session, kind, target_id) if kind in FEEDBACK_KINDS and target_id else None
    )
    if target is None:
        return invalid_link("feedback link")
    if state == "applied":
        apply_feedback(session, subscriber, kind, target_id, now)
    elif state == "undone":
        undo_feedback(session, subscriber, kind, target_id, now)
    return page(
        "pages/feedback.html",
        state=state,
        kind=kind,
        target_title=getattr(target, "title", None) or getattr(target, "label", ""),
        action=f"/feedback/{token}/{kind}",
        preferences_url=setup.preferences_url(subscriber.id, subscriber.link_key),
        csrf_token=form_token(request, "feedback", f"{token}/{kind}"),
    )


@router.get("/feedback/{token}/{kind}")
def feedback_page(request: Request, token: str, kind: str, session: SessionDep, now: NowDep) -> HTMLResponse:
    return _show(request, session, now, token, kind, "ask")


def _change(state: str) -> Callable[..., HTMLResponse]:
    """The POST that applies (or undoes) the feedback a link stands for."""

    def change(
        request: Request,
        token: str,
        kind: str,
        session: SessionDep,
        now: NowDep,
        csrf_token: Annotated[str, Form(max_length=2_000)] = "",
    ) -> HTMLResponse:
        check_csrf(request, csrf_token, "feedback", f"{token}/{kind}")
        return _show(request, session, now, token, kind, state)

    return change


router.post("/feedback/{token}/{kind}", name="feedback_apply")(_change("applied"))
router.post("/feedback/{token}/{kind}/undo", name="feedback_undo")(_change("undone"))
