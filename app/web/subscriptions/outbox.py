"""Embedded mode only: browse the file outbox (the emails the app "sent") at /outbox.

So a user without a mail server can open the confirmation email and click through. Every
email in it carries links that act for its recipient (confirm, preferences, export, delete),
so the outbox is shown only outside production, only while mail goes to the file outbox,
and only to this machine itself (`app.web.access.is_local_request`) or to whoever holds the
admin token. Anyone else gets a 403 that says where to open it; with SMTP_URL set, or in
production (which refuses the file outbox anyway), the routes answer 404.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.http import state_of
from app.web.access import admin_authorized, is_local_request
from app.web.subscriptions.common import email_html, page

router = APIRouter(include_in_schema=False)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.eml$")
LIST_LIMIT = 200


@dataclass
class OutboxEntry:
    name: str
    subject: str
    to: str
    date: str
    kind: str


def _dir(request: Request) -> Path:
    settings = state_of(request).settings
    if not settings.uses_file_outbox or settings.environment == "production":
        raise HTTPException(404, "The outbox is only kept in embedded mode (no SMTP_URL).")
    if not (is_local_request(request) or admin_authorized(request)):
        raise HTTPException(
            403,
            "The outbox holds other people's confirmation links, so it opens only on this machine "
            "(http://127.0.0.1:<port>/outbox) or for the operator signed in at /admin.",
        )
    return settings.outbox_dir


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _file(request: Request, name: str) -> Path:
    folder = _dir(request)
    if not NAME.match(name):
        raise HTTPException(404, "No such message in the outbox.")
    path = folder / name
    if not path.is_file():
        raise HTTPException(404, "No such message in the outbox (it may have been cleaned up).")
    return path


@router.get("/outbox")
def outbox_list(request: Request) -> HTMLResponse:
    folder = _dir(request)
    files = (
        sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    )
    entries = []
    for path in files[:LIST_LIMIT]:
        msg = _read(path)
        entries.append(
            OutboxEntry(
                name=path.name,
                subject=str(msg.get("Subject", "")),
                to=str(msg.get("To", "")),
                date=str(msg.get("Date", "")),
                kind="digest" if msg.get("List-Unsubscribe") else "confirmation",
            )
        )
    return page("pages/outbox.html", entries=entries, total=len(files), folder=str(folder))


@router.get("/outbox/{name}")
def outbox_message(request: Request, name: str) -> HTMLResponse:
    msg = _read(_file(request, name))
    text_part = msg.get_body(("plain",))
    text = text_part.get_content() if text_part is not None else ""
    headers = [
        (key, str(msg.get(key)))
        for key in (
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
        )
        if msg.get(key) is not None
    ]
    links = re.findall(r"https?://[^\s<>\"]+", text)
    return page("pages/outbox_message.html", message_name=name, headers=headers, text=text, links=links)


@router.get("/outbox/{name}/html")
def outbox_message_html(request: Request, name: str) -> Response:
    msg = _read(_file(request, name))
    part = msg.get_body(("html",))
    if part is None:
        raise HTTPException(404, "This message has no HTML part.")
    return email_html(part.get_content())


@router.get("/outbox/{name}/raw")
def outbox_message_raw(request: Request, name: str) -> Response:
    path = _file(request, name)
    return Response(
        path.read_bytes(),
        media_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
