"""Atom feeds: trending per window, each topic, each subscriber (private URL); OPML of all topics.

An area's feed carries the papers of its subtopics too; the OPML file has one folder per area
(the area's own feed first, then its subtopics) and one for the techniques.

Feeds are built with feedgen and served through the response cache like the pages, except
a subscriber's private feed: it is checked against the subscriber's row on every request
(a deleted or unsubscribed subscriber's feed must stop at once) and only revalidated by
ETag. Entry ids are the papers' absolute URLs here, so a feed reader never shows a paper twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Literal
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Path, Request, Response
from feedgen.feed import FeedGenerator
from lxml import etree
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.browse.cache import cached, etag_matches, make_etag
from app.browse.private_feed import subscriber_for_feed, subscriber_items
from app.browse.topics import topic_detail, topic_tree
from app.browse.trending import trending
from app.browse.types import PaperCard
from app.db import session_scope
from app.http import NowDep, SiteUrlDep, StateDep
from app.web.text import latex_to_text

router = APIRouter(include_in_schema=False)

ATOM = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SIZE = 30
WINDOW_TITLES = {"day": "today", "week": "this week", "month": "this month"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (a stray control character must not break a feed)."""
    return _NOT_XML.sub("", text)


def _entry_time(card: PaperCard) -> datetime:
    if card.published_at is not None:
        return card.published_at
    if card.announced_date is not None:
        return datetime.combine(card.announced_date, time.min, tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def build_feed(
    *,
    site: str,
    path: str,
    page_path: str,
    title: str,
    subtitle: str,
    cards: Sequence[PaperCard],
    reasons: dict[int, str] | None = None,
    fallback_updated: datetime,
) -> bytes:
    """An Atom document for papers (deterministic for the same data, so ETags hold)."""
    fg = FeedGenerator()
    fg.id(site + path)
    fg.title(xml_safe(title))
    fg.subtitle(xml_safe(subtitle))
    fg.link(href=site + path, rel="self", type=ATOM)
    fg.link(href=site + page_path, rel="alternate", type="text/html")
    fg.author({"name": "papertrend", "uri": site + "/"})
    fg.generator("papertrend")
    fg.language("en")
    stamps = [_entry_time(c) for c in cards]
    fg.updated(max(stamps) if stamps else fallback_updated)
    entry_links: list[list[dict[str, str]]] = []
    for card in cards:
        entry = fg.add_entry(order="append")
        page = f"{site}/papers/{card.public_id}"
        entry.id(page)
        entry.title(xml_safe(latex_to_text(card.title)) or card.public_id)
        links = [{"href": page, "rel": "alternate", "type": "text/html"}]
        if card.abs_url:
            links.append({"href": card.abs_url, "rel": "related", "type": "text/html", "title": "arXiv"})
        if card.pdf_url:
            links.append({"href": card.pdf_url, "rel": "related", "type": "application/pdf", "title": "PDF"})
        if card.code_url:
            links.append({"href": card.code_url, "rel": "related", "type": "text/html", "title": "Code"})
        entry.link(links)
        entry_links.append(links)
        summary = latex_to_text(card.abstract)
        reason = (reasons or {}).get(card.id)
        if reason:
            summary = f"{reason}. {summary}"
        entry.summary(xml_safe(summary) or "(no abstract)")
        entry.published(_entry_time(card))
        entry.updated(card.updated_at or _entry_time(card))
        authors = [{"name": xml_safe(a)} for a in card.authors if a.strip()]
        entry.author(authors or [{"name": "unknown"}])
        for topic in card.topics:
            entry.category(term=topic.slug, label=xml_safe(topic.label), scheme=f"{site}/topics/")
    return _with_link_attributes(fg.atom_str(pretty=True), entry_links)


def _with_link_attributes(document: bytes, entry_links: list[list[dict[str, str]]]) -> bytes:
    """Put rel/type/title back on entry links: feedgen 1.0 writes entry links with `href` only."""
    root = etree.fromstring(document)
    for entry, links in zip(root.findall(f"{{{ATOM_NS}}}entry"), entry_links, strict=True):
        for element, link in zip(entry.findall(f"{{{ATOM_NS}}}link"), links, strict=True):
            for name, value in link.items():
                element.set(name, value)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


@router.get("/feeds/trending.atom")
async def trending_feed(
    request: Request, site: SiteUrlDep, now: NowDep, window: Literal["day", "week", "month"] = "week"
) -> Response:

    def build(session: Session) -> tuple[bytes, str]:
        result = trending(session, window=window, per_page=FEED_SIZE, today=now.date(), with_chips=False)
        body = build_feed(
            site=site,
            path=f"/feeds/trending.atom?window={window}",
            page_path=f"/?window={window}",
            title=f"papertrend: trending papers {WINDOW_TITLES[window]}",
            subtitle="The papers moving fastest, ranked by a score you can read on the site.",
            cards=result.cards,
            fallback_updated=now,
        )
        return body, ATOM

    return await cached(request, ("feed-trending", window, now.date()), build, media_type=ATOM)


@router.get("/feeds/topics/{slug}.atom")
async def topic_feed(
    request: Request, site: SiteUrlDep, now: NowDep, slug: str = Path(max_length=120)
) -> Response:

    def build(session: Session) -> tuple[bytes, str]:
        detail = topic_detail(session, slug, weeks=1, papers=FEED_SIZE)
        if detail is None:
            raise HTTPException(404, f"There is no topic called “{slug}”.")
        keywords = ", ".join(detail.keywords[:6])
        subtitle = f"Newest papers in {detail.topic.label}" + (f" ({keywords})" if keywords else "")
        if detail.subtopics:
            n = len(detail.subtopics)
            subtitle += f", with its {n} subtopic{'s' if n != 1 else ''}"
        elif detail.parent is not None:
            subtitle += f", a subtopic of {detail.parent.label}"
        body = build_feed(
            site=site,
            path=f"/feeds/topics/{slug}.atom",
            page_path=f"/topics/{slug}",
            title=f"papertrend: {detail.topic.label}",
            subtitle=subtitle,
            cards=detail.newest_papers,
            fallback_updated=now,
        )
        return body, ATOM

    return await cached(request, ("feed-topic", slug), build, media_type=ATOM)


@router.get("/feeds/subscriber/{token}.atom")
async def subscriber_feed(
    request: Request, site: SiteUrlDep, now: NowDep, state: StateDep, token: str = Path(max_length=64)
) -> Response:
    """Private: never in the shared cache, never indexed, and a wrong token is a plain 404."""
    signer = state.signer

    def build() -> bytes | None:
        with session_scope(state.session_factory) as session:
            subscriber = subscriber_for_feed(session, signer, token)
            if subscriber is None:
                return None
            items = subscriber_items(session, subscriber, now=now)
            return build_feed(
                site=site,
                path=f"/feeds/subscriber/{token}.atom",
                page_path="/",
                title="papertrend: your digest",
                subtitle="The papers chosen for you, as in your email digest.",
                cards=[i.card for i in items],
                reasons={i.card.id: i.reason for i in items},
                fallback_updated=now,
            )

    body = await run_in_threadpool(build)
    if body is None:
        raise HTTPException(404, "This feed address is not valid (any more).")
    etag = make_etag(body)
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
        "Referrer-Policy": "no-referrer",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ATOM, headers=headers)


