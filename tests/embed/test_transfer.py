"""Moving vectors between machines: export then import, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.embed.encoder import HashingEncoder
from app.embed.service import TransferError, embed_pending, export_vectors, import_vectors, load_vectors
from app.models import Embedding
from tests.embed.embed_support import add_small_corpus
from tests.factories import add_paper


def _embedded(db: Session) -> HashingEncoder:
    add_small_corpus(db)
    add_paper(db, "A paper without an arXiv id", "Found by its source id.", source_id="hand-1")
    enc = HashingEncoder(dim=24)
    embed_pending(db, enc, batch_size=4)
    return enc


def test_export_then_import_round_trips_exactly(db: Session, tmp_path: Path) -> None:
    enc = _embedded(db)
    ids_before, before = load_vectors(db, enc.model_name)
    out, ids_file = tmp_path / "v.npy", tmp_path / "v.ids.txt"
    report = export_vectors(db, enc.model_name, out, ids_file)
    assert (report.count, report.dim) == (6, 24)
    lines = ids_file.read_text().splitlines()
    assert lines[:5] == [f"2601.{10001 + i:05d}" for i in range(5)] and lines[5] == "file:hand-1"
    assert json.loads((tmp_path / "v.npy.json").read_text())["model"] == enc.model_name
    assert not list(tmp_path.glob("*.partial"))

    db.execute(delete(Embedding))
    result = import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=24)
    assert (result.rows, result.imported, result.unknown) == (6, 6, 0)
    ids_after, after = load_vectors(db, enc.model_name)
    assert ids_after == ids_before
    assert after.tobytes() == before.tobytes()  # bit for bit
    # The imported vectors count as up to date: embedding again encodes nothing.
    assert embed_pending(db, enc, batch_size=4).encoded == 0
    # Importing the same file again writes nothing.
    again = import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=24)
    assert (again.imported, again.unchanged) == (0, 6)


def test_wrong_dimension_is_refused_and_nothing_is_written(db: Session, tmp_path: Path) -> None:
    enc = _embedded(db)
    rows_before = db.execute(select(Embedding.id, Embedding.vector)).all()
    out, ids_file = tmp_path / "wide.npy", tmp_path / "wide.ids.txt"
    np.save(out, np.eye(2, 48, dtype=np.float32))
    ids_file.write_text("2601.10001\n2601.10002\n")
    with pytest.raises(TransferError, match=r"dimension 48.*has 24"):
        import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=24)
    # Without an expected dimension, the vectors already stored for the model decide.
    with pytest.raises(TransferError, match="dimension 48"):
        import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=None)
    assert db.execute(select(Embedding.id, Embedding.vector)).all() == rows_before


def test_other_model_in_metadata_is_refused(db: Session, tmp_path: Path) -> None:
    enc = _embedded(db)
    out, ids_file = tmp_path / "v.npy", tmp_path / "v.ids.txt"
    export_vectors(db, enc.model_name, out, ids_file)
    with pytest.raises(TransferError, match=r"holds vectors of model 'hashing-test'.*--model hashing-test"):
        import_vectors(db, out, ids_file, model_name="all-MiniLM-L6-v2", expected_dim=24)


def test_half_precision_file_with_versions_and_unknown_ids(db: Session, tmp_path: Path) -> None:
    enc = _embedded(db)
    ids, vecs = load_vectors(db, enc.model_name)
    out, ids_file = tmp_path / "h.f16.npy", tmp_path / "h.ids.txt"
    np.save(out, np.vstack([vecs[:2], vecs[:1]]).astype(np.float16))
    ids_file.write_text("2601.10001v3\n9912.99999\n2601.10001\n")
    db.execute(delete(Embedding))
    report = import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=24)
    assert (report.imported, report.unknown, report.duplicates) == (1, 1, 1)
    assert "9912.99999" in report.summary()
    got_ids, got = load_vectors(db, enc.model_name)
    assert got_ids == [ids[0]]
    assert abs(float(np.linalg.norm(got[0])) - 1.0) < 1e-6  # float16 rows re-normalised
    assert float(got[0] @ vecs[0]) > 0.999


@pytest.mark.parametrize(
    ("matrix", "ids_text", "message"),
    [
        (np.ones((2, 24), np.float32) / np.sqrt(24), "2601.10001\n", "1 ids but .* 2 rows"),
        (np.full((1, 24), np.nan, np.float32), "2601.10001\n", "NaN"),
        (np.zeros((1, 24), np.float32), "2601.10001\n", "all-zero"),
        (np.ones(24, np.float32), "2601.10001\n", "2-d float matrix"),
    ],
)
def test_bad_files_are_refused(
    db: Session, tmp_path: Path, matrix: np.ndarray, ids_text: str, message: str
) -> None:
    enc = _embedded(db)
    out, ids_file = tmp_path / "bad.npy", tmp_path / "bad.ids.txt"
    np.save(out, matrix)
    ids_file.write_text(ids_text)
    with pytest.raises(TransferError, match=message):
        import_vectors(db, out, ids_file, model_name=enc.model_name, expected_dim=24)


def test_missing_files_and_empty_export(db: Session, tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="no vectors stored"):
        export_vectors(db, "nothing", tmp_path / "a.npy", tmp_path / "a.txt")
    with pytest.raises(TransferError, match=r"not a readable \.npy"):
        import_vectors(db, tmp_path / "missing.npy", tmp_path / "a.txt", model_name="m", expected_dim=None)
