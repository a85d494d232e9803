"""File ingest into the database (SQLite and PostgreSQL): counts, idempotence, merging, versions."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ingest.queries import upsert_records
from app.ingest.records import PaperRecord, embedding_text, paper_text_hash, text_hash, title_key
from app.ingest.service import FileFormatError, ingest_file
from app.models import Paper, PaperSource
from tests.ingest.ingest_support import all_papers, count_writes, fixture, paper


def n_papers(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Paper)) or 0


def test_sample_file_then_second_run_writes_nothing(db: Session) -> None:
    path = fixture("files", "arxiv_cs_sample25k_first150.jsonl.gz")
    seen: list[int] = []
    first = ingest_file(db, path, progress=seen.append)
    assert (first.fetched, first.new, first.updated, first.unchanged, first.errors) == (150, 150, 0, 0, [])
    assert sum(seen) == 150 and n_papers(db) == 150
    with count_writes(db) as writes:
        second = ingest_file(db, path)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 150)
    assert writes == []
    p = paper(db, "2503.11677")
    assert p.source == "file" and p.source_id == "2503.11677"
    assert p.categories == ["cs.HC", "cs.CV"] and p.primary_category == "cs.HC"
    assert p.announced_date == date(2025, 3, 18)
    assert p.text_hash == text_hash(embedding_text(p.title, p.abstract))
    assert p.raw["file"]["id"] == "2503.11677"  # the raw row is kept for re-parsing
    assert db.scalar(select(func.count()).select_from(PaperSource)) == 150


def test_every_format_and_the_summary(db: Session) -> None:
    seed = ingest_file(db, fixture("files", "seed_papers.json"), source="seed")
    assert (seed.new, seed.source) == (73, "file:seed")
    kaggle = ingest_file(db, fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"))
    assert kaggle.new == 60
    index = ingest_file(db, fixture("files", "arxiv_cs_index75k_first200.csv.gz"))
    assert index.new == 200
    assert n_papers(db) == 333
    assert "200 fetched, added 200 new" in index.summary()
    seeded = db.scalars(select(Paper).where(Paper.source == "seed")).all()
    assert len(seeded) == 73 and all(p.arxiv_id is None and p.source_id.startswith("t:") for p in seeded)


def test_dry_run_counts_without_writing(db: Session) -> None:
    with count_writes(db) as writes:
        report = ingest_file(db, fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"), dry_run=True)
    assert report.new == 60 and writes == [] and n_papers(db) == 0
    assert "would add 60 new" in report.summary()


def test_a_file_without_abstracts_never_erases_them(db: Session) -> None:
    ingest_file(db, fixture("files", "arxiv_cs_sample25k_first150.jsonl.gz"))
    before = {p.arxiv_id: (p.abstract, p.text_hash) for p in all_papers(db)}
    report = ingest_file(db, fixture("files", "arxiv_cs_index75k_first200.csv.gz"))
    overlap = set(before) & {p.arxiv_id for p in all_papers(db) if p.source_id in before}
    assert report.new == 200 - 82 and len(overlap) == 150
    for p in all_papers(db):
        if p.arxiv_id in before:
            assert (p.abstract, p.text_hash) == before[p.arxiv_id]
            assert set(p.raw) == {"file"}  # same source name: the latest raw row is kept


def test_bad_rows_are_skipped_with_their_line_and_the_rest_stored(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text(
        json.dumps({"id": "2501.00001", "title": "One"})
        + "\n{broken\n"
        + json.dumps({"id": "2501.00002"})
        + "\n"
        + json.dumps({"id": "2501.00003", "title": "Three"})
        + "\n"
    )
    report = ingest_file(db, path)
    assert (report.fetched, report.new, report.skipped) == (4, 2, 2)
    assert report.errors[0].startswith("line 2: invalid JSON") and report.errors[1].startswith(
        "line 3: title"
    )
    assert "2 skipped" in report.summary()
    assert {p.arxiv_id for p in all_papers(db)} == {"2501.00001", "2501.00003"}


def test_unreadable_file_raises_before_writing(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[{"title": "x"}, ')
    with pytest.raises(FileFormatError, match="invalid JSON"):
        ingest_file(db, path)
    junk = tmp_path / "junk.jsonl"
    junk.write_text("nope\nnot json\n")
    with pytest.raises(FileFormatError, match="no paper could be read"):
        ingest_file(db, junk)
    assert n_papers(db) == 0
    with pytest.raises(FileFormatError, match="invalid source name"):
        ingest_file(db, fixture("files", "seed_papers.json"), source="Bad Name")


def record(version: int | None, abstract: str, *, source: str = "arxiv_api", **extra: object) -> PaperRecord:
    return PaperRecord(
        source=source,
        source_id="2501.01234",
        arxiv_id="2501.01234",
        arxiv_version=version,
        title="A paper",
        abstract=abstract,
        raw={"v": version, "abstract": abstract, **{k: str(v) for k, v in extra.items()}},
        **extra,  # type: ignore[arg-type]
    )


def test_version_bump_updates_text_and_marks_it_for_re_embedding(db: Session) -> None:
    assert upsert_records(db, [record(1, "First text.")]).new == 1
    old_hash = paper(db, "2501.01234").text_hash
    result = upsert_records(db, [record(2, "Second text.")])
    assert result.updated == 1
    p = paper(db, "2501.01234")
    assert (p.arxiv_version, p.abstract) == (2, "Second text.")
    assert p.text_hash != old_hash and p.text_hash == paper_text_hash("A paper", "Second text.")
    # An older version arriving late changes nothing visible.
    late = upsert_records(db, [record(1, "First text.", source="arxiv_oai")])
    assert late.updated == 0
    p = paper(db, "2501.01234")
    assert (p.arxiv_version, p.abstract) == (2, "Second text.")
    assert set(p.raw) == {"arxiv_api", "arxiv_oai"}


def test_withdrawn_papers_are_marked_not_deleted(db: Session) -> None:
    upsert_records(db, [record(1, "Text.")])
    upsert_records(
        db, [record(2, "Text.", comment="This paper has been withdrawn by the author", withdrawn=True)]
    )
    p = paper(db, "2501.01234")
    assert p.withdrawn and n_papers(db) == 1


def test_same_paper_twice_in_one_batch_makes_one_row(db: Session) -> None:
    result = upsert_records(db, [record(1, "One."), record(2, "Two."), record(2, "Two.")])
    assert (result.new, result.updated, result.unchanged) == (1, 1, 1)
    assert n_papers(db) == 1 and paper(db, "2501.01234").abstract == "Two."


def test_a_title_only_paper_becomes_the_arxiv_paper_when_its_id_turns_up(db: Session, tmp_path: Path) -> None:
    ingest_file(db, fixture("files", "seed_papers.json"), source="seed")
    title = '"Give Me BF16 or Give Me Death"? Accuracy-Performance Trade-Offs in LLM Quantization'
    row = db.scalars(select(Paper).where(Paper.source_id == title_key(title))).one()
    path = tmp_path / "one.jsonl.gz"
    path.write_bytes(
        gzip.compress(json.dumps({"id": "2411.02355v2", "title": title, "categories": "cs.LG"}).encode())
    )
    report = ingest_file(db, path)
    assert (report.new, report.updated) == (0, 1)
    merged = paper(db, "2411.02355")
    assert merged.id == row.id and merged.arxiv_version == 2 and merged.categories == ["cs.LG"]
    assert merged.abstract.startswith("Despite the popularity")  # kept: the new row had none
    assert n_papers(db) == 73


def test_reparse_fixes_stored_papers_from_their_raw_items(db: Session) -> None:
    from sqlalchemy import update

    from app.ingest.reparse import reparse_papers

    ingest_file(db, fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"))
    # What an older, buggy parser might have stored:
    db.execute(update(Paper).where(Paper.arxiv_id == "0704.0001").values(title="Calculation of", authors=[]))
    with count_writes(db) as writes:
        fixed = reparse_papers(db, batch=25)
    assert (fixed.fetched, fixed.updated) == (60, 1)
    p = paper(db, "0704.0001")
    assert p.title.startswith("Calculation of prompt diphoton production cross sections")
    assert p.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert p.text_hash == paper_text_hash(p.title, p.abstract)
    assert all(w.startswith("UPDATE") for w in writes)  # no fingerprint rows touched
    again = reparse_papers(db, sources=["file"])
    assert (again.updated, again.unchanged) == (0, 60)
    assert reparse_papers(db, sources=["hf_daily"]).fetched == 0


def test_batches_read_ahead_keep_order_and_duplicates_across_batches(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.ingest.service as service

    monkeypatch.setattr(service, "FILE_BATCH", 7)
    lines = [
        json.dumps({"id": f"2501.{n % 30:05d}", "title": f"Paper {n % 30}", "abstract": f"v{n}"})
        for n in range(75)
    ]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    dry = ingest_file(db, path, dry_run=True)
    assert (dry.fetched, dry.new) == (75, 30) and n_papers(db) == 0
    seen: list[int] = []
    report = ingest_file(db, path, progress=seen.append)
    assert (report.fetched, report.new, report.updated) == (75, 30, 45) and sum(seen) == 75
    assert n_papers(db) == 30
    assert paper(db, "2501.00004").abstract == "v64"  # the last line about a paper wins


def test_a_file_truncated_after_several_batches_raises(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.ingest.service as service

    monkeypatch.setattr(service, "FILE_BATCH", 50)
    body = "".join(json.dumps({"id": f"2501.{n:05d}", "title": f"P{n}"}) + "\n" for n in range(3000))
    data = gzip.compress(body.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(FileFormatError, match="truncated or corrupt"):
        ingest_file(db, path)


def test_a_database_error_stops_the_reader(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import app.ingest.service as service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "FILE_BATCH", 10)
    monkeypatch.setattr(service, "apply_prepared", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(db, fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"))
    assert not [t for t in threading.enumerate() if t.name == "ingest-read-ahead"]
