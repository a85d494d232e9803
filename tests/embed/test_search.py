"""Hybrid and keyword search, filters and similar papers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from app.embed.encoder import HashingEncoder, SentenceTransformerEncoder
from app.embed.faiss_index import VectorIndex
from app.embed.fulltext import keyword_search
from app.embed.query_parse import parse_query
from app.embed.search import hybrid_search, similar_papers
from app.embed.service import embed_pending, load_vectors
from app.models import Paper, PaperTopic, Topic
from tests.embed.embed_support import add_small_corpus
from tests.factories import add_paper

ENC = HashingEncoder(dim=128, model_name="hash-128")


def _index(db: Session) -> VectorIndex:
    embed_pending(db, ENC, batch_size=16)
    ids, vectors = load_vectors(db, ENC.model_name)
    return VectorIndex.build(ids, vectors, model_name=ENC.model_name, exact_threshold=50_000)


def _ids(result: object) -> list[int]:
    return [h.paper_id for h in result.hits]  # type: ignore[attr-defined]


def _keyword(db: Session, query: str) -> list[int]:
    return [pid for pid, _ in keyword_search(db, parse_query(query), limit=50)]


def test_keyword_search_stems_weights_titles_and_follows_edits(db: Session) -> None:
    papers = add_small_corpus(db)
    extra = add_paper(
        db, "Quantized pruning", "Networks made smaller after pruning.", authors=["Ada Lovelace"]
    )
    # Stemming: "quantized" finds "quantize", "quantization"; a title match ranks above abstract matches.
    found = _keyword(db, "quantized")
    assert set(found) == {papers[0].id, papers[1].id, extra.id}
    assert found[0] == extra.id
    assert _keyword(db, "lovelace") == [extra.id]  # authors are searchable

    # The triggers (SQLite) and the generated column (PostgreSQL) follow edits and deletes.
    extra.title = "Sparse transformers"
    db.flush()
    assert _keyword(db, "sparse") == [extra.id] and _keyword(db, "pruning") == [extra.id]
    assert extra.id not in _keyword(db, "quantized")
    extra.abstract = "Nothing about that here."
    db.flush()
    assert _keyword(db, "pruning") == []
    db.delete(papers[2])
    db.flush()
    assert _keyword(db, "diffusion") == []


def test_all_words_rank_before_some_words_and_phrases_are_required(db: Session) -> None:
    papers = add_small_corpus(db)
    found = _keyword(db, "transformer weights")
    assert found[0] == papers[1].id  # holds both words
    assert papers[0].id in found[1:]  # holds only "weights"
    assert _keyword(db, '"noise denoising"') == []
    assert _keyword(db, '"generates images" diffusion') == [papers[2].id]
    assert set(_keyword(db, "quantiz")) == {papers[0].id, papers[1].id}  # one word: also a prefix


@pytest.mark.parametrize(
    "query",
    [
        "DROP TABLE papers; --",
        '"unbalanced',
        "NEAR(a b)",
        "a OR b AND",
        "title:foo",
        "*",
        "^x",
        "é" * 400,
        "'",
        "\\",
    ],
)
def test_hostile_queries_never_fail(db: Session, query: str) -> None:
    add_small_corpus(db)
    result = hybrid_search(db, query, encoder=ENC, index=_index(db))
    assert result.total >= 0


def test_hybrid_fuses_both_sides_and_works_without_a_model(db: Session) -> None:
    papers = add_small_corpus(db)
    index = _index(db)
    result = hybrid_search(db, "quantization of weights", encoder=ENC, index=index, limit=3)
    assert result.mode == "hybrid" and result.hits[0].paper_id == papers[0].id
    top = result.hits[0]
    assert top.semantic_rank is not None and top.keyword_rank is not None and 0 < top.score <= 1
    assert top.similarity is not None and top.similarity > 0.2

    keyword_only = hybrid_search(db, "quantization of weights", encoder=None, index=None)
    assert keyword_only.mode == "keyword" and keyword_only.hits[0].paper_id == papers[0].id
    assert all(h.semantic_rank is None for h in keyword_only.hits)
    # An encoder that does not match the index is ignored rather than trusted.
    other = hybrid_search(db, "quantization", encoder=HashingEncoder(dim=64), index=index)
    assert other.mode == "keyword"


def test_a_model_that_fails_to_load_leaves_keyword_search(db: Session, tmp_path: Path) -> None:
    papers = add_small_corpus(db)
    index = _index(db)
    # Its files announce 128-d vectors, but there are no weights: it fails on the first query.
    folder = tmp_path / "broken-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(
        '[{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (folder / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 128}')
    broken = SentenceTransformerEncoder(folder, model_name=ENC.model_name)
    assert broken.dim == 128
    result = hybrid_search(db, "quantization of weights", encoder=broken, index=index)
    assert result.mode == "keyword" and result.hits[0].paper_id == papers[0].id
    missing = SentenceTransformerEncoder(tmp_path / "nowhere", model_name=ENC.model_name)
    assert hybrid_search(db, "diffusion", encoder=missing, index=index).mode == "keyword"


def test_arxiv_ids_find_that_paper(db: Session) -> None:
    papers = add_small_corpus(db)
    index = _index(db)
    for query in ("2601.10003", "arXiv:2601.10003v2", "https://arxiv.org/abs/2601.10003"):
        result = hybrid_search(db, query, encoder=ENC, index=index)
        assert (result.mode, _ids(result), result.total) == ("id", [papers[2].id], 1)
    mixed = hybrid_search(db, "2601.10005 quantization", encoder=ENC, index=index)
    assert _ids(mixed)[0] == papers[4].id and papers[0].id in _ids(mixed)
    assert hybrid_search(db, "2612.99999", encoder=ENC, index=index).total == 0


def test_empty_query_lists_recent_papers_through_the_filters(db: Session) -> None:
    papers = add_small_corpus(db)
    result = hybrid_search(db, "   ", encoder=ENC, index=_index(db), limit=2)
    assert result.mode == "recent" and result.total == 5
    assert _ids(result) == [papers[4].id, papers[3].id]
    page2 = hybrid_search(db, "", encoder=None, index=None, limit=2, offset=2)
    assert _ids(page2) == [papers[2].id, papers[1].id]
    assert hybrid_search(db, "", encoder=None, index=None, category="cs.CV").total == 2


def test_filters_by_date_category_and_topic(db: Session) -> None:
    papers = add_small_corpus(db)
    index = _index(db)
    q = "transformers images weights audio"
    in_range = hybrid_search(
        db, q, encoder=ENC, index=index, date_from=date(2026, 1, 6), date_to=date(2026, 1, 7)
    )
    assert set(_ids(in_range)) <= {papers[1].id, papers[2].id} and in_range.total >= 1
    cv = hybrid_search(db, q, encoder=ENC, index=index, category="cs.CV")
    assert set(_ids(cv)) <= {papers[2].id, papers[3].id} and cv.total >= 1
    assert set(_ids(hybrid_search(db, q, encoder=ENC, index=index, category="eess"))) == {papers[4].id}

    topic = Topic(slug="speech", label="Speech")
    db.add(topic)
    db.flush()
    db.add(PaperTopic(paper_id=papers[4].id, topic_id=topic.id, score=0.9))
    db.flush()
    # The closest papers in meaning are elsewhere; the topic filter still finds its one paper.
    in_topic = hybrid_search(db, "transformer weights", encoder=ENC, index=index, topic_id=topic.id)
    assert _ids(in_topic) == [papers[4].id]

    # A paper known only by its publication time counts on its UTC day.
    late = add_paper(db, "Late transformers", "Audio transformers published late in the UTC day.")
    late.published_at = datetime(2026, 1, 8, 23, 30, tzinfo=UTC)
    db.flush()
    in_day = hybrid_search(
        db, "transformers", encoder=None, index=None, date_from=date(2026, 1, 8), date_to=date(2026, 1, 8)
    )
    assert late.id in _ids(in_day) and papers[1].id not in _ids(in_day)
    assert late.id not in _ids(
        hybrid_search(db, "transformers", encoder=None, index=None, date_to=date(2026, 1, 7))
    )
    assert late.id in _ids(hybrid_search(db, "", encoder=None, index=None, date_from=date(2026, 1, 8)))
    with pytest.raises(ValueError, match="category"):
        hybrid_search(db, q, encoder=ENC, index=index, category="cs.LG' OR 1=1")
    with pytest.raises(ValueError, match="after the end date"):
        hybrid_search(db, q, encoder=ENC, index=index, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))


def test_paging_is_consistent(db: Session) -> None:
    for i in range(30):
        add_paper(
            db, f"Quantization study {i}", f"We quantize model weights, variant {i}.", source_id=f"q{i}"
        )
    index = _index(db)
    first = hybrid_search(db, "quantize weights", encoder=ENC, index=index, limit=10)
    second = hybrid_search(db, "quantize weights", encoder=ENC, index=index, limit=10, offset=10)
    assert first.total == second.total == 30
    assert not set(_ids(first)) & set(_ids(second))
    with pytest.raises(ValueError):
        hybrid_search(db, "x", encoder=None, index=None, limit=0)


def test_similar_papers(db: Session) -> None:
    papers = add_small_corpus(db)
    index = _index(db)
    similar = similar_papers(db, papers[0].id, index=index, model_name=ENC.model_name, limit=2)
    assert similar[0][0] == papers[1].id
    assert papers[0].id not in [pid for pid, _ in similar] and len(similar) == 2
    assert similar[0][1] >= similar[1][1]
    # A paper deleted since the index was built is not offered.
    db.delete(papers[1])
    db.flush()
    assert papers[1].id not in [
        p for p, _ in similar_papers(db, papers[0].id, index=index, model_name=ENC.model_name)
    ]
    lonely = add_paper(db, "Not embedded yet", "No vector.")
    with pytest.raises(LookupError, match="no hash-128 vector"):
        similar_papers(db, lonely.id, index=index, model_name=ENC.model_name)
    assert isinstance(db.get(Paper, papers[0].id), Paper)
    assert np.isfinite([s for _, s in similar]).all()


def test_large_corpus_ranking_without_bm25(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above BM25_MAX_PAPERS (SQLite) matches come newest first, title matches first; filters still apply."""
    import app.embed.fulltext as fulltext

    monkeypatch.setattr(fulltext, "BM25_MAX_PAPERS", 0)
    old_title = add_paper(db, "Weight quantization", "Old but the title says it.", categories=["cs.LG"])
    newer = add_paper(db, "Pruning", "Weight quantization in the abstract only.", categories=["cs.CV"])
    newest = add_paper(
        db, "Quantization of weights", "Newest, with both words in the title.", categories=["cs.LG"]
    )
    found = _keyword(db, "weight quantization")
    assert set(found) == {old_title.id, newer.id, newest.id}
    if db.get_bind().dialect.name == "sqlite":
        assert found == [newest.id, old_title.id, newer.id]
    lg = keyword_search(db, parse_query("quantization"), conditions=[Paper.categories.is_not(None)], limit=5)
    assert {pid for pid, _ in lg} == {old_title.id, newer.id, newest.id}
    result = hybrid_search(db, "weight quantization", encoder=None, index=None, category="cs.LG")
    assert set(_ids(result)) == {old_title.id, newest.id}
    assert set(_keyword(db, "quantiz")) == {old_title.id, newer.id, newest.id}  # prefix stage