@router.get("/feeds/topics.opml")
async def topics_opml(request: Request, site: SiteUrlDep) -> Response:

    def build(session: Session) -> tuple[bytes, str]:
        opml = ET.Element("opml", version="2.0")
        head = ET.SubElement(opml, "head")
        ET.SubElement(head, "title").text = "papertrend topics"
        body = ET.SubElement(opml, "body")
        tree = topic_tree(session, sort="name")
        folders = [(g.area.topic.label, [g.area, *g.subtopics]) for g in tree.areas]
        folders += [("Other subtopics", tree.unplaced), ("Techniques", tree.techniques)]
        for title, items in folders:
            if not items:
                continue
            group = ET.SubElement(body, "outline", text=xml_safe(title), title=xml_safe(title))
            for item in items:
                topic = item.topic
                ET.SubElement(
                    group,
                    "outline",
                    type="rss",
                    text=xml_safe(topic.label),
                    title=xml_safe(topic.label),
                    xmlUrl=f"{site}/feeds/topics/{topic.slug}.atom",
                    htmlUrl=f"{site}/topics/{topic.slug}",
                )
        return ET.tostring(opml, encoding="utf-8", xml_declaration=True), "text/x-opml"

    return await cached(request, ("opml",), build, media_type="text/x-opml")
