"""The browsing pages through the real app: content, escaping, filters, errors, caching headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from markupsafe import escape

from tests.web.seed import HOSTILE_TITLE, RISING_TREND, Seeded


def _titles(html: str) -> list[str]:
    return re.findall(r'class="card-title" id="p-\d+"><a href="[^"]+">([^<]*)</a>', html)


def test_trending_page_shows_ranked_cards(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    titles = _titles(html)
    assert titles[0].startswith("ZeroQuant-FP") and len(titles) == 4
    assert "ranked by trending score" in html
    assert 'aria-current="page">Today</a>' in html
    # The card: authors, topic chip, links, HF summary, why-trending disclosure.
    assert "FP formats beat INT." in html
    assert 'href="https://github.com/example/zeroquant"' in html and "★ 1 200" in html
    assert 'href="/topics/quantization"' in html
    assert '<details class="why">' in html and "Upvotes" in html
    # The trending strip and the filter chips never show the hidden topic.
    assert "Hidden operator topic" not in html
    assert "Topics on the move" in html


def test_hostile_text_is_escaped(client: TestClient) -> None:
    html = client.get("/").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<i>markup</i>" not in html and "&lt;i&gt;markup&lt;/i&gt;" in html
    assert HOSTILE_TITLE not in html


def test_tabs_dates_topic_filter_and_pagination(client: TestClient) -> None:
    week = client.get("/?window=week").text
    assert 'aria-current="page">This week</a>' in week
    assert len(_titles(week)) == 8
    filtered = client.get("/?topic=quantization").text
    assert len(_titles(filtered)) == 3 and HOSTILE_TITLE.split()[0] not in filtered
    assert 'aria-current="true">Quantization of large language models' in filtered
    earlier = client.get("/?date=2026-11-23").text
    assert 'Papers of <time datetime="2026-11-23">23 Nov 2026</time>' in earlier
    assert 'aria-current="page">Day</a>' in earlier  # not "Today" for a past day
    assert 'href="/?date=2026-11-20"' in earlier  # previous day with papers skips the weekend
    paged = client.get("/?window=month&page=2").text
    assert "Page 2 of 2" in paged and 'rel="prev"' in paged
    empty = client.get("/?date=2026-11-22").text
    assert "No papers on this day" in empty


def test_bad_parameters_give_a_clear_page(client: TestClient) -> None:
    unknown = client.get("/?topic=nope")
    assert unknown.status_code == 404 and "There is no topic called" in unknown.text
    bad = client.get("/?window=year")
    assert bad.status_code == 422 and "window" in bad.text
    assert "<!doctype html>" in bad.text
    assert client.get("/?date=yesterday").status_code == 422
    assert client.get("/?page=0").status_code == 422


def test_paper_page(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/papers/2611.10000")
    assert response.status_code == 200
    html = response.text
    assert "ZeroQuant-FP" in html
    assert "O(n²)" in html and "α ≤ 0.5" in html  # LaTeX made readable
    assert (
        'href="https://arxiv.org/abs/2611.10000"' in html
        and 'href="https://arxiv.org/pdf/2611.10000"' in html
    )
    assert 'href="https://huggingface.co/papers/2611.10000"' in html
    assert "Similar papers" not in html  # no index loaded: the section is hidden
    assert "Hidden operator topic" not in html
    assert client.get("/papers/2611.10000v1").status_code == 200
    missing = client.get("/papers/1234.56789")
    assert missing.status_code == 404 and "No paper with the id" in missing.text


def test_topics_page_and_topic_page(client: TestClient) -> None:
    listing = client.get("/topics").text
    # Areas first (moving fastest first), then the techniques that cut across them.
    assert (
        listing.index("Representation learning")
        < listing.index("Diffusion models")
        < listing.index('id="techniques-title"')
        < listing.index("Quantization of large language models")
    )
    assert listing.count('class="sparkline"') == 3
    assert "Hidden operator topic" not in listing and "Old quantization topic" not in listing
    assert "Techniques" in client.get("/topics?kind=technique").text
    page = client.get("/topics/quantization")
    assert page.status_code == 200
    html = page.text
    assert '<svg class="week-chart"' in html and '<rect class="bar' in html
    assert 'class="baseline"' in html
    assert 'href="/subscribe?topic=quantization"' in html
    assert 'href="/feeds/topics/quantization.atom"' in html
    assert "Related topics" in html and 'href="/topics/representation-learning"' in html
    assert "low-bit" in html  # key terms
    assert client.get("/topics/secret-topic").status_code == 404
    assert client.get("/topics/nope").status_code == 404


def test_trending_page_says_what_rises_and_falls_and_why(client: TestClient) -> None:
    html = client.get("/").text
    section = html[html.index('aria-labelledby="strip-title"') : html.index('aria-label="Time window"')]
    rising, falling = section.split('class="moves-title">Falling</h3>')
    assert 'href="/topics/quantization">Quantization of large language models</a>' in rising
    assert "↑ rising" in rising and "Diffusion models" not in rising
    assert escape(RISING_TREND["summary"]) in rising  # 9.9 % ... against 3.4 % ..., 2.9×
    assert "9.9 % of papers in the 13 weeks to 25 Nov 2026" in rising and "2.9×" in rising
    assert 'href="/topics/diffusion-models">Diffusion models</a>' in falling and "↓ falling" in falling
    assert "0.42×" in falling
    assert "Representation learning" not in section  # steady: not on the move
    # A title phrase that moved, topic or not, with its reason and a search for it.
    phrases = section[section.index('class="moves-title">In titles</h3>') :]
    assert 'href="/search?q=%22Agent+Skills%22">“Agent Skills”</a>' in phrases
    assert "↑ rising" in phrases and "2.9×" in phrases
    assert "Hidden operator topic" not in section


def test_topic_page_explains_its_trend_per_horizon(client: TestClient) -> None:
    html = client.get("/topics/quantization").text
    block = html[html.index('aria-labelledby="trend-title"') :]
    block = block[: block.index("</section>")]
    assert "↑ rising" in block and escape(RISING_TREND["explanation"]) in block
    assert "(as of 2026-11-25)" in block
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]+)</th>", block)
    assert rows == ["the week to 25 Nov 2026", "the 4 weeks to 25 Nov 2026", "the 13 weeks to 25 Nov 2026"]
    assert "9.9 %" in block and "3.4 %" in block and "2.9×" in block and "1,287 of 13,000" in block
    # A topic the trends step has not described yet still shows its state, without figures.
    plain = client.get("/topics/representation-learning").text
    plain_block = plain[plain.index('aria-labelledby="trend-title"') :]
    assert (
        "→ steady" in plain_block[:400]
        and "trend-table" not in plain_block[: plain_block.index("</section>")]
    )


def test_merged_topic_moves_permanently(client: TestClient) -> None:
    response = client.get("/topics/old-quant", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/topics/quantization"


def test_pages_carry_etag_cache_control_and_security_headers(client: TestClient) -> None:
    first = client.get("/topics")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = client.get("/topics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    csp = first.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert first.headers["x-frame-options"] == "DENY"
    error = client.get("/topics/nope")
    assert error.headers["content-security-policy"] == csp
    assert error.headers["cache-control"] == "no-store"


def test_pages_have_no_inline_scripts_or_styles(client: TestClient) -> None:
    for path in ("/", "/?window=week", "/topics", "/topics/quantization", "/papers/2611.10000"):
        html = client.get(path).text
        assert "<script" not in html, path
        assert " style=" not in html and "<style" not in html, path


def test_static_files(client: TestClient) -> None:
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
    assert client.get("/static/favicon.svg").status_code == 200
