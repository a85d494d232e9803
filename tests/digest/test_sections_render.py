"""A digest with named-interest sections renders each under its own heading, in HTML and text."""

from __future__ import annotations

from dataclasses import replace

from app.mail.render import Renderer
from tests.mail.test_render import _item, _view


def test_named_interest_sections_have_their_own_headings() -> None:
    side = replace(_item(7, "Sign language recognition."), title="Signs in context", reason="")
    view = _view([_item(1, "Quantized models.")])
    view.interests = [("Side project <b>", [side])]
    out = Renderer().digest(view)
    assert "Side project &lt;b&gt;" in out.html and "Signs in context" in out.html
    assert out.html.index("Paper 1") < out.html.index("Side project") < out.html.index("Signs in context")
    assert "SIDE PROJECT <B>" in out.text and "Signs in context" in out.text
    assert "Trending in your areas" not in out.html  # no trending section without trending papers
