"""Digest headers, DKIM and MIME structure as received by a real SMTP server (requirements 16-20, 31-34)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.dkim import DkimError, DkimSigner
from app.models import Delivery
from tests.mail.mail_support import (
    DAY,
    MAIL_FROM,
    Received,
    SmtpServer,
    build,
    seed_world,
    send,
    settings_for,
)

KEYS = Path(__file__).resolve().parent.parent / "fixtures" / "dkim"
SELECTOR, DOMAIN = "s2026", "news.example.org"
SUBSCRIBERS = ["ada@example.org", "alan@example.org", "grace@example.org"]


def fake_dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
    return b"v=DKIM1; k=rsa; p=" + (KEYS / "test_public.b64").read_bytes().strip()


@pytest.fixture
def settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return settings_for(
        tmp_path,
        smtp_url=smtp.url,
        dkim_domain=DOMAIN,
        dkim_selector=SELECTOR,
        dkim_private_key_path=str(KEYS / "test_private.pem"),
        mail_unsubscribe_mailto="unsubscribe@news.example.org",
    )


@pytest.fixture
def digests(settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]) -> list[Received]:
    seed_world(session_factory, SUBSCRIBERS)
    build(settings, session_factory)
    assert send(settings, session_factory).sent == len(SUBSCRIBERS)
    return list(smtp.received)


def _tags(header: str) -> dict[str, str]:
    return {
        k.strip(): v.strip() for k, v in (part.split("=", 1) for part in header.split(";") if "=" in part)
    }


def test_requirement_16_one_list_unsubscribe_header_with_one_https_uri(digests: list[Received]) -> None:
    """Requirement 16: exactly one List-Unsubscribe header with exactly one https:// URI in angle brackets."""
    for received in digests:
        values = received.message.get_all("List-Unsubscribe")
        assert values is not None and len(values) == 1
        uris = re.findall(r"<([^>]+)>", str(values[0]))
        assert [u for u in uris if u.startswith("https://")] == [uris[0]] and len(uris) == 2
        assert uris[1].startswith("mailto:unsubscribe@news.example.org?subject=")


def test_requirement_17_list_unsubscribe_post_header(digests: list[Received]) -> None:
    """Requirement 17: every digest has `List-Unsubscribe-Post: List-Unsubscribe=One-Click`."""
    for received in digests:
        assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in received.raw
        assert received.message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]


def test_requirement_18_dkim_signature_covers_the_list_headers(digests: list[Received]) -> None:
    """Requirement 18: the DKIM h= tag includes the list headers, from, subject, date and message-id."""
    for received in digests:
        tags = _tags(str(received.message["DKIM-Signature"]).replace("\r\n", "").replace(" ", ""))
        signed = set(tags["h"].lower().split(":"))
        assert {
            "list-unsubscribe",
            "list-unsubscribe-post",
            "from",
            "subject",
            "date",
            "message-id",
        } <= signed
        assert tags["d"] == DOMAIN and tags["s"] == SELECTOR and tags["c"] == "relaxed/relaxed"


def test_requirement_19_every_digest_passes_dkim_verify(digests: list[Received]) -> None:
    """Requirement 19: every digest passes dkim.verify against the test key."""
    for received in digests:
        assert dkim.verify(received.raw, dnsfunc=fake_dns) is True
        tampered = received.raw.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"
        )
        assert dkim.verify(tampered, dnsfunc=fake_dns) is False


def test_requirement_20_dkim_and_return_path_domains_align_with_from(digests: list[Received]) -> None:
    """Requirement 20: the DKIM d= domain and the Return-Path domain share the From organizational domain."""
    from_domain = MAIL_FROM.rsplit("@", 1)[1].strip(">")
    for received in digests:
        assert received.mail_from.rsplit("@", 1)[1] == from_domain  # MAIL FROM is the Return-Path
        assert _tags(str(received.message["DKIM-Signature"]))["d"] == from_domain
    signer = DkimSigner.from_file("mail.example.com", SELECTOR, str(KEYS / "test_private.pem"))
    with pytest.raises(DkimError, match="not aligned"):
        signer.check_alignment("digest@news.example.org")
    DkimSigner.from_file("bounce.news.example.org", SELECTOR, str(KEYS / "test_private.pem")).check_alignment(
        "digest@news.example.org"
    )


def test_requirement_31_multipart_alternative_text_first_both_utf8(digests: list[Received]) -> None:
    """Requirement 31: multipart/alternative, text/plain before text/html, both non-empty UTF-8."""
    for received in digests:
        msg = received.message
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        for part in parts:
            assert isinstance(part, EmailMessage) and part.get_content_charset() == "utf-8"
            assert part.get_content().strip()


def test_requirement_32_html_inlined_preheader_600px_under_100kb(digests: list[Received]) -> None:
    """Requirement 32: inlined CSS, a preheader, a container of at most 600 px, under 100 KB."""
    for received in digests:
        html = received.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert len(html.encode()) < 100_000
        assert re.search(r'class="preheader" style="[^"]*display: none', html)
        assert re.search(r'class="container"[^>]*style="[^"]*max-width: ?600px', html)
        assert re.search(r'class="title" style="', html)  # class rules became style attributes
        assert "prefers-color-scheme: dark" in html and 'name="color-scheme"' in html
        assert "<!--[if mso]>" in html and 'width="600"' in html


def test_requirement_33_visible_unsubscribe_and_preference_links(digests: list[Received]) -> None:
    """Requirement 33: the body contains a visible unsubscribe link and a preference-page link."""
    for received in digests:
        msg = received.message
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        header_url = re.findall(r"<(https://[^>]+)>", str(msg["List-Unsubscribe"]))[0]
        assert re.search(f'href="{re.escape(header_url)}"[^>]*>Unsubscribe</a>', html)
        assert f"Unsubscribe: {header_url}" in text
        assert re.search(r'href="https://news\.example\.org/preferences/[^"]+"[^>]*>Change topics', html)
        assert "Preferences: https://news.example.org/preferences/" in text


def test_requirement_34_message_ids_unique_on_our_domain_and_stable_across_retries(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 34: Message-IDs are unique across subscribers and days, on our domain, stable on retry."""
    seed_world(session_factory, SUBSCRIBERS)
    smtp.handler.script.data["ada@example.org"] = "451 4.3.0 try again later"
    build(settings, session_factory)
    send(settings, session_factory)  # ada is deferred
    del smtp.handler.script.data["ada@example.org"]
    send(settings, session_factory, DAY + timedelta(hours=1))  # the retry goes through
    next_day = DAY + timedelta(days=1)
    seed_world(session_factory, [], day=next_day)
    build(settings, session_factory, next_day)
    send(settings, session_factory, next_day)
    ids = [str(r.message["Message-ID"]) for r in smtp.handler.seen]
    ada = [str(r.message["Message-ID"]) for r in smtp.handler.seen if r.rcpt == "ada@example.org"]
    assert ada[0] == ada[1] and len(set(ada)) == 2  # one id per day, the same on the retry
    delivered = [str(r.message["Message-ID"]) for r in smtp.received]
    assert len(delivered) == len(set(delivered)) == 2 * len(SUBSCRIBERS)
    assert all(re.fullmatch(r"<[^@<>\s]+@news\.example\.org>", i) for i in ids)
    with session_scope(session_factory) as s:
        stored = set(s.scalars(select(Delivery.message_id)).all())
    assert stored == set(delivered)
