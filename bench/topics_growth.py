"""Benchmark: how the topic build grows with the corpus (25k, 100k, 250k papers).

A corpus larger than the 25k arXiv sample is made by resampling it: each extra copy of a paper gets
its vector jittered (Gaussian noise of norm about 0.15, then renormalised: cosine about 0.99 to the
original) and its announcement date shifted by a whole number of 17-month periods, so the texts repeat
but the vectors, and hence the clusters, do not coincide. Every size runs in a fresh process (its peak
resident memory is that process's), building the whole model in process: phrases, areas, subtopics,
techniques, names (`build_topic_model`). Target: 250k papers in under 2 minutes; cost about linear.

    .venv/bin/python bench/topics_growth.py [--sizes 25000,100000,250000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import write_section  # noqa: E402
from bench._sample import IDS, PAPERS, VECTORS, load_records  # noqa: E402

COMMAND = ".venv/bin/python bench/topics_growth.py"
JITTER = 0.15


def corpus(n: int) -> tuple[np.ndarray, list[str], list[str]]:
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
    return x, [rows[i]["title"] for i in pick], [rows[i]["abstract"] for i in pick]


def worker(n: int) -> None:
    from app.topics.model import build_topic_model

    x, titles, abstracts = corpus(n)
    started, cpu = time.perf_counter(), time.process_time()
    model = build_topic_model(x, titles, abstracts, seed=0)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    kinds = {k: len(model.of_kind(k)) for k in ("area", "subtopic", "technique")}  # type: ignore[arg-type]
    print(json.dumps({"n": n, "wall": wall, "cpu": cpu, "peak_mib": peak, **kinds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="25000,100000,250000")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"{n} papers ...", flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(n)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  {results[-1]}", flush=True)
    first = results[0]
    lines = [
        "## Topics: growth with the corpus",
        "",
        f"Command: `{COMMAND} --sizes {args.sizes}` ({os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; the machine is shared). Corpora above 25k papers are the "
        "sample resampled with jittered vectors (see the script). Build in process, one fresh process per "
        "size; peak memory is that process's resident peak, data included.",
        "",
        "| papers | wall | CPU | peak memory | areas | subtopics | techniques | wall per 1k papers "
        "(x of 25k's) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per = r["wall"] / r["n"] * 1000
        base = first["wall"] / first["n"] * 1000
        lines.append(
            f"| {r['n']:,} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {r['peak_mib']:.0f} MiB | {r['area']} | "
            f"{r['subtopic']} | {r['technique']} | {per:.2f} s ({per / base:.2f}x) |"
        )
    last = results[-1]
    met = last["n"] >= 250_000 and last["wall"] < 120
    lines += [
        "",
        f"Target: 250k papers in under 2 minutes: {'met' if met else 'not met'} "
        f"({last['wall']:.0f} s at {last['n']:,}). Linear growth would keep the last column at 1.0x.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("topics_growth", text)


if __name__ == "__main__":
    main()
