"""Areas and subtopics as readers see them: every subtopic has a live area, and the index, the topic
pages, the feeds, the JSON API, the subscription forms and `topics export` agree on the hierarchy."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import feedparser
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.cli.topics import export_lines
from app.db import session_scope
from app.models import Subscriber, SubscriberTopic, Topic
from app.models.statuses import TopicStatus
from app.subscribers.tokens import TokenSigner
from tests.web.hierarchy import (
    AGENTS,
    AREA,
    CONTRASTIVE,
    HIDDEN_SUB,
    SUBTOPIC_ONLY_TITLE,
    TRANSLATION,
    Hierarchy,
    add_hierarchy,
)
from tests.web.seed import RISING_TREND, Seeded

API = "/api/v1"
LIVE = {TopicStatus.ACTIVE, TopicStatus.EMERGING}


@pytest.fixture
def hierarchy(session_factory: sessionmaker[Session], seeded: Seeded) -> Hierarchy:
    with session_scope(session_factory) as session:
        return add_hierarchy(session, seeded)


def _section(html: str, start: str, end: str = "</section>") -> str:
    part = html[html.index(start) :]
    return part[: part.index(end)]


def _links(html: str) -> list[str]:
    return re.findall(r'href="/topics/([a-z0-9-]+)"', html)


def _visible_children(session: Session) -> dict[str, list[str]]:
    """Area slug -> slugs of its visible subtopics, from the database."""
    topics = session.scalars(select(Topic)).all()
    by_id = {t.id: t for t in topics}
    out: dict[str, list[str]] = {}
    for t in topics:
        if t.kind == "subtopic" and not t.hidden and t.status != TopicStatus.MERGED and t.parent_id:
            out.setdefault(by_id[t.parent_id].slug, []).append(t.slug)
    return {k: sorted(v) for k, v in out.items()}


def test_every_subtopic_has_a_live_area_and_export_api_and_pages_agree(
    client: TestClient, hierarchy: Hierarchy, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as session:
        topics = session.scalars(select(Topic)).all()
        by_id = {t.id: t for t in topics}
        subtopics = [t for t in topics if t.kind == "subtopic"]
        assert len(subtopics) == 4
        for sub in subtopics:
            area = by_id.get(sub.parent_id or 0)
            assert area is not None and area.kind == "area", sub.slug
            assert area.status in LIVE and not area.hidden, sub.slug
        assert all(t.parent_id is None for t in topics if t.kind != "subtopic")
        expected = _visible_children(session)
        parent_of = {t.slug: by_id[t.parent_id].slug if t.parent_id else None for t in topics}
        exported = [json.loads(line) for line in export_lines(session)]
    assert expected == {AREA: [AGENTS, TRANSLATION], "representation-learning": [CONTRASTIVE]}

    # Export: every topic of every paper carries its area (slug and id), null above the subtopics.
    seen = 0
    for line in exported:
        for item in line["topics"]:
            assert item["parent"] == parent_of[item["slug"]]
            assert (item["parent_id"] is None) == (item["parent"] is None)
            seen += item["kind"] == "subtopic"
    assert seen == 8

    # API: the list, the filter by area, and each topic's own object.
    items = client.get(f"{API}/topics").json()["items"]
    api_parents = {i["slug"]: i["parent"] for i in items}
    assert {s: p for s, p in api_parents.items() if p} == {
        s: parent_of[s] for kids in expected.values() for s in kids
    }
    assert HIDDEN_SUB not in api_parents
    for area, kids in expected.items():
        listed = client.get(f"{API}/topics", params={"parent": area}).json()["items"]
        assert sorted(i["slug"] for i in listed) == kids
        detail = client.get(f"{API}/topics/{area}").json()
        assert detail["parent"] is None and sorted(s["slug"] for s in detail["subtopics"]) == kids
        assert next(i for i in items if i["slug"] == area)["subtopics"] == len(kids)
        for kid in kids:
            sub = client.get(f"{API}/topics/{kid}").json()
            assert sub["parent"] == area and sub["subtopics"] == []
            assert area not in [r["topic"]["slug"] for r in sub["related"]]  # the hierarchy, not a relation
    only_subtopics = client.get(f"{API}/topics", params={"kind": "subtopic"}).json()["items"]
    assert sorted(i["slug"] for i in only_subtopics) == sorted(s for k in expected.values() for s in k)
    assert client.get(f"{API}/topics", params={"parent": "no-such-area"}).status_code == 404
    assert client.get(f"{API}/topics", params={"parent": HIDDEN_SUB}).status_code == 404
    # Paper items name the area of each subtopic they carry.
    paper = client.get(f"{API}/papers/2611.20000").json()
    refs = {t["slug"]: t["parent"] for t in paper["topics"]}
    assert refs == {AGENTS: AREA, AREA: None}

    # Pages: the index lists each area's subtopics under it; each area page lists the same ones;
    # each subtopic page names and links its area.
    index = client.get("/topics").text
    for area, kids in expected.items():
        group = _section(index, f'id="sub-{area}"', "</ul>")
        assert sorted(_links(group)) == kids
        page = client.get(f"/topics/{area}").text
        assert sorted(_links(_section(page, 'aria-labelledby="subtopics-title"'))) == kids
        for kid in kids:
            sub_page = client.get(f"/topics/{kid}").text
            head = _section(sub_page, 'class="page-head topic-head"', "</h1>")
            assert f'<a href="/topics/{area}">' in head
            assert f'A subtopic of the research area <a href="/topics/{area}">' in sub_page
    assert "Hidden subtopic" not in index
    assert client.get(f"/topics/{HIDDEN_SUB}").status_code == 404


def test_area_page_lists_subtopics_with_sizes_and_sparklines(
    client: TestClient, hierarchy: Hierarchy
) -> None:
    html = client.get(f"/topics/{AREA}").text
    assert "A research area with 2 subtopics" in html
    block = _section(html, 'aria-labelledby="subtopics-title"')
    rows = re.findall(r'<li class="subtopic-row">(.*?)</li>', block, re.S)
    assert [_links(r)[0] for r in rows] == [AGENTS, TRANSLATION]  # largest first
    sizes = [re.search(r'class="subtopic-size">(\d+)', r).group(1) for r in rows]  # type: ignore[union-attr]
    assert sizes == ["4", "2"]
    assert all('class="sparkline"' in r for r in rows)
    assert "LLM agents, papers per week over the last 12 weeks" in rows[0]
    assert "↑ rising" in rows[0] and "↓ falling" in rows[1]
    assert escape(RISING_TREND["summary"]) in rows[0]  # the move in words and numbers
    assert "Hidden subtopic" not in html
    # Related topics leave out the area's own subtopics: they are listed above.
    related = html[html.index('id="related-title"') :] if 'id="related-title"' in html else ""
    assert AGENTS not in "".join(_links(related)) and TRANSLATION not in "".join(_links(related))
    # The area counts its own 6 papers and the one placed in a subtopic alone.
    assert re.search(r'<span class="stat">7</span> papers', html)
    index = client.get("/topics").text
    assert re.search(r"Research area</span><span[^>]*>·</span>7 papers", index)
    assert client.get(f"{API}/topics/{AREA}").json()["size"] == 7
    assert next(i for i in client.get(f"{API}/topics").json()["items"] if i["slug"] == AREA)["size"] == 7
    assert SUBTOPIC_ONLY_TITLE in html


def test_area_feed_and_trending_filter_include_subtopic_papers(
    client: TestClient, hierarchy: Hierarchy
) -> None:
    area_feed = feedparser.parse(client.get(f"/feeds/topics/{AREA}.atom").content)
    titles = [e.title for e in area_feed.entries]
    assert SUBTOPIC_ONLY_TITLE in titles and "A subtopic the operator hid" in titles
    assert len(titles) == 7 and "with its 2 subtopics" in area_feed.feed.subtitle
    sub_feed = feedparser.parse(client.get(f"/feeds/topics/{AGENTS}.atom").content)
    assert sorted(e.title for e in sub_feed.entries) == sorted(
        t for t in hierarchy.papers if "agent" in t.lower() or t == SUBTOPIC_ONLY_TITLE
    )
    assert "a subtopic of Natural language processing" in sub_feed.feed.subtitle
    month = client.get("/", params={"window": "month", "topic": AREA}).text
    assert SUBTOPIC_ONLY_TITLE in month
    opml = ET.fromstring(client.get("/feeds/topics.opml").content)
    body = opml.find("body")
    assert body is not None
    folder = next(o for o in body if o.get("text") == "Natural language processing")
    assert [o.get("htmlUrl", "").rsplit("/", 1)[1] for o in folder] == [AREA, AGENTS, TRANSLATION]


def test_trending_page_names_the_area_of_a_moving_subtopic(client: TestClient, hierarchy: Hierarchy) -> None:
    html = client.get("/").text
    strip = _section(html, 'aria-labelledby="strip-title"')
    rising, falling = strip.split('class="moves-title">Falling</h3>')
    agents = rising[rising.index(f'href="/topics/{AGENTS}"') :]
    agents = agents[: agents.index("</li>")]
    assert f'in <a href="/topics/{AREA}">Natural language processing</a>' in agents
    assert "9.9 %" in agents and "3.4 %" in agents and "2.9×" in agents
    assert f'href="/topics/{TRANSLATION}"' in falling
    # The subtopic's own page leads its explanation with its name.
    page = client.get(f"/topics/{AGENTS}").text
    block = _section(page, 'aria-labelledby="trend-title"')
    assert f"<strong>LLM agents</strong>: {escape(RISING_TREND['explanation'])}" in block


def test_subscription_forms_offer_both_levels(
    client: TestClient, hierarchy: Hierarchy, session_factory: sessionmaker[Session]
) -> None:
    form = client.get("/subscribe", params={"topic": AGENTS}).text
    picker = _section(form, 'id="field-topics"', "</fieldset>")
    area_group = picker[picker.index(f'value="{hierarchy.topics[AREA]}"') :]
    area_group = area_group[: area_group.index("</details>")]
    # The area's box, then its subtopics folded under it, opened because one of them is chosen.
    assert '<details class="sub-subtopics" open>' in area_group
    assert f'value="{hierarchy.topics[AGENTS]}" checked' in area_group
    assert f'value="{hierarchy.topics[TRANSLATION]}">' in area_group
    assert "Hidden subtopic" not in picker
    techniques = picker[picker.index('class="sub-group-title">Techniques') :]
    assert "Quantization of large language models" in techniques and "LLM agents" not in techniques

    # The preference centre: the same picker, with the reader's topics ticked at both levels.
    with session_scope(session_factory) as session:
        reader = session.scalars(select(Subscriber).where(Subscriber.email == "reader@example.org")).one()
        session.add(SubscriberTopic(subscriber_id=reader.id, topic_id=hierarchy.topics[AREA]))
        session.add(SubscriberTopic(subscriber_id=reader.id, topic_id=hierarchy.topics[CONTRASTIVE]))
        reader_id, link_key = reader.id, reader.link_key
    settings = client.app.state.settings  # type: ignore[attr-defined]
    signer = TokenSigner.from_keys(settings.resolved_secret_key(), settings.secret_key_old)
    page = client.get(f"/preferences/{signer.preferences_token(reader_id, link_key)}").text
    prefs = _section(page, 'id="field-topics"', "</fieldset>")
    assert f'value="{hierarchy.topics[AREA]}" checked' in prefs
    assert f'value="{hierarchy.topics[CONTRASTIVE]}" checked' in prefs
    rep = prefs[prefs.index(f'value="{hierarchy.topics[CONTRASTIVE]}"') - 600 :]
    assert '<details class="sub-subtopics" open>' in rep


def test_trending_page_gives_the_figures_when_nothing_moves(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as session:
        for topic in session.scalars(select(Topic)).all():
            topic.trend_state = "steady"
    html = client.get("/").text
    strip = _section(html, 'aria-labelledby="strip-title"')
    assert "No topic is rising or falling just now" in strip
    leaning = strip[strip.index("Largest changes, still within the usual range") :]
    # Strongest change first; topics the trends step has not described yet are left out.
    assert _links(leaning)[:2] == ["quantization", "diffusion-models"]
    assert "Representation learning" not in leaning and "Hidden operator topic" not in leaning
    assert escape(RISING_TREND["summary"]) in leaning


def test_subtopic_filter_before_any_subtopic_exists(client: TestClient) -> None:
    html = client.get("/topics", params={"kind": "subtopic"}).text
    assert "No subtopics yet" in html and "No topics yet" not in html
    assert client.get(f"{API}/topics", params={"kind": "subtopic"}).json()["items"] == []
