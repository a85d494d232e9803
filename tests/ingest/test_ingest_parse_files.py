"""File parsing: every supported format, ids, field mapping, and bad rows reported by position."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ingest.parse.common import ItemError, clean_abstract, split_authors
from app.ingest.parse.files import record_from_row
from app.ingest.records import embedding_text, parse_arxiv_id, text_hash, title_key
from app.ingest.sources.files import FileFormatError, detect_format, iter_rows
from tests.ingest.ingest_support import fixture


def records(path: Path, source: str = "file") -> tuple[list, list[str]]:
    out, errors = [], []
    for row in iter_rows(path):
        if row.error:
            errors.append(f"{row.where}: {row.error}")
            continue
        try:
            out.append(record_from_row(row.value, source=source))
        except ItemError as exc:
            errors.append(f"{row.where}: {exc}")
    return out, errors


def test_seed_list_without_ids_is_keyed_by_a_stable_title_hash() -> None:
    recs, errors = records(fixture("files", "seed_papers.json"), source="seed")
    assert errors == []
    assert len(recs) == 73
    assert all(r.arxiv_id is None and r.source == "seed" for r in recs)
    assert all(r.source_id == title_key(r.title) for r in recs)
    assert len({r.source_id for r in recs}) == 73
    # Case and spacing do not change the key.
    assert title_key("  Give Me BF16 or Give Me Death ") == title_key("give me bf16 or\ngive me death")
    quant = [r for r in recs if "Give Me BF16" in r.title]
    assert len(quant) == 1 and quant[0].abstract.startswith(
        "Despite the popularity of large language model (LLM) quantization"
    )


def test_crawl_sample_fields() -> None:
    recs, errors = records(fixture("files", "arxiv_cs_sample25k_first150.jsonl.gz"))
    assert errors == [] and len(recs) == 150
    first = recs[0]
    assert first.arxiv_id == "2503.11677" and first.source_id == "2503.11677"
    assert (
        first.title
        == "Simulation of prosthetic vision with PRIMA system and enhancement of face representation"
    )
    assert first.categories == ["cs.HC", "cs.CV"] and first.primary_category == "cs.HC"
    assert first.authors[0] == "Jungyeon Park" and len(first.authors) == 5
    assert first.announced_date == date(2025, 3, 18)
    assert first.abs_url == "https://arxiv.org/abs/2503.11677"
    assert "\n" not in first.abstract  # hard line wraps are joined
    listed = [r for r in recs if r.raw.get("hf_daily_listed")]
    assert listed and all(r.hf_date is not None for r in listed)


def test_clean_text_keeps_the_embedding_text_of_the_original() -> None:
    recs, _ = records(fixture("files", "arxiv_cs_sample25k_first150.jsonl.gz"))
    for rec in recs[:50]:
        original = embedding_text(rec.raw["title"], rec.raw["abstract"])
        assert embedding_text(rec.title, rec.abstract) == original
        assert text_hash(original) == text_hash(embedding_text(rec.title, rec.abstract))


def test_kaggle_snapshot_versions_authors_and_categories() -> None:
    recs, errors = records(fixture("files", "kaggle_arxiv_snapshot_first60.jsonl"))
    assert errors == [] and len(recs) == 60
    first = recs[0]
    assert first.arxiv_id == "0704.0001" and first.arxiv_version == 2
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert first.categories == ["hep-ph"] and first.primary_category == "hep-ph"
    assert first.published_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert first.updated_at_source == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert first.comment == "37 pages, 15 figures; published version"
    second = recs[1]
    assert second.categories == ["math.CO", "cs.CG"]


def test_csv_index_without_abstracts() -> None:
    recs, errors = records(fixture("files", "arxiv_cs_index75k_first200.csv.gz"))
    assert errors == [] and len(recs) == 200
    assert recs[0].arxiv_id == "2503.11731" and recs[0].abstract == ""
    assert recs[0].categories == ["cs.CV", "cs.RO"] and recs[0].announced_date == date(2025, 3, 18)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2503.11677", ("2503.11677", None)),
        ("2503.11677v3", ("2503.11677", 3)),
        ("arXiv:2609.26811v1", ("2609.26811", 1)),
        ("https://arxiv.org/abs/2202.12139v1", ("2202.12139", 1)),
        ("oai:arXiv.org:0704.0471", ("0704.0471", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("http://arxiv.org/abs/cond-mat/0102536v1", ("cond-mat/0102536", 1)),
        ("W2741809807", None),
        ("1234.5678", None),  # month 34
        ("1501.0001", None),  # four digits after 2014
        ("", None),
    ],
)
def test_arxiv_ids(value: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_arxiv_id(value, strict=True) == expected


def test_old_style_ids_in_files(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({"id": "hep-th/9901001v2", "title": "Old", "abstract": "A."}) + "\n")
    (rec,), _ = records(path)
    assert (rec.arxiv_id, rec.arxiv_version) == ("hep-th/9901001", 2)


def test_authors_and_abstract_helpers() -> None:
    assert split_authors("D.V. Shetty, S.J. Yennello, and G.A. Souliotis") == [
        "D.V. Shetty",
        "S.J. Yennello",
        "G.A. Souliotis",
    ]
    assert split_authors("A. One (MIT, CSAIL), B. Two and C. Three") == [
        "A. One (MIT, CSAIL)",
        "B. Two",
        "C. Three",
    ]
    assert clean_abstract("  First line\nwraps here.\n  Second paragraph\nagain.\n") == (
        "First line wraps here.\n\nSecond paragraph again."
    )


def test_every_format_also_gzipped(tmp_path: Path) -> None:
    rows = [{"id": "2501.00001", "title": "A", "abstract": "x"}, {"id": "2501.00002", "title": "B"}]
    plain = {
        "list.json": json.dumps(rows).encode(),
        "lines.jsonl": "\n".join(json.dumps(r) for r in rows).encode(),
        "table.csv": b"id,title,abstract\n2501.00001,A,x\n2501.00002,B,\n",
    }
    for name, data in plain.items():
        (tmp_path / name).write_bytes(data)
        (tmp_path / (name + ".gz")).write_bytes(gzip.compress(data))
        for path in (tmp_path / name, tmp_path / (name + ".gz")):
            recs, errors = records(path)
            assert errors == [], path
            assert [r.arxiv_id for r in recs] == ["2501.00001", "2501.00002"], path
    # The name can be silent: the content decides.
    (tmp_path / "noext").write_bytes(gzip.compress(plain["lines.jsonl"]))
    assert detect_format(tmp_path / "noext") == "jsonl"


def test_bad_lines_are_reported_by_number_and_neighbours_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": "2501.00001", "title": "Good one"}\n'
        b'{"id": "2501.00002", "title": "Truncated\n'
        b"\n"
        b'{"id": "2501.00003"}\n'
        b"\xff\xfe not utf8\n"
        b'{"id": "2501.00004", "title": "Good two", "upvotes": "many"}\n'
        b'{"id": "2501.00005", "title": "Good three"}\n'
    )
    recs, errors = records(path)
    assert [r.arxiv_id for r in recs] == ["2501.00001", "2501.00005"]
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4", "line 5", "line 6"]
    assert "title is missing" in errors[1]
    assert "upvotes" in errors[3]


def test_bad_csv_rows_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,title\n2501.00001,"A, with comma"\n2501.00002,B,extra\n2501.00003,\n2501.00004,D\n')
    recs, errors = records(path)
    assert [r.title for r in recs] == ["A, with comma", "D"]
    assert errors[0].startswith("line 3: 1 more fields") and errors[1].startswith("line 4: title")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[{"title": "x"', "invalid JSON at line 1"),
        (b"\x00\x01binary", "not a JSON, JSONL or CSV"),
        (b"id,name\n1,x\n", "no 'title' column"),
        (b'{"title": 1}', "expected"),
    ],
)
def test_unreadable_files_raise_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    suffix = ".csv" if content.startswith(b"id,") else ".json" if content.startswith((b"[", b"{")) else ".dat"
    path = tmp_path / ("bad" + suffix)
    path.write_bytes(content)
    if message == "expected":  # a lone object is one paper; a non-text title is a row error
        _, errors = records(path)
        assert errors and "title is not text" in errors[0]
        return
    with pytest.raises(FileFormatError, match=message):
        records(path)


def test_truncated_gzip_is_a_file_error(tmp_path: Path) -> None:
    data = gzip.compress(b'{"id": "2501.00001", "title": "A"}\n' * 2000)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="truncated or corrupt"):
        records(path)


def test_missing_file() -> None:
    with pytest.raises(FileFormatError, match="no such file"):
        records(Path("/nonexistent/papers.jsonl"))


valid_title = st.text(
    alphabet=st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")
junk_value = st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=2))
junk_keys = st.sampled_from(["id", "title", "authors", "categories", "upvotes", "published"])
garbage = st.one_of(
    st.binary(max_size=60).filter(lambda b: b"\n" not in b and b"\r" not in b),
    st.text(max_size=60).map(lambda s: s.replace("\n", " ").replace("\r", " ").encode("utf-8")),
    st.dictionaries(junk_keys, junk_value).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(valid_title.map(lambda t: ("ok", t)), garbage.map(lambda g: ("junk", g))), max_size=12
    )
)
def test_garbage_never_crashes_and_never_hides_a_valid_line(tmp_path: Path, lines: list) -> None:
    path = tmp_path / "fuzz.jsonl"
    body, expected = [], []
    for n, (kind, value) in enumerate(lines):
        if kind == "ok":
            ident = f"2501.{n:05d}"
            body.append(json.dumps({"id": ident, "title": value, "abstract": "text"}).encode())
            expected.append(ident)
        else:
            body.append(value)
    path.write_bytes(b"\n".join(body) + b"\n")
    recs, _errors = records(path)
    kept = [r.arxiv_id for r in recs if r.abstract == "text"]
    assert [k for k in kept if k in expected] == expected
