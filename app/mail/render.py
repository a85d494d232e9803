"""Rendering emails from Jinja templates (templates/email/): HTML with inlined CSS, and plain text.

The renderer takes plain view objects (no database rows), so the same code renders a
queued digest, the browser preview and a test fixture. HTML is autoescaped: abstracts
contain `<`, `&` and LaTeX and must arrive as text.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "email"
MAX_HTML_BYTES = 100_000


@dataclass
class ItemView:
    title: str
    paper_url: str
    arxiv_url: str | None
    authors: str
    summary: str
    reason: str
    topics: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    upvotes: int | None = None
    code_url: str | None = None
    more_url: str | None = None
    less_url: str | None = None
    mute_url: str | None = None
    mute_label: str | None = None
    when: str = ""  # "Announced 1 July 2026" (or published / first seen)


@dataclass
class DigestView:
    subject: str
    preheader: str
    heading: str
    items: list[ItemView]
    trending: list[ItemView]
    preferences_url: str
    unsubscribe_url: str
    browser_url: str
    site_url: str
    frequency: str = "daily"
    quiet: bool = False
    note: str = ""  # a line under the heading (a first digest says which days it covers)
    likely: list[ItemView] = field(default_factory=list)  # "likely to trend in your topics" (opt-in)
    interests: list[tuple[str, list[ItemView]]] = field(default_factory=list)  # named interests' sections


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def short_authors(authors: list[str] | tuple[str, ...], limit: int = 3) -> str:
    return _short_authors(tuple(authors), limit)


@lru_cache(maxsize=8192)
def _short_authors(authors: tuple[str, ...], limit: int) -> str:
    names = [a.strip() for a in authors if a and a.strip()]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + " et al."


@lru_cache(maxsize=8192)
def summarize(abstract: str, max_chars: int = 300) -> str:
    """The first sentences of an abstract, about three lines, cut at a word boundary."""
    text = " ".join(abstract.split())
    if len(text) <= max_chars:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > max_chars:
            break
        out = f"{out} {sentence}".strip()
    if len(out) >= max_chars // 2:
        return out
    return text[:max_chars].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _wrap72(text: str) -> str:
    return _wrapped(text)


@lru_cache(maxsize=4096)
def _wrapped(text: str) -> str:
    return "\n   ".join(textwrap.wrap(text, 72, break_on_hyphens=False)) if text else ""


_PLACEHOLDER = re.compile(r"PTPH([a-z0-9]+)X")
_MARKER = re.compile(r"<!--/?pt:[a-z]+-->")


def _ph(name: str) -> Any:
    return f"PTPH{name}X"


def _shell_shape(view: DigestView) -> tuple[bool, bool, bool, str, bool, bool]:
    """What a digest's shell depends on: which sections it has, its frequency, quietness and note."""
    return (
        bool(view.items),
        bool(view.trending),
        bool(view.likely),
        view.frequency,
        view.quiet,
        bool(view.note),
    )


