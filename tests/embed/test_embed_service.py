"""embed_pending and load_vectors on SQLite and PostgreSQL, with the hashing encoder."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.embed.encoder import HashingEncoder
from app.embed.service import EmbedError, count_pending, embed_pending, load_vectors
from app.ingest.records import embedding_text
from app.models import Embedding
from tests.embed.embed_support import add_small_corpus, set_abstract
from tests.factories import add_paper


def test_embeds_each_paper_once_and_a_second_run_encodes_nothing(db: Session) -> None:
    papers = add_small_corpus(db)
    enc = HashingEncoder(dim=32)
    assert count_pending(db, enc.model_name) == 5
    seen: list[int] = []
    first = embed_pending(db, enc, batch_size=2, progress=seen.append)
    assert (first.encoded, first.new, first.replaced, first.pending) == (5, 5, 0, 5)
    assert sum(seen) == 5
    rows = db.execute(select(Embedding).where(Embedding.model == enc.model_name)).scalars().all()
    assert {r.paper_id for r in rows} == {p.id for p in papers}
    assert all(r.dim == 32 and len(r.vector) == 32 * 4 for r in rows)
    by_paper = {r.paper_id: r for r in rows}
    for p in papers:
        assert by_paper[p.id].text_hash == p.text_hash
        expected = enc.encode([embedding_text(p.title, p.abstract)])[0]
        assert np.array_equal(np.frombuffer(by_paper[p.id].vector, dtype="<f4"), expected)

    encoded_before = enc.texts_encoded
    second = embed_pending(db, enc, batch_size=2)
    assert second.encoded == 0 and enc.texts_encoded == encoded_before
    assert count_pending(db, enc.model_name) == 0


def test_changed_abstract_is_re_embedded_and_nothing_else(db: Session) -> None:
    papers = add_small_corpus(db)
    enc = HashingEncoder(dim=32)
    embed_pending(db, enc, batch_size=8)
    old = db.execute(select(Embedding.id, Embedding.vector).where(Embedding.paper_id == papers[2].id)).one()
    set_abstract(db, papers[2], "A new version: diffusion transformers for video generation.")
    report = embed_pending(db, enc, batch_size=8)
    assert (report.encoded, report.replaced, report.new) == (1, 1, 0)
    new = db.execute(
        select(Embedding.id, Embedding.vector, Embedding.text_hash).where(Embedding.paper_id == papers[2].id)
    ).one()
    assert new.id > old.id  # a replaced vector gets a newer row id (the index watermark relies on it)
    assert new.vector != old.vector and new.text_hash == papers[2].text_hash
    assert embed_pending(db, enc, batch_size=8).encoded == 0


def test_models_are_kept_apart(db: Session) -> None:
    add_small_corpus(db)
    embed_pending(db, HashingEncoder(dim=32, model_name="a"), batch_size=8)
    other = embed_pending(db, HashingEncoder(dim=16, model_name="b"), batch_size=8)
    assert other.encoded == 5
    assert load_vectors(db, "a")[1].shape == (5, 32) and load_vectors(db, "b")[1].shape == (5, 16)


def test_dry_run_and_limit(db: Session) -> None:
    add_small_corpus(db)
    enc = HashingEncoder(dim=32)
    dry = embed_pending(db, enc, batch_size=8, dry_run=True)
    assert dry.dry_run and dry.pending == 5 and dry.encoded == 0 and enc.texts_encoded == 0
    assert "would be embedded" in dry.summary()
    assert db.execute(select(Embedding.id)).first() is None
    part = embed_pending(db, enc, batch_size=8, limit=2)
    assert part.encoded == 2 and count_pending(db, enc.model_name) == 3
    assert embed_pending(db, enc, batch_size=8).encoded == 3


def test_a_different_dimension_under_the_same_model_name_is_refused(db: Session) -> None:
    add_small_corpus(db)
    embed_pending(db, HashingEncoder(dim=32, model_name="m"), batch_size=8)
    add_paper(db, "Another paper", "Fresh text.")
    with pytest.raises(EmbedError, match="dimension 32"):
        embed_pending(db, HashingEncoder(dim=16, model_name="m"), batch_size=8)


def test_load_vectors_all_and_subset_in_request_order(db: Session) -> None:
    papers = add_small_corpus(db)
    enc = HashingEncoder(dim=32)
    embed_pending(db, enc, batch_size=8)
    ids, matrix = load_vectors(db, enc.model_name)
    assert ids == sorted(p.id for p in papers) and matrix.dtype == np.float32 and matrix.shape == (5, 32)
    want = [papers[3].id, 999_999, papers[0].id, papers[3].id]
    sub_ids, sub = load_vectors(db, enc.model_name, want)
    assert sub_ids == [papers[3].id, papers[0].id]
    assert np.array_equal(sub[0], matrix[ids.index(papers[3].id)])
    empty_ids, empty = load_vectors(db, "no-such-model")
    assert empty_ids == [] and empty.shape[0] == 0
