"""Rendering: escaping, layout conventions, size limit, plain-text twin (requirement 32 in detail)."""

from __future__ import annotations

import re

from app.mail.render import MAX_HTML_BYTES, DigestView, ItemView, Renderer, short_authors, summarize

RENDERER = Renderer()
NASTY = "We bound $O(n^2)$ for x < y & z > w, see <script>alert('x')</script> and \\textbf{bold}."


def _item(i: int, abstract: str = NASTY) -> ItemView:
    return ItemView(
        title=f"Paper {i} with <b>tags</b> & ampersands",
        paper_url=f"https://news.example.org/papers/2405.{i:05d}",
        arxiv_url=f"https://arxiv.org/abs/2405.{i:05d}",
        authors=short_authors(["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]),
        summary=summarize(abstract),
        reason="In your topic Quantization",
        topics=[("Quantization", "https://news.example.org/topics/quantization")],
        upvotes=42 if i % 2 else None,
        code_url="https://github.com/example/repo" if i % 3 == 0 else None,
        more_url="https://news.example.org/feedback/more",
        less_url="https://news.example.org/feedback/less",
        mute_url="https://news.example.org/feedback/mute",
        mute_label="Quantization",
    )


def _view(items: list[ItemView]) -> DigestView:
    return DigestView(
        subject="3 new papers: Quantization",
        preheader="Paper 0 — and 2 more",
        heading="Your papers · Tuesday 5 May 2026",
        items=items,
        trending=[],
        preferences_url="https://news.example.org/preferences/TOKEN",
        unsubscribe_url="https://news.example.org/unsubscribe/TOKEN",
        browser_url="https://news.example.org/preferences/TOKEN/digest/2026-05-05",
        site_url="https://news.example.org",
    )


def test_abstracts_and_titles_are_escaped_in_html_and_plain_in_text() -> None:
    out = RENDERER.digest(_view([_item(i) for i in range(3)]))
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<b>tags</b>" not in out.html and "&lt;b&gt;tags&lt;/b&gt; &amp; ampersands" in out.html
    assert "$O(n^2)$ for x &lt; y &amp; z &gt; w" in out.html
    assert "<script>alert('x')</script>" in out.text  # plain text is not HTML: shown as typed
    assert "Paper 1 with <b>tags</b> & ampersands" in out.text


def test_each_item_carries_its_parts() -> None:
    out = RENDERER.digest(_view([_item(i) for i in range(4)]))
    assert out.html.count("In your topic Quantization") == 4
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in out.html
    assert "▲ 42" in out.html and 'href="https://github.com/example/repo"' in out.html
    assert 'href="https://arxiv.org/abs/2405.00001"' in out.html
    assert "More like this" in out.html and "Mute “Quantization”" in out.html
    assert "View in browser" in out.html
    assert "Read: https://news.example.org/papers/2405.00002" in out.text


def test_a_huge_digest_stays_under_the_gmail_clipping_limit() -> None:
    items = [_item(i, abstract="A long abstract sentence about quantization. " * 40) for i in range(50)]
    out = RENDERER.digest(_view(items))
    assert len(out.html.encode()) < MAX_HTML_BYTES
    assert "Unsubscribe" in out.html and out.html.count("In your topic") == 50  # the footer and items survive


def test_layout_conventions() -> None:
    html = RENDERER.digest(_view([_item(0)])).html
    assert 'role="presentation"' in html and "max-width: 600px" in html
    assert re.search(r'<span class="preheader" style="[^"]*display: none[^"]*">Paper 0 — and 2 more', html)
    assert "@media (prefers-color-scheme: dark)" in html  # kept in a style tag for dark mode


def test_confirmation_email_has_the_link_and_nothing_else_dynamic() -> None:
    out = RENDERER.confirmation(
        confirm_url="https://news.example.org/confirm/TOKEN", site_url="https://news.example.org",
        site_name="papertrend",
    )  # fmt: skip
    assert out.subject == "Confirm your subscription to papertrend"
    assert (
        "https://news.example.org/confirm/TOKEN" in out.text
        and 'href="https://news.example.org/confirm/TOKEN"' in out.html
    )
    assert "72 hours" in out.text


def test_summary_and_authors() -> None:
    long = "First sentence is here. " + "Second sentence is a bit longer than the first one. " * 10
    short = summarize(long, 120)
    assert short.startswith("First sentence is here.") and len(short) <= 121
    assert summarize("One run-on sentence " * 40, 100).endswith("…")
    assert short_authors(["A", "B"]) == "A, B" and short_authors([]) == ""


def _same_document(html: str) -> str:
    """Both through html5ever once more: equal output means equal documents (escaping style aside)."""
    import css_inline

    return css_inline.CSSInliner(keep_at_rules=True).inline(html)


def test_cached_pieces_give_exactly_the_html_of_inlining_each_email() -> None:
    renderer = Renderer()
    shapes = [_item(i) for i in range(6)]
    shapes[1].arxiv_url = None
    shapes[2].topics = []
    shapes[3].more_url = shapes[3].less_url = shapes[3].mute_url = shapes[3].mute_label = None
    shapes[4].topics = [("A & B", "https://x.example/t?a=1&b=2"), ("C", "https://x.example/c")]
    for view in (_view(shapes), _view(shapes[:2]), _view([])):
        view.trending = shapes[4:] if view.items else []
        view.quiet = not view.items
        assert _same_document(renderer.digest(view).html) == _same_document(renderer.digest_uncached(view))
        assert renderer.digest(view).text == renderer.digest_text_uncached(view)
    huge = _view([_item(i, abstract="A long abstract sentence about quantization. " * 40) for i in range(50)])
    cached, reference = renderer.digest(huge).html, renderer.digest_uncached(huge)
    assert _same_document(cached) == _same_document(reference) and "compact" not in cached
