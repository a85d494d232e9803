"""With an encoder and a vector index loaded: hybrid search and similar papers on pages and API.

The hashing encoder stands in for the sentence model (the vectors' meaning does not matter
here, only that the site uses the index when it has one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.embed.encoder import HashingEncoder
from app.embed.faiss_index import VectorIndex
from app.embed.vectors import to_bytes
from app.models import Embedding, Paper
from tests.web.apputil import build_app
from tests.web.seed import Seeded


@pytest.fixture
def semantic_client(
    session_factory: sessionmaker[Session], seeded: Seeded, tmp_path: Path
) -> Iterator[TestClient]:
    encoder = HashingEncoder()
    with session_scope(session_factory) as session:
        papers = session.scalars(select(Paper).order_by(Paper.id)).all()
        vectors = encoder.encode([f"{p.title}. {p.abstract}" for p in papers])
        for paper, vector in zip(papers, vectors, strict=True):
            session.add(
                Embedding(
                    paper_id=paper.id,
                    model=encoder.model_name,
                    text_hash=paper.text_hash,
                    dim=384,
                    vector=to_bytes(vector),
                )
            )
        ids = np.array([p.id for p in papers], dtype=np.int64)
    index = VectorIndex.build(ids, vectors, model_name=encoder.model_name, exact_threshold=50_000)
    app = build_app(session_factory, tmp_path)
    with TestClient(app) as client:
        app.state.encoder = encoder
        app.state.index = index
        yield client


def test_hybrid_search_page_and_api(semantic_client: TestClient) -> None:
    html = semantic_client.get("/search", params={"q": "int8 matrix multiplication"}).text
    assert "by meaning and keywords" in html and "LLM.int8()" in html
    body = semantic_client.get("/api/v1/search", params={"q": "int8 matrix multiplication"}).json()
    assert body["mode"] == "hybrid"
    assert body["items"][0]["paper"]["id"] == "2611.10001"
    assert body["items"][0]["score"] > 0
    by_id = semantic_client.get("/api/v1/search", params={"q": "2611.10002"}).json()
    assert by_id["items"][0]["paper"]["id"] == "2611.10002"


def test_similar_papers_on_page_and_api(semantic_client: TestClient) -> None:
    html = semantic_client.get("/papers/2611.10001").text
    assert "Similar papers" in html
    body = semantic_client.get("/api/v1/papers/2611.10001/similar", params={"limit": 5}).json()
    assert body["available"] is True and len(body["items"]) == 5
    assert all(item["paper"]["id"] != "2611.10001" for item in body["items"])
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
