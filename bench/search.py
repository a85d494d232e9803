"""Benchmark: hybrid search latency end to end, and recall@10 of the approximate vector index.

25k real papers: the arXiv sample is ingested (`ingest_file`) into a scratch SQLite database (and
PostgreSQL when it answers), its precomputed all-MiniLM-L6-v2 vectors imported (`import_vectors`),
the PostgreSQL full-text vectors filled (`refresh_search_vectors`, as the pipeline does after
ingest), the index built with `ensure_index`. 1M synthetic: the 25k papers 40 times over (same texts, so
every word's posting list is 40x longer, as in a real million) in SQLite, with 1M vectors derived
from the real ones (replica 0 is the real vector; replica k of paper j is
normalise(v_j + 0.35 v_b + N(0, 0.02^2 I)) with b random), indexed as IVF-SQ8.

Latency: `hybrid_search` with the real encoder (query encoding included), limit 20, over a
deterministic mixed workload (multi-word, one word, quoted phrase, arXiv id, and 20 % with a
topic, date or category filter); p50/p95/p99 of a second pass after an untimed one. Recall@10:
the IVF index against exact search for the encoded text queries. Figures go to
docs/BENCHMARKS.md, section `search`, with the command.

    .venv/bin/python bench/search.py [--sizes 25k,1m] [--queries 200] [--no-postgres]
                                     [--json-out FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.db import make_engine, make_session_factory  # noqa: E402
from app.embed.encoder import SentenceTransformerEncoder, bundled_model_path  # noqa: E402
from app.embed.faiss_index import IVF_SQ8, VectorIndex  # noqa: E402
from app.embed.fulltext import refresh_search_vectors  # noqa: E402
from app.embed.index import ensure_index  # noqa: E402
from app.embed.query_parse import STOPWORDS, words  # noqa: E402
from app.embed.search import hybrid_search, similar_papers  # noqa: E402
from app.embed.service import import_vectors, load_vectors  # noqa: E402
from app.embed.vectors import exact_top_k, recall_at_k  # noqa: E402
from app.ingest.records import paper_text_hash  # noqa: E402
from app.ingest.service import ingest_file  # noqa: E402
from app.models import Paper, PaperTopic, Topic  # noqa: E402
from bench._sample import IDS, PAPERS, VECTORS, load_records  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DOC = ROOT / "docs" / "BENCHMARKS.md"
MODEL = "all-MiniLM-L6-v2"
REPLICAS = 40


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def fill_fulltext(factory: sessionmaker[Session]) -> None:
    """PostgreSQL: fill the full-text vectors ingest left NULL, as the pipeline does right after ingest.

    Left NULL, every keyword search computes the vectors of all papers on the fly (seconds per
    query at 25k). VACUUM ANALYZE then gives the planner the statistics and the clean partial
    index that autovacuum reaches shortly after such a bulk fill in production.
    """
    with factory() as session, session.begin():
        filled = refresh_search_vectors(session)
    bind = factory.kw["bind"]
    if filled and bind.dialect.name == "postgresql":
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE papers"))


def add_topic(factory: sessionmaker[Session]) -> int:
    """A topic holding the papers that mention quantization (the topic filter needs one)."""
    with factory() as session, session.begin():
        topic = Topic(slug="quantization", label="Quantization")
        session.add(topic)
        session.flush()
        ids = session.execute(select(Paper.id).where(Paper.title.ilike("%quantiz%"))).scalars().all()
        session.execute(
            insert(PaperTopic), [{"paper_id": i, "topic_id": topic.id, "score": 1.0} for i in ids]
        )
        return int(topic.id)


def workload(records: list[dict[str, Any]], n: int, topic_id: int, seed: int = 7) -> list[dict[str, Any]]:
    """Deterministic mixed queries drawn from real titles."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < n:
        r = rng.choice(records)
        title = [w for w in words(r["title"]) if not w.isdigit()]
        content = [w for w in title if w not in STOPWORDS and len(w) > 3]
        if len(title) < 4 or not content:
            continue
        kind = rng.random()
        q: dict[str, Any] = {}
        if kind < 0.5:
            start = rng.randrange(0, max(1, len(title) - 3))
            q["query"] = " ".join(title[start : start + rng.randint(2, 5)])
        elif kind < 0.65:
            q["query"] = rng.choice(content)
        elif kind < 0.75:
            i = rng.randrange(0, len(title) - 1)
            q["query"] = f'"{title[i]} {title[i + 1]}" {rng.choice(content)}'
        elif kind < 0.8:
            q["query"] = r["id"]
        else:
            q["query"] = " ".join(rng.sample(content, min(3, len(content))))
            which = rng.choice(["category", "dates", "topic"])
            if which == "category":
                q["category"] = r["primary_category"]
            elif which == "dates":
                start_day = date(2025, 3, 18) + timedelta(days=rng.randrange(0, 440))
                q["date_from"], q["date_to"] = start_day, start_day + timedelta(days=30)
            else:
                q["topic_id"] = topic_id
        out.append(q)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda p: ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]  # noqa: E731
    return {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "mean": statistics.fmean(values)}


