"""Early trending on the site and in the API, over the seeded database scored by the bundled model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from tests.early.site_seed import UNSCORED, add_predictions, probabilities
from tests.web.apputil import build_app
from tests.web.seed import REF_DAY, seed


@pytest.fixture
def scored(session_factory: sessionmaker[Session]) -> dict[str, float]:
    with session_scope(session_factory) as session:
        add_predictions(session, seed(session))
        return probabilities(session)


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], scored: dict[str, float], tmp_path: Path
) -> Iterator[TestClient]:
    app = build_app(session_factory, tmp_path)
    with TestClient(app) as test_client:
        yield test_client


def _percents(html: str) -> list[str]:
    return re.findall(r'<span class="chance-pct">([^<]+)</span>', html)


def _pct(p: float) -> str:
    return "<1 %" if p < 0.005 else f"{round(p * 100)} %"


def test_likely_tab_lists_todays_papers_by_probability(client: TestClient, scored: dict[str, float]) -> None:
    html = client.get("/likely").text
    assert "<h1>Likely to trend</h1>" in html
    assert 'href="/likely" aria-current="page">Likely to trend</a>' in html
    assert REF_DAY.strftime("%-d %b %Y") in html
    todays = sorted(
        (p for a, p in scored.items() if a in {"2611.10000", "2611.10001", "2611.10002"}), reverse=True
    )
    assert _percents(html) == [_pct(p).replace("<", "&lt;") for p in todays]
    assert "Starting model." in html and 'href="/about#early"' in html
    # The unscored paper of the day is not in the list.
    assert UNSCORED not in html
    # The trending page links the tab.
    assert '<a href="/likely">Likely to trend</a>' in client.get("/").text


def test_chip_on_cards_and_section_on_the_paper_page(client: TestClient, scored: dict[str, float]) -> None:
    home = client.get("/").text
    assert home.count('<details class="chance chance-') == 3  # four papers today, one without an estimate
    assert "Reliability: <strong>" in home and "How this is estimated" in home
    page = client.get("/papers/2611.10000").text
    assert '<h2 id="chance-title">Chance to trend</h2>' in page
    assert _pct(scored["2611.10000"]) in page
    assert "it was featured" in page  # ZeroQuant was listed that day: the outcome is in
    assert "bundled-2025-04-21" in page
    assert "Chance to trend" not in client.get(f"/papers/{UNSCORED}").text


def test_likely_days_and_bad_dates(client: TestClient) -> None:
    earlier = client.get("/likely?date=2026-11-24").text
    assert "24 Nov 2026" in earlier and "Next day →" in earlier
    empty = client.get("/likely?date=2026-11-28").text
    assert "No estimates for this day" in empty
    assert client.get("/likely?date=not-a-date").status_code == 422


def test_about_explains_the_model_with_its_measured_accuracy(client: TestClient) -> None:
    html = client.get("/about").text
    assert 'id="early"' in html and "bundled-2025-04-21" in html
    assert "the number of authors alone" in html and "ROC AUC" in html
    assert "Known biases" in html


def test_api_paper_fields(client: TestClient, scored: dict[str, float]) -> None:
    item = client.get("/api/v1/papers/2611.10000").json()
    assert item["trend_probability"] == pytest.approx(scored["2611.10000"], abs=1e-4)
    prediction = item["trend_prediction"]
    assert prediction["model"] == "bundled-2025-04-21" and prediction["cutoff"] == "2025-04-21"
    assert prediction["reliability"] in {"low", "moderate", "good"} and prediction["featured"] is True
    assert isinstance(prediction["reasons"], list)
    bare = client.get(f"/api/v1/papers/{UNSCORED}").json()
    assert bare["trend_probability"] is None and bare["trend_prediction"] is None
    listed = client.get("/api/v1/papers?limit=50").json()["items"]
    assert sum(1 for p in listed if p["trend_probability"] is not None) == len(scored)


def test_api_likely_and_model(client: TestClient) -> None:
    body = client.get("/api/v1/likely").json()
    assert body["date"] == REF_DAY.isoformat() and body["total"] == 3
    values = [p["trend_probability"] for p in body["items"]]
    assert values == sorted(values, reverse=True)
    assert body["model"]["name"] == "bundled-2025-04-21"
    model = client.get("/api/v1/trend-model").json()
    assert model["kind"] == "bundled" and model["cutoff"] == "2025-04-21"
    assert model["accuracy"][0]["predictor"] == "this model" and model["accuracy"][0]["auc"] > 0.8
    assert {a["predictor"] for a in model["accuracy"][1:]} == {
        "the paper's text vector alone",
        "the number of authors alone",
        "code or a project mentioned in the comment",
    }
    assert client.get("/api/v1/likely?date=2026-13-01").status_code == 422


def test_without_a_model_the_pages_say_so(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with TestClient(build_app(session_factory, tmp_path)) as client:
        assert "No estimates yet" in client.get("/likely").text
        assert client.get("/api/v1/trend-model").status_code == 404
        assert client.get("/api/v1/likely").json()["items"] == []
