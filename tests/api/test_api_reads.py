"""The JSON API on both databases: shapes, filters, cursors, errors, caching and CORS headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.seed import HOSTILE_TITLE, REF_DAY, Seeded

API = "/api/v1"


def test_trending_with_score_parts(client: TestClient) -> None:
    body = client.get(f"{API}/trending").json()
    assert body["window"] == "day" and body["date"] == REF_DAY.isoformat() and body["ranked"] is True
    assert body["total"] == 4 and len(body["items"]) == 4
    first = body["items"][0]
    assert first["rank"] == 1 and first["paper"]["id"] == "2611.10000"
    assert abs(sum(first["components"]["parts"].values()) - first["score"]) < 1e-6
    assert first["paper"]["links"]["page"] == "https://papers.example.org/papers/2611.10000"
    assert first["paper"]["links"]["code"] == "https://github.com/example/zeroquant"
    assert [t["slug"] for t in first["paper"]["topics"]] == ["quantization"]
    week = client.get(f"{API}/trending", params={"window": "week", "per_page": 3, "page": 2}).json()
    assert week["page"] == 2 and [i["rank"] for i in week["items"]] == [4, 5, 6]
    quant = client.get(f"{API}/trending", params={"topic": "quantization"}).json()
    assert quant["topic"] == "quantization" and quant["total"] == 3
    past = client.get(f"{API}/trending", params={"date": "2026-11-23"}).json()
    assert past["date"] == "2026-11-23" and past["total"] == 1


def test_papers_cursor_and_filters(client: TestClient, seeded: Seeded) -> None:
    ids: list[str] = []
    params: dict[str, str | int] = {"limit": 10}
    while True:
        body = client.get(f"{API}/papers", params=params).json()
        ids += [p["id"] for p in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert sorted(ids) == sorted(seeded.papers)
    code = client.get(f"{API}/papers", params={"has_code": "true"}).json()["items"]
    assert [p["id"] for p in code] == ["2611.10000"]
    cv = client.get(f"{API}/papers", params={"category": "cs.CV", "limit": 100}).json()["items"]
    assert cv and all("cs.CV" in p["categories"] for p in cv)
    today = client.get(f"{API}/papers", params={"from": "2026-11-25", "to": "2026-11-25"}).json()["items"]
    assert len(today) == 4 and any(p["title"] == HOSTILE_TITLE for p in today)  # raw text: JSON is not HTML


def test_one_paper_and_similar_without_index(client: TestClient) -> None:
    body = client.get(f"{API}/papers/2611.10000").json()
    assert body["title"].startswith("ZeroQuant-FP") and body["summary"] == "FP formats beat INT."
    assert body["abstract"].startswith("We quantize weights to $4$ bits")  # LaTeX as published
    assert body["links"]["huggingface"] == "https://huggingface.co/papers/2611.10000"
    assert client.get(f"{API}/papers/2611.10000v1").json()["id"] == "2611.10000"
    similar = client.get(f"{API}/papers/2611.10000/similar").json()
    assert similar == {"id": "2611.10000", "available": False, "items": []}
    assert client.get(f"{API}/papers/2611.99999/similar").status_code == 404


def test_moving_title_phrases(client: TestClient) -> None:
    """What the last trends run found moving in titles, with its reason and a search for it."""
    items = client.get(f"{API}/phrases").json()["items"]
    assert [(p["label"], p["state"]) for p in items] == [("Agent Skills", "rising")]
    assert "2.9×" in items[0]["explanation"] and items[0]["momentum"] == 3.1
    assert items[0]["search"].endswith("/search?q=%22Agent+Skills%22")
    assert client.get(f"{API}/phrases", params={"limit": 0}).status_code == 422


def test_topics_detail_and_series(client: TestClient) -> None:
    items = client.get(f"{API}/topics").json()["items"]
    assert [t["slug"] for t in items] == ["quantization", "representation-learning", "diffusion-models"]
    assert all(len(t["weekly"]) == 12 for t in items) and items[0]["week_count"] == 5
    detail = client.get(f"{API}/topics/quantization").json()
    assert detail["keywords"][0] == "quantization" and detail["top_papers"][0]["id"] == "2611.10000"
    assert detail["related"] == [
        {
            "topic": {
                "slug": "representation-learning",
                "label": "Representation learning",
                "kind": "area",
                "score": None,
                "parent": None,
            },
            "shared_papers": 1,
        }
    ]
    merged = client.get(f"{API}/topics/old-quant").json()
    assert merged["status"] == "merged" and merged["merged_into"] == "quantization"
    series = client.get(f"{API}/topics/quantization/series", params={"weeks": 4}).json()
    assert series["baseline_weeks"] == 8 and len(series["weeks"]) == 4
    assert series["weeks"][-1]["end"] == REF_DAY.isoformat() and series["weeks"][-1]["count"] == 5
    assert client.get(f"{API}/topics/secret-topic").status_code == 404


def test_search_keyword_mode(client: TestClient) -> None:
    body = client.get(f"{API}/search", params={"q": "int8 matrix"}).json()
    assert body["mode"] == "keyword" and body["total"] == 1
    assert body["items"][0]["paper"]["id"] == "2611.10001"
    filtered = client.get(
        f"{API}/search", params={"q": "paper", "topic": "diffusion-models", "limit": 100}
    ).json()
    assert filtered["total"] > 0
    assert all(any(t["slug"] == "diffusion-models" for t in i["paper"]["topics"]) for i in filtered["items"])
    assert client.get(f"{API}/search", params={"q": "x", "category": "not a category"}).status_code == 422
    assert client.get(f"{API}/search").status_code == 422


def test_status(client: TestClient) -> None:
    body = client.get(f"{API}/status").json()
    assert body["papers"] > 30 and body["subscribers_confirmed"] == 1
    jobs = {j["job"]: j for j in body["jobs"]}
    assert jobs["pipeline:topics"]["status"] == "failed"
    assert isinstance(body["arxiv"]["is_announcement_day"], bool)


def test_one_error_format(client: TestClient) -> None:
    missing = client.get(f"{API}/papers/0000.00000")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "status": 404,
            "code": "not_found",
            "message": "No paper with the id 0000.00000.",
            "details": [],
        }
    }
    invalid = client.get(f"{API}/papers", params={"limit": 1000, "cursor": "x"})
    error = invalid.json()["error"]
    assert invalid.status_code == 422 and error["code"] == "invalid_request"
    assert error["details"][0]["loc"] == "query.limit"
    bad_cursor = client.get(f"{API}/papers", params={"cursor": "bm9wZQ"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["error"]["message"] == "invalid cursor."
    nowhere = client.get(f"{API}/nothing-here")
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "not_found"
    wrong_method = client.delete(f"{API}/papers")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert missing.headers["content-type"] == "application/json"


def test_etag_cache_control_and_cors(client: TestClient) -> None:
    first = client.get(f"{API}/topics")
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert first.headers["access-control-allow-origin"] == "*"
    assert "ETag" in first.headers["access-control-expose-headers"]
    again = client.get(f"{API}/topics", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get(f"{API}/topics", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content
    preflight = client.options(
        f"{API}/papers", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" not in preflight.headers["access-control-allow-methods"]


def test_days_at_the_edge_of_the_calendar_are_answered_not_a_server_error(client: TestClient) -> None:
    # A window counted back from 0001-01-01 (or a feed forward from 9999-12-31) overflowed date
    # arithmetic; such days now mean "from the beginning" and "up to now".
    for path in (
        "/api/v1/trending?date=0001-01-01&window=week",
        "/api/v1/trending?date=9999-12-31",
        "/api/v1/likely?date=0001-01-01",
        "/api/v1/papers?from=0001-01-01&to=9999-12-31",
        "/?date=0001-01-01",
        "/likely?date=9999-12-31",
        "/search?q=x&from=0001-01-01",
    ):
        assert client.get(path).status_code == 200, path
    everything = client.get("/api/v1/papers?from=0001-01-01&to=9999-12-31").json()["items"]
    assert everything == client.get("/api/v1/papers").json()["items"]