class Renderer:
    """Jinja environments for HTML (autoescaped) and text, and one CSS inliner.

    The digest HTML is assembled from cached pieces: each *shape* of item (which optional
    parts it has) and each shape of page shell is rendered once with placeholders and run
    through css-inline; a digest then only substitutes escaped values into those pieces.
    The result is the same HTML as inlining every email, at a small fraction of the cost
    (thousands of digests per build).
    """

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        loader = FileSystemLoader(str(templates_dir))
        options: dict[str, Any] = {"undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}
        self._html = Environment(loader=loader, autoescape=True, **options)
        self._text = Environment(loader=loader, autoescape=False, **options)
        self._text.filters["wrap72"] = _wrap72
        self._css = (templates_dir / "email.css").read_text(encoding="utf-8")
        # Media queries (dark mode, narrow screens) cannot be inlined: they stay in a <style> tag.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        self._shells: dict[tuple[Any, ...], str] = {}
        self._items: dict[tuple[Any, ...], str] = {}
        self._filled: dict[tuple[Any, ...], str] = {}

    def _page(self, name: str, **context: object) -> str:
        html = self._html.get_template(name).render(css=self._css, **context)
        return self._inliner.inline(html)

    def _plain(self, name: str, **context: object) -> str:
        text = self._text.get_template(name).render(**context)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    # Cached pieces -----------------------------------------------------------------------

    @staticmethod
    def _shape(item: ItemView) -> tuple[Any, ...]:
        return (
            item.arxiv_url is not None, item.code_url is not None, bool(item.upvotes), len(item.topics),
            item.more_url is not None, item.mute_url is not None, bool(item.when), bool(item.authors),
        )  # fmt: skip

    @staticmethod
    def _placeholder_item(shape: tuple[Any, ...]) -> ItemView:
        arxiv, code, upvotes, topics, feedback, mute, when, authors = shape
        return ItemView(
            title=_ph("title"), paper_url=_ph("paperurl"), arxiv_url=_ph("arxivurl") if arxiv else None,
            authors=_ph("authors") if authors else "", summary=_ph("summary"), reason=_ph("reason"),
            topics=[(_ph(f"topic{i}label"), _ph(f"topic{i}url")) for i in range(topics)],
            upvotes=_ph("upvotes") if upvotes else None, code_url=_ph("codeurl") if code else None,
            more_url=_ph("moreurl") if feedback else None, less_url=_ph("lessurl") if feedback else None,
            mute_url=_ph("muteurl") if mute else None, mute_label=_ph("mutelabel") if mute else None,
            when=_ph("when") if when else "",
        )  # fmt: skip

    def _skeleton(self, view: DigestView, compact: bool) -> str:
        """A digest with placeholder values, inlined: the source of the cached pieces."""
        return self._page("digest.html", d=view, compact=compact)

    def _shell_view(
        self,
        view: DigestView,
        items: list[ItemView],
        trending: list[ItemView],
        likely: list[ItemView] | None = None,
    ) -> DigestView:
        return DigestView(
            subject=_ph("subject"), preheader=_ph("preheader"), heading=_ph("heading"), items=items,
            trending=trending, preferences_url=_ph("prefsurl"), unsubscribe_url=_ph("unsuburl"),
            browser_url=_ph("browserurl"), site_url=_ph("siteurl"), frequency=view.frequency,
            quiet=view.quiet, note=_ph("note") if view.note else "", likely=likely or [],
        )  # fmt: skip

    def _item_piece(self, item: ItemView, compact: bool) -> str:
        key = (*self._shape(item), compact)
        if key not in self._items:
            probe = self._placeholder_item(self._shape(item))
            html = self._skeleton(
                self._shell_view(DigestView("", "", "", [], [], "", "", "", ""), [probe], []), compact
            )
            self._items[key] = html.split("<!--pt:foryou-->", 1)[1].split("<!--/pt:foryou-->", 1)[0]
        return self._items[key]

    def _probe_shell(self, view: DigestView) -> DigestView:
        """`view` with one placeholder paper in each section it fills: the shell a cache keeps."""
        probe = [self._placeholder_item((False,) * 8)]
        return self._shell_view(
            view,
            probe if view.items else [],
            probe if view.trending else [],
            probe if view.likely else [],
        )

    def _shell_piece(self, view: DigestView, compact: bool) -> str:
        key = (*_shell_shape(view), compact)
        if key not in self._shells:
            html = self._skeleton(self._probe_shell(view), compact)
            for section in ("foryou", "trending", "likely"):
                html = re.sub(
                    f"<!--pt:{section}-->.*?<!--/pt:{section}-->", f"PTPHslot{section}X", html, flags=re.S
                )
            self._shells[key] = html
        return self._shells[key]

    @staticmethod
    def _fill(piece: str, values: dict[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], piece)

    def _item_html(self, item: ItemView, compact: bool) -> str:
        # The paper's own parts are filled once per paper; per subscriber only the reason and the
        # three signed feedback links change (tokens and base URL need no escaping beyond `&`).
        key = (
            item.title, item.paper_url, item.arxiv_url, item.authors, item.summary, tuple(item.topics),
            item.upvotes, item.code_url, item.mute_label, item.more_url is not None,
            item.mute_url is not None, item.when, compact,
        )  # fmt: skip
        piece = self._filled.get(key)
        if piece is None:
            values = {
                "title": item.title, "paperurl": item.paper_url, "arxivurl": item.arxiv_url or "",
                "authors": item.authors, "summary": item.summary, "upvotes": str(item.upvotes or ""),
                "codeurl": item.code_url or "", "mutelabel": item.mute_label or "", "when": item.when,
            }  # fmt: skip
            for i, (label, url) in enumerate(item.topics):
                values[f"topic{i}label"], values[f"topic{i}url"] = label, url
            filled = {k: str(escape(v)) for k, v in values.items()}
            for name in ("reason", "moreurl", "lessurl", "muteurl"):
                filled[name] = _ph(name)
            if len(self._filled) > 20_000:
                self._filled.clear()
            piece = self._filled[key] = self._fill(self._item_piece(item, compact), filled)
        return (
            piece.replace("PTPHreasonX", str(escape(item.reason)))
            .replace("PTPHmoreurlX", str(escape(item.more_url or "")))
            .replace("PTPHlessurlX", str(escape(item.less_url or "")))
            .replace("PTPHmuteurlX", str(escape(item.mute_url or "")))
        )

    def _digest_html(self, view: DigestView, compact: bool) -> str:
        values = {
            "subject": view.subject, "preheader": view.preheader, "heading": view.heading,
            "prefsurl": view.preferences_url, "unsuburl": view.unsubscribe_url,
            "browserurl": view.browser_url, "siteurl": view.site_url, "note": view.note,
        }  # fmt: skip
        filled = {k: str(escape(v)) for k, v in values.items()}
        filled["slotforyou"] = "".join(self._item_html(i, compact) for i in view.items)
        filled["slottrending"] = "".join(self._item_html(i, compact) for i in view.trending)
        filled["slotlikely"] = "".join(self._item_html(i, compact) for i in view.likely)
        return self._fill(self._shell_piece(view, compact), filled)

    # Emails --------------------------------------------------------------------------------

    def _text_item_piece(self, template: str, item: ItemView) -> str:
        key = (template, *self._shape(item), bool(item.summary))
        if key not in self._items:
            probe = self._placeholder_item(self._shape(item))
            if not item.summary:
                probe.summary = ""
            self._items[key] = self._text.get_template(template).render(item=probe, number=_ph("number"))
        return self._items[key]

    def _text_shell(self, view: DigestView) -> str:
        key = ("digest.txt", *_shell_shape(view))
        if key not in self._shells:
            shell = self._probe_shell(view)
            slots = {
                "foryou": _ph("slotforyou"),
                "trending": _ph("slottrending"),
                "likely": _ph("slotlikely"),
            }
            self._shells[key] = self._text.get_template("digest.txt").render(
                d=shell, slots=slots, rule=_ph("rule")
            )
        return self._shells[key]

    def _text_item(self, template: str, item: ItemView, number: int) -> str:
        """An item of the text part: the paper's parts filled once, then number, reason and links."""
        key = (
            template, item.title, item.authors, item.summary, tuple(item.topics), item.paper_url,
            item.arxiv_url, item.code_url, item.more_url is not None, item.mute_url is not None, item.when,
        )  # fmt: skip
        piece = self._filled.get(key)
        if piece is None:
            values = {
                "title": item.title, "authors": item.authors, "summary": _wrapped(item.summary),
                "paperurl": item.paper_url, "arxivurl": item.arxiv_url or "", "codeurl": item.code_url or "",
                "when": item.when,
            }  # fmt: skip
            for i, (label, url) in enumerate(item.topics):
                values[f"topic{i}label"], values[f"topic{i}url"] = label, url
            for name in ("number", "reason", "moreurl", "lessurl"):
                values[name] = _ph(name)
            piece = self._filled[key] = self._fill(self._text_item_piece(template, item), values)
        return (
            piece.replace("PTPHnumberX", str(number))
            .replace("PTPHreasonX", item.reason)
            .replace("PTPHmoreurlX", item.more_url or "")
            .replace("PTPHlessurlX", item.less_url or "")
        )

    def _digest_text(self, view: DigestView) -> str:
        values = {
            "subject": view.subject, "preheader": view.preheader, "heading": view.heading,
            "rule": "=" * len(view.heading), "prefsurl": view.preferences_url,
            "unsuburl": view.unsubscribe_url, "browserurl": view.browser_url, "siteurl": view.site_url,
            "note": view.note,
            "slotforyou": "".join(self._text_item("_item.txt", it, n) for n, it in enumerate(view.items, 1)),
            "slottrending": "".join(
                self._text_item("_trending_item.txt", it, n) for n, it in enumerate(view.trending, 1)
            ),
            "slotlikely": "".join(
                self._text_item("_trending_item.txt", it, n) for n, it in enumerate(view.likely, 1)
            ),
        }  # fmt: skip
        text = self._fill(self._text_shell(view), values)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def digest(self, view: DigestView) -> Rendered:
        if view.interests:  # named-interest sections: rendered in one piece (rare; no cached shell)
            return Rendered(view.subject, self.digest_text_uncached(view), self.digest_uncached(view))
        html = self._digest_html(view, compact=False)
        if len(html) > MAX_HTML_BYTES or (not html.isascii() and len(html.encode()) > MAX_HTML_BYTES):
            # Gmail clips longer messages; drop the summaries rather than lose the footer links.
            html = self._digest_html(view, compact=True)
        return Rendered(view.subject, self._digest_text(view), html)

    def digest_text_uncached(self, view: DigestView) -> str:
        return self._plain("digest.txt", d=view, slots=None, rule=None)

    def digest_uncached(self, view: DigestView) -> str:
        """The same HTML rendered and inlined in one piece (the reference the cache must match)."""
        html = self._page("digest.html", d=view, compact=False)
        if len(html.encode()) > MAX_HTML_BYTES:
            html = self._page("digest.html", d=view, compact=True)
        return _MARKER.sub("", html)

    def confirmation(self, *, confirm_url: str, site_url: str, site_name: str) -> Rendered:
        """Contains nothing the person who filled in the form typed (no name, no topics)."""
        context = {"confirm_url": confirm_url, "site_url": site_url, "site_name": site_name}
        subject = f"Confirm your subscription to {site_name}"
        return Rendered(subject, self._plain("confirm.txt", **context), self._page("confirm.html", **context))
