"""The Jinja environment of the HTML pages (templates/ at the repository root), with its filters.

Autoescaping is on for every template: text from papers and users is always escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates

from app.browse.explain import score_facts, score_parts
from app.web import text
from app.web.charts import sparkline, week_chart

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def url_with(path: str, **params: Any) -> str:
    """`path?k=v...` leaving out empty values (None, "", False)."""
    clean = {k: v for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(clean)}" if clean else path


def render(name: str, **context: Any) -> str:
    """Render a template to a string (pages are rendered once and served from the cache)."""
    return templates.env.get_template(name).render(**context)


env = templates.env
env.filters.update(
    latex=text.latex_to_text,
    shorten=text.shorten,
    authors_short=text.authors_short,
    date_long=text.date_long,
    datetime_utc=text.datetime_utc,
    signed=text.signed,
    number=text.number,
    trend_word=text.trend_word,
)
env.globals.update(
    ago=text.ago,
    sparkline=sparkline,
    week_chart=week_chart,
    score_parts=score_parts,
    score_facts=score_facts,
    url_with=url_with,
)
env.trim_blocks = True
env.lstrip_blocks = True
