"""Benchmark: how the whole `papertrend topics build` command grows with the corpus (25k, 100k, 250k).

A corpus larger than the 25k arXiv sample is made by resampling it: each extra copy of a paper gets
its vector jittered (Gaussian noise of norm about 0.15, then renormalised: cosine about 0.99 to the
original) and its announcement date moved back by a whole number of 17-month periods (the sample's
span; copy k of the sample lies k periods earlier), so the texts repeat but the vectors, and hence the
clusters, do not coincide, and the trends see a longer history. For each size a scratch SQLite
database gets the papers and their vectors; then the command runs twice as a child process, as a
user runs it: a first build (every topic new), and a rebuild against the topics of the first (the
weekly case: topics keep their ids). Each figure is the command's own, from process start to exit:
wall time, CPU time and peak resident memory of that process (`bench/_command.py`). Target: a 250k
rebuild in under 2 minutes; cost about linear in the papers (seconds per 1k papers about flat).

    .venv/bin/python bench/topics_growth.py [--sizes 25000,100000,250000] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._command import CommandRun, papertrend, run_command  # noqa: E402
from bench._report import write_section  # noqa: E402
from bench._sample import IDS, PAPERS, VECTORS, load_records  # noqa: E402

COMMAND = ".venv/bin/python bench/topics_growth.py"
JITTER = 0.15
PERIOD_MONTHS = 17  # the sample spans 2025-03 to 2026-07
MODEL = "all-MiniLM-L6-v2"


def resample(n: int) -> tuple[np.ndarray, list[dict[str, Any]], np.ndarray]:
    """`n` papers: the sample first, then papers drawn from it at random. Returns the unit vectors,
    the sample's records, and which record each paper repeats."""
    rows = load_records(PAPERS)
    vectors = np.load(VECTORS).astype(np.float32)
    if IDS.read_text().split() != [r["id"] for r in rows]:
        raise SystemExit("embeddings and metadata are not in the same order")
    base = len(rows)
    rng = np.random.default_rng(7)
    pick = np.concatenate([np.arange(min(n, base)), rng.integers(0, base, size=max(0, n - base))])
    x = vectors[pick]
    extra = np.arange(len(pick)) >= base
    noise = rng.normal(size=(int(extra.sum()), x.shape[1])).astype(np.float32)
    x[extra] += noise * (JITTER / np.sqrt(x.shape[1]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, rows, pick


def corpus(n: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Vectors, titles and abstracts of the resampled corpus of `n` papers."""
    x, rows, pick = resample(n)
    return x, [rows[i]["title"] for i in pick.tolist()], [rows[i]["abstract"] for i in pick.tolist()]


def _earlier(day: date, periods: int) -> date:
    months = day.year * 12 + day.month - 1 - periods * PERIOD_MONTHS
    return date(months // 12, months % 12 + 1, min(day.day, 28))


def make_database(path: Path, n: int) -> float:
    """A migrated SQLite database with the resampled corpus of `n` papers and their vectors."""
    from sqlalchemy import func, insert, select

    from app.db import make_engine, make_session_factory, session_scope
    from app.embed.vectors import to_bytes
    from app.models import Embedding, Paper
    from app.readiness import upgrade_schema

    started = time.perf_counter()
    x, rows, pick = resample(n)
    base = len(rows)
    upgrade_schema(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    for lo in range(0, n, 25_000):
        papers, hashes = [], []
        for k in range(lo, min(n, lo + 25_000)):
            r = rows[int(pick[k])]
            copy = k // base
            day = date.fromisoformat(r["announced_date"])
            source_id = r["id"] if copy == 0 else f"{r['id']}-copy{copy}-{k}"
            text_hash = hashlib.sha256(f"{source_id}:{r['title']}. {r['abstract']}".encode()).hexdigest()
            hashes.append(text_hash)
            papers.append(
                {
                    "source": "arxiv",
                    "source_id": source_id,
                    "arxiv_id": source_id,
                    "title": r["title"],
                    "abstract": r["abstract"],
                    "authors": r.get("authors") or [],
                    "categories": r.get("categories") or [],
                    "primary_category": r.get("primary_category"),
                    "announced_date": day if copy == 0 else _earlier(day, copy),
                    "text_hash": text_hash,
                    "raw": {},
                    "keywords": [],
                }
            )
        with session_scope(factory) as session:
            last = session.scalar(select(func.max(Paper.id))) or 0
            for start in range(0, len(papers), 5000):
                session.execute(insert(Paper), papers[start : start + 5000])
            new_rows = session.execute(select(Paper.arxiv_id, Paper.id).where(Paper.id > last))
            ids = {arxiv_id: paper_id for arxiv_id, paper_id in new_rows}
            embeddings = [
                {
                    "paper_id": ids[p["arxiv_id"]],
                    "model": MODEL,
                    "text_hash": hashes[j],
                    "dim": x.shape[1],
                    "vector": to_bytes(x[lo + j]),
                }
                for j, p in enumerate(papers)
            ]
            for start in range(0, len(embeddings), 5000):
                session.execute(insert(Embedding), embeddings[start : start + 5000])
    engine.dispose()
    return time.perf_counter() - started


def measure(n: int, scratch: Path, echo: Any) -> dict[str, Any]:
    db = scratch / f"growth-{n}.db"
    echo(f"{n:,} papers: database ...")
    setup = make_database(db, n)
    echo(f"  made in {setup:.0f}s; first build ...")
    first: CommandRun = run_command([*papertrend(), "topics", "build"], database=db)
    echo(f"  first build {first.wall:.1f}s wall, {first.cpu:.1f}s CPU, {first.peak_mib:.0f} MiB; rebuild ...")
    again: CommandRun = run_command([*papertrend(), "topics", "build"], database=db)
    echo(f"  rebuild {again.wall:.1f}s wall, {again.cpu:.1f}s CPU, {again.peak_mib:.0f} MiB")
    echo("  " + " / ".join(again.output.strip().splitlines()[-2:]))
    db.unlink()
    return {
        "n": n,
        "first": first,
        "rebuild": again,
        "summary": again.output.strip().splitlines()[0] if again.output.strip() else "",
    }


def markdown(results: list[dict[str, Any]], sizes: str) -> str:
    first = results[0]
    lines = [
        "## Topics: growth with the corpus (the whole command)",
        "",
        f"Command: `{COMMAND} --sizes {sizes}` ({os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; the machine is shared). Each row is `papertrend topics build` "
        "as a child process on a scratch SQLite database holding that many papers and their vectors, from "
        "process start to exit (loading, clustering, naming, matching, database writes, trends refresh): a "
        "first build, then a rebuild against its topics (the weekly case). Peak memory is that process's "
        "resident peak. Corpora above 25k papers are the sample resampled with jittered vectors and dates "
        "moved back by whole 17-month periods (see the script).",
        "",
        "| papers | first build: wall | CPU | peak memory | rebuild: wall | CPU | peak memory "
        "| rebuild per 1k papers: wall (x of the first row's) | CPU (x) | topics |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = first["rebuild"].wall / first["n"] * 1000
    base_cpu = first["rebuild"].cpu / first["n"] * 1000
    for r in results:
        f, b = r["first"], r["rebuild"]
        per, per_cpu = b.wall / r["n"] * 1000, b.cpu / r["n"] * 1000
        counts = r["summary"].split("(", 1)[1].split(")", 1)[0] if "(" in r["summary"] else ""
        lines.append(
            f"| {r['n']:,} | {f.wall:.1f} s | {f.cpu:.1f} s | {f.peak_mib:.0f} MiB | **{b.wall:.1f} s** | "
            f"{b.cpu:.1f} s | {b.peak_mib:.0f} MiB | {per:.2f} s ({per / base:.2f}x) | "
            f"{per_cpu:.2f} s ({per_cpu / base_cpu:.2f}x) | {counts} |"
        )
    last = results[-1]
    met = last["n"] >= 250_000 and last["rebuild"].wall < 120
    lines += [
        "",
        f"Target: a 250k-paper rebuild in under 2 minutes: {'met' if met else 'not met'} "
        f"({last['rebuild'].wall:.0f} s at {last['n']:,}). Linear growth keeps the per-1k columns at 1.0x; "
        "above 1.0x the cost grows faster than the corpus (more areas and subtopics to split and name, "
        "more assignments to write). The CPU column is the steadier one: the wall time also holds the "
        "waits for a core that other processes of the shared machine cause, which vary from row to row.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="25000,100000,250000")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            results.append(measure(n, Path(tmp), lambda line: print(line, flush=True)))
    text = markdown(results, args.sizes)
    print(text)
    if not args.no_write:
        write_section("topics_growth", text)


if __name__ == "__main__":
    main()