def time_queries(
    factory: sessionmaker[Session], queries: list[dict[str, Any]], encoder: Any, index: Any
) -> dict[str, float]:
    times: dict[bool, list[float]] = {True: [], False: []}
    with factory() as session:
        for timed in (False, True):  # a first, untimed pass warms the caches: steady state is measured
            for q in queries:
                params = {k: v for k, v in q.items() if k != "query"}
                started = time.perf_counter()
                hybrid_search(session, q["query"], encoder=encoder, index=index, limit=20, **params)
                if timed:
                    times[bool(params)].append((time.perf_counter() - started) * 1000)
    out = percentiles(times[True] + times[False])
    out["p95_unfiltered"] = percentiles(times[False])["p95"]
    out["p95_filtered"] = percentiles(times[True])["p95"]
    return out


def time_parts(
    encoder: Any, index: VectorIndex, queries: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    texts = [q["query"] for q in queries]
    enc_t, ann_t = [], []
    for t in texts:
        started = time.perf_counter()
        vector = encoder.encode([t])
        enc_t.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        index.search(vector, 100)
        ann_t.append((time.perf_counter() - started) * 1000)
    return {"encode_ms": percentiles(enc_t[10:]), "vector_search_ms": percentiles(ann_t[10:])}


def recall_sweep(
    encoder: Any, approx: VectorIndex, base: np.ndarray, ids: np.ndarray, queries: list[str]
) -> dict[int, float]:
    """Recall@10 of text queries against exact search, at the calibrated nprobe and at larger ones."""
    vectors = encoder.encode(queries, batch_size=64)
    truth = ids[exact_top_k(vectors, base, 10)]
    sweep: dict[int, float] = {}
    for nprobe in sorted({approx.nprobe, 32, 64, 128, 256, 512}):
        if nprobe > approx.info.nlist:
            continue
        _, found = approx.search(vectors, 10, nprobe=nprobe)
        sweep[nprobe] = recall_at_k(truth, found, 10)
    return sweep


def measure_ivf(
    factory: sessionmaker[Session],
    encoder: Any,
    approx: VectorIndex,
    base: np.ndarray,
    ids: np.ndarray,
    queries: list[dict[str, Any]],
    out: dict[str, Any],
) -> None:
    """Recall sweep, then latency at the calibrated nprobe and at the smallest reaching 0.95 for text."""
    sweep = recall_sweep(encoder, approx, base, ids, [q["query"] for q in queries if not q.get("topic_id")])
    out["recall_at_10_text_queries"] = sweep
    calibrated = approx.nprobe
    enough = min((n for n, r in sweep.items() if r >= 0.95), default=max(sweep))
    out["latency_ms"]["hybrid_ivf"] = time_queries(factory, queries, encoder, approx)
    out["ivf"]["text_nprobe"] = enough
    if enough != calibrated:
        approx.nprobe = enough
        out["latency_ms"]["hybrid_ivf_text_nprobe"] = time_queries(factory, queries, encoder, approx)
    out["parts_ms"] = time_parts(encoder, approx, queries)
    approx.nprobe = None


def run_25k(
    url: str, label: str, encoder: Any, n_queries: int, records: list[dict[str, Any]]
) -> dict[str, Any]:
    migrate(url)
    factory = make_session_factory(make_engine(url))
    out: dict[str, Any] = {"database": label}
    started = time.perf_counter()
    with factory() as session, session.begin():
        report = ingest_file(session, PAPERS)
    out["ingest_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with factory() as session, session.begin():
        imported = import_vectors(session, VECTORS, IDS, model_name=MODEL, expected_dim=384)
    out["import_s"], out["papers"], out["vectors"] = (
        time.perf_counter() - started,
        report.new,
        imported.imported,
    )
    started = time.perf_counter()
    fill_fulltext(factory)
    out["fulltext_fill_s"] = time.perf_counter() - started
    topic_id = add_topic(factory)
    with tempfile.TemporaryDirectory() as folder, factory() as session:
        started = time.perf_counter()
        exact = ensure_index(session, Path(folder), MODEL, exact_threshold=50_000)
        out["exact_build_s"] = time.perf_counter() - started
        ids, base = load_vectors(session, MODEL)
        started = time.perf_counter()
        approx = VectorIndex.build(ids, base, model_name=MODEL, exact_threshold=0, kind=IVF_SQ8)
        out["ivf_build_s"] = time.perf_counter() - started
    out["ivf"] = {
        "nlist": approx.info.nlist,
        "nprobe": approx.nprobe,
        "calibration_recall": approx.info.recall_at_10,
    }
    queries = workload(records, n_queries, topic_id)
    out["latency_ms"] = {"hybrid_exact": time_queries(factory, queries, encoder, exact)}
    measure_ivf(factory, encoder, approx, base, np.asarray(ids), queries, out)
    out["latency_ms"]["keyword_only"] = time_queries(factory, queries, None, None)
    sim = []
    with factory() as session:
        for pid in ids[:: max(1, len(ids) // 110)][:110]:
            started = time.perf_counter()
            similar_papers(session, pid, index=exact, model_name=MODEL, limit=10)
            sim.append((time.perf_counter() - started) * 1000)
    out["latency_ms"]["similar_papers"] = percentiles(sim[10:])
    return out


def synthetic_vectors(n: int, seed: int = 11) -> np.ndarray:
    real = np.load(VECTORS).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = np.arange(start, min(n, start + 100_000))
        block = real[rows % real.shape[0]].copy()
        derived = rows >= real.shape[0]
        noise = real[rng.integers(0, real.shape[0], rows.size)] * 0.35
        noise += rng.normal(0, 0.02, size=noise.shape).astype(np.float32)
        block[derived] += noise[derived]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[rows] = block
    return out


def million_db(path: Path, records: list[dict[str, Any]], progress: Callable[[str], None]) -> str:
    """The 1M-paper SQLite database (kept between runs: it takes minutes to build)."""
    url = f"sqlite:///{path}"
    total = REPLICAS * len(records)
    if path.exists():
        with make_engine(url).connect() as conn:
            if conn.execute(text("SELECT count(*) FROM papers")).scalar() == total:
                return url
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    for k in range(REPLICAS):
        rows = [
            {
                "source": "bench",
                "source_id": f"{k}:{r['id']}",
                "arxiv_id": r["id"] if k == 0 else None,
                "title": r["title"],
                "abstract": r["abstract"],
                "authors": r["authors"],
                "categories": r["categories"],
                "primary_category": r["primary_category"],
                "announced_date": date.fromisoformat(r["announced_date"])
                if r.get("announced_date")
                else None,
                "text_hash": paper_text_hash(r["title"], r["abstract"]),
            }
            for r in records
        ]
        with engine.begin() as conn:
            conn.execute(insert(Paper), rows)
        progress(f"  1M database: {(k + 1) * len(records):,} papers ({time.perf_counter() - started:.0f} s)")
    return url


def run_1m(
    cache: Path,
    encoder: Any,
    n_queries: int,
    records: list[dict[str, Any]],
    log: Callable[[str], None],
    rebuild: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"database": "SQLite", "papers": REPLICAS * len(records)}
    started = time.perf_counter()
    url = million_db(cache / "search-1m.db", records, log)
    out["db_ready_s"] = time.perf_counter() - started
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        ids = np.asarray(session.execute(select(Paper.id).order_by(Paper.id)).scalars().all(), dtype=np.int64)
        if not session.scalar(select(func.count()).select_from(Topic)):
            session.close()
            topic_id = add_topic(factory)
        else:
            topic_id = int(session.scalar(select(Topic.id)) or 0)
    vectors = synthetic_vectors(ids.size)
    saved, timing = cache / "search-1m.faiss", cache / "search-1m.build.json"
    if not rebuild and saved.exists() and timing.exists():
        log(
            "  1M vectors ready; loading the IVF-SQ8 index built by an earlier run (--rebuild-index rebuilds)"
        )
        approx = VectorIndex.load(saved)
        approx.calibrate(ids, vectors)  # with this version's calibration rule
        out["ivf_build_s"] = json.loads(timing.read_text())["seconds"]
    else:
        log(f"  1M vectors ready ({vectors.nbytes / 1e9:.2f} GB float32); building IVF-SQ8")
        started = time.perf_counter()
        approx = VectorIndex.build(ids, vectors, model_name=MODEL, exact_threshold=50_000)
        out["ivf_build_s"] = time.perf_counter() - started
        approx.save(saved)
        timing.write_text(json.dumps({"seconds": out["ivf_build_s"]}))
    out["ivf"] = {
        "nlist": approx.info.nlist,
        "nprobe": approx.nprobe,
        "calibration_recall": approx.info.recall_at_10,
    }
    queries = workload(records, n_queries, topic_id)
    out["latency_ms"] = {}
    measure_ivf(factory, encoder, approx, vectors, ids, queries, out)
    del vectors
    out["latency_ms"]["keyword_only"] = time_queries(factory, queries, None, None)
    return out


def postgres_url() -> tuple[str, Any] | None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"pt_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", admin
    except Exception as exc:  # not reachable: the PostgreSQL figures are skipped
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipping it")
        return None


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        "## Search",
        "",
        f"Command: `{command}`  ",
        f"Machine: {result['machine']}. Latency = `hybrid_search` end to end (query encoding by the real "
        "model, vector search, keyword search, fusion, filters), limit 20, "
        f"{result['queries']} mixed queries (multi-word, one word, quoted phrase, arXiv id, 20 % with a "
        "topic/date/category filter), timed on a second pass after an untimed one. Recall@10: IVF-SQ8 "
        "against exact search for the encoded text queries. The machine is shared with other work: one "
        "run, percentiles as measured.",
        "",
        "| corpus | database | vector index | p50 ms | p95 ms | p99 ms | p95 unfiltered / filtered | "
        "recall@10 (text queries) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        ivf, sweep = run["ivf"], run["recall_at_10_text_queries"]
        names = {
            "hybrid_exact": ("exact", ""),
            "hybrid_ivf": (
                f"IVF-SQ8 {ivf['nlist']} cells, nprobe {ivf['nprobe']} (calibrated)",
                ivf["nprobe"],
            ),
            "hybrid_ivf_text_nprobe": (f"IVF-SQ8, nprobe {ivf['text_nprobe']}", ivf["text_nprobe"]),
            "keyword_only": ("none: keyword only", ""),
            "similar_papers": ("exact: similar papers", ""),
        }
        for mode, lat in run["latency_ms"].items():
            label, nprobe = names[mode]
            recall = f"{sweep[nprobe]:.3f}" if nprobe != "" else ""
            split = (
                f"{lat['p95_unfiltered']:.1f} / {lat['p95_filtered']:.1f}" if "p95_filtered" in lat else ""
            )
            lines.append(
                f"| {run['papers']:,} papers | {run['database']} | {label} | {lat['p50']:.1f} | "
                f"{lat['p95']:.1f} | {lat['p99']:.1f} | {split} | {recall} |"
            )
    lines.append("")
    for run in result["runs"]:
        enc, vec, ivf = run["parts_ms"]["encode_ms"], run["parts_ms"]["vector_search_ms"], run["ivf"]
        sweep = ", ".join(f"{n}: {r:.3f}" for n, r in sorted(run["recall_at_10_text_queries"].items()))
        extra = (
            f"; ingest {run['ingest_s']:.1f} s, full-text fill {run['fulltext_fill_s']:.1f} s, "
            f"vector import {run['import_s']:.1f} s"
            if "ingest_s" in run
            else ""
        )
        lines.append(
            f"- {run['papers']:,} papers, {run['database']}: query encoding p50 {enc['p50']:.1f} / p95 "
            f"{enc['p95']:.1f} ms; vector search (k=100) p50 {vec['p50']:.2f} / p95 {vec['p95']:.2f} ms; "
            f"IVF build {run['ivf_build_s']:.0f} s, calibrated nprobe {ivf['nprobe']} (recall@10 of paper "
            f"queries {ivf['calibration_recall']:.3f}); text-query recall@10 by nprobe: {sweep}{extra}"
        )
    return "\n".join(lines)


def write_section(name: str, body: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n"  # re-read right before writing
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    tmp = DOC.with_name(f".{DOC.name}.{os.getpid()}.tmp")
    tmp.write_text(updated)
    tmp.replace(DOC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25k,1m", help="comma list of 25k and 1m")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL 25k run")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="keeps the 1M database")
    parser.add_argument("--rebuild-index", action="store_true", help="rebuild the cached 1M index")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--no-write", action="store_true", help="leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    for needed in (PAPERS, VECTORS, IDS):
        if not needed.exists():
            sys.exit(f"bench/search.py: {needed} not found (the shared 25k sample and its vectors)")
    sizes = {s.strip().lower() for s in args.sizes.split(",")}
    encoder = SentenceTransformerEncoder(bundled_model_path() or "")
    encoder.load()
    encoder.encode(["warm up the model"])
    records = load_records()
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "queries": args.queries,
        "runs": [],
    }
    log = lambda message: print(message, flush=True)  # noqa: E731
    if "25k" in sizes:
        with tempfile.TemporaryDirectory() as folder:
            log("25k papers, SQLite")
            result["runs"].append(
                run_25k(f"sqlite:///{folder}/s.db", "SQLite", encoder, args.queries, records)
            )
        pg = None if args.no_postgres else postgres_url()
        if pg:
            url, admin = pg
            log("25k papers, PostgreSQL")
            try:
                result["runs"].append(run_25k(url, "PostgreSQL", encoder, args.queries, records))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    if "1m" in sizes:
        log("1M papers, SQLite")
        result["runs"].append(run_1m(args.cache, encoder, args.queries, records, log, args.rebuild_index))
    command = ("python bench/search.py " + " ".join(sys.argv[1:])).strip()
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    body = markdown(result, command)
    print(body)
    if not args.no_write:
        write_section("search", body)


if __name__ == "__main__":
    main()
