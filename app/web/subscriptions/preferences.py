"""The preference centre behind the signed link in every email: no account, no password.

Topics, keywords, a free-text interest, seed papers, frequency, send hour and time zone,
papers per digest, the trending section; a preview of the next digest; a browser view of
past digests; export of everything stored (JSON) and deletion.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.browse.private_feed import feed_path
from app.digest.learned import learned_view
from app.digest.service import preview_digest
from app.http import NowDep, SessionDep, StateDep, state_of
from app.mail.queries import mailed_digest_html
from app.models import Subscriber, Topic
from app.models.statuses import SubscriberStatus
from app.subscribers import queries
from app.subscribers.service import (
    current_preferences,
    delete_subscriber,
    export_data,
    from_preferences_token,
    reset_learned,
    set_interest_vector,
    update_preferences,
)
from app.subscribers.tokens import InvalidToken
from app.subscribers.validation import (
    MAX_TOPICS,
    InvalidInput,
    Preferences,
    parse_authors,
    parse_frequency,
    parse_ids,
    parse_int,
    parse_interest,
    parse_keywords,
    parse_named_interests,
    parse_seed_refs,
    parse_timezone,
)
from app.web.subscriptions.common import (
    check_csrf,
    check_size,
    digest_options_of,
    email_html,
    form_token,
    invalid_link,
    page,
)

router = APIRouter(include_in_schema=False)
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo",
    "Asia/Singapore", "Australia/Sydney", "Africa/Johannesburg",
)  # fmt: skip


def _subscriber(request: Request, session: Session, token: str) -> Subscriber | None:
    try:
        return from_preferences_token(session, state_of(request).mail_setup.signer, token)
    except InvalidToken:
        return None


def _render(
    request: Request,
    session: Session,
    subscriber: Subscriber,
    token: str,
    prefs: Preferences,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    raw: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    setup = state_of(request).mail_setup
    return page(
        "pages/preferences.html",
        status_code,
        subscriber=subscriber,
        token=token,
        prefs=prefs,
        raw=raw or {},
        topics=queries.selectable_topics(session),
        muted=_muted(session, subscriber),
        zones=COMMON_ZONES,
        errors=errors or {},
        notice=notice,
        unsubscribe_url=setup.unsubscribe_url(subscriber.id, subscriber.link_key),
        feed_url=None
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED
        else setup.identity.base_url + feed_path(setup.signer, subscriber.id, subscriber.link_key),
        csrf_token=form_token(request, "preferences", token),
        delete_token=form_token(request, "delete", token),
    )


def _muted(session: Session, subscriber: Subscriber) -> list[Topic]:
    ids = [
        f.topic_id for f in queries.feedback_rows(session, subscriber.id) if f.kind == "mute" and f.topic_id
    ]
    return queries.topics_by_ids(session, ids)


@router.get("/preferences/{token}")
def preferences_page(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    return _render(request, session, subscriber, token, current_preferences(session, subscriber))


@router.post("/preferences/{token}")
def preferences_save(
    request: Request,
    token: str,
    session: SessionDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
    topics: Annotated[list[str], Form()] = [],  # noqa: B006 - read by FastAPI, never mutated
    keywords: Annotated[str, Form(max_length=20_000)] = "",
    interest: Annotated[str, Form(max_length=20_000)] = "",
    seeds: Annotated[str, Form(max_length=20_000)] = "",
    frequency: Annotated[str, Form(max_length=100)] = "daily",
    send_hour: Annotated[str, Form(max_length=100)] = "7",
    timezone: Annotated[str, Form(max_length=200)] = "UTC",
    max_papers: Annotated[str, Form(max_length=100)] = "10",
    include_trending: Annotated[str, Form(max_length=10)] = "",
    include_likely: Annotated[str, Form(max_length=10)] = "",
    authors: Annotated[str, Form(max_length=20_000)] = "",
    exclude: Annotated[str, Form(max_length=20_000)] = "",
    quiet_note: Annotated[str, Form(max_length=10)] = "",
    interest_name: Annotated[list[str], Form()] = [],  # noqa: B006 - read only
    interest_keywords: Annotated[list[str], Form()] = [],  # noqa: B006 - read only
    interest_text: Annotated[list[str], Form()] = [],  # noqa: B006 - read only
) -> HTMLResponse:
    check_size(request)
    check_csrf(request, csrf_token, "preferences", token)
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    raw = {
        "keywords": keywords, "interest": interest, "seeds": seeds, "timezone": timezone,
        "send_hour": send_hour, "max_papers": max_papers, "frequency": frequency,
        "authors": authors, "exclude": exclude,
    }  # fmt: skip
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    parsers = {
        "topic_ids": lambda: parse_ids(topics, "topics", MAX_TOPICS),
        "keywords": lambda: parse_keywords(keywords),
        "interest_text": lambda: parse_interest(interest),
        "seed_paper_refs": lambda: parse_seed_refs(seeds),
        "frequency": lambda: parse_frequency(frequency),
        "send_hour": lambda: parse_int(send_hour, "send_hour", 0, 23),
        "timezone": lambda: parse_timezone(timezone),
        "max_papers": lambda: parse_int(max_papers, "max_papers", 1, 50),
        "authors": lambda: parse_authors(authors),
        "exclude": lambda: parse_keywords(exclude, "exclude"),
        "interests": lambda: parse_named_interests(interest_name, interest_keywords, interest_text),
    }
    for name, parse in parsers.items():
        try:
            values[name] = parse()
        except InvalidInput as exc:
            errors[exc.field] = exc.message
    if errors:
        shown = current_preferences(session, subscriber)
        return _render(request, session, subscriber, token, shown, errors=errors, raw=raw, status_code=422)
    prefs = Preferences(
        include_trending=bool(include_trending),
        include_likely=bool(include_likely),
        quiet_note=bool(quiet_note),
        **values,
    )
    unknown = update_preferences(session, subscriber, prefs, now)
    _encode_interest(request, subscriber)
    notice = "Saved. Your next digest will use these settings."
    if unknown:
        notice += " These papers are not in our database yet and were skipped: " + ", ".join(unknown) + "."
    return _render(
        request, session, subscriber, token, current_preferences(session, subscriber), notice=notice
    )


def _encode_interest(request: Request, subscriber: Subscriber) -> None:
    """With an encoder loaded in this process, compute the interest vector now (else at the next build)."""
    encoder = state_of(request).encoder
    if encoder is None or not subscriber.interest_text or subscriber.interest_vector is not None:
        return
    vector = np.asarray(encoder.encode([subscriber.interest_text])[0], dtype=np.float32)
    set_interest_vector(subscriber, vector.tobytes(), encoder.model_name)


@router.get("/preferences/{token}/profile")
def profile_page(request: Request, token: str, session: SessionDep, now: NowDep) -> HTMLResponse:
    """What the digest has learned from this subscriber, in words, with a reset."""
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    return _profile(request, session, subscriber, token, now)


def _profile(
    request: Request, session: Session, subscriber: Subscriber, token: str, now: datetime, notice: str = ""
) -> HTMLResponse:
    prefs = current_preferences(session, subscriber)
    return page(
        "pages/profile.html",
        subscriber=subscriber,
        token=token,
        prefs=prefs,
        view=learned_view(session, subscriber, now),
        notice=notice,
        reset_token=form_token(request, "reset", token),
    )


@router.post("/preferences/{token}/profile/reset")
def profile_reset(
    request: Request,
    token: str,
    session: SessionDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token, "reset", token)
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    count = reset_learned(session, subscriber, now)
    notice = f"Forgotten: {count} “more / less like this” mark{'s' if count != 1 else ''}."
    return _profile(request, session, subscriber, token, now, notice)


@router.get("/preferences/{token}/preview")
def preferences_preview(
    request: Request, token: str, session: SessionDep, state: StateDep, now: NowDep
) -> Response:
    """The next digest as it would look now, in the browser (nothing is stored or sent)."""
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    from app.embed.service import load_vectors

    setup = state.mail_setup
    built = preview_digest(
        session,
        subscriber,
        now=now,
        options=digest_options_of(request),
        encoder=state.encoder,
        load_vectors=load_vectors,
    )
    if built is None:
        return page("pages/preferences_preview_empty.html", token=token)
    return email_html(setup.renderer.digest(setup.digest_view(built)).html)


@router.get("/preferences/{token}/digest/{period}")
def past_digest(request: Request, token: str, period: str, session: SessionDep) -> Response:
    """ "View in browser": a digest exactly as it was mailed."""
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    html = mailed_digest_html(session, subscriber.id, period)
    if html is None:
        return page("pages/preferences_preview_empty.html", 404, token=token, past=True)
    return email_html(html)


@router.get("/preferences/{token}/export")
def preferences_export(request: Request, token: str, session: SessionDep, now: NowDep) -> Response:
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    data = export_data(session, subscriber)
    data["exported_at"] = now.isoformat()
    stamp = now.strftime("%Y%m%d")
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="papertrend-my-data-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/preferences/{token}/delete")
def preferences_delete(
    request: Request,
    token: str,
    session: SessionDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token, "delete", token)
    subscriber = _subscriber(request, session, token)
    if subscriber is None:
        return invalid_link("preferences link")
    if confirm != "yes":
        prefs = current_preferences(session, subscriber)
        errors = {"delete": "Tick the box to confirm that everything should be deleted."}
        return _render(request, session, subscriber, token, prefs, errors=errors, status_code=422)
    delete_subscriber(session, subscriber)
    return page("pages/preferences_deleted.html")
