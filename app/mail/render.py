"""Rendering emails from Jinja templates (templates/email/): HTML with inlined CSS, and plain text.

The renderer takes plain view objects (no database rows), so the same code renders a
queued digest, the browser preview and a test fixture. HTML is autoescaped: abstracts
contain `<`, `&` and LaTeX and must arrive as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined

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


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def short_authors(authors: list[str], limit: int = 3) -> str:
    names = [a.strip() for a in authors if a and a.strip()]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + " et al."


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


class Renderer:
    """Jinja environments for HTML (autoescaped) and text, and one CSS inliner."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        loader = FileSystemLoader(str(templates_dir))
        self._html = Environment(
            loader=loader, autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
        )
        self._text = Environment(
            loader=loader, autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
        )
        self._css = (templates_dir / "email.css").read_text(encoding="utf-8")
        # Media queries (dark mode, narrow screens) cannot be inlined: they stay in a <style> tag.
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def _page(self, name: str, **context: object) -> str:
        html = self._html.get_template(name).render(css=self._css, **context)
        return self._inliner.inline(html)

    def _plain(self, name: str, **context: object) -> str:
        text = self._text.get_template(name).render(**context)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def digest(self, view: DigestView) -> Rendered:
        html = self._page("digest.html", d=view, compact=False)
        if len(html.encode()) > MAX_HTML_BYTES:
            # Gmail clips longer messages; drop the summaries rather than lose the footer links.
            html = self._page("digest.html", d=view, compact=True)
        return Rendered(view.subject, self._plain("digest.txt", d=view), html)

    def confirmation(self, *, confirm_url: str, site_url: str, site_name: str) -> Rendered:
        """Contains nothing the person who filled in the form typed (no name, no topics)."""
        context = {"confirm_url": confirm_url, "site_url": site_url, "site_name": site_name}
        subject = f"Confirm your subscription to {site_name}"
        return Rendered(subject, self._plain("confirm.txt", **context), self._page("confirm.html", **context))
