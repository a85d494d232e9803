"""Benchmark: the trending page and /api/v1/trending under 32 connections, next to a bare endpoint.

A scratch PostgreSQL database gets N synthetic papers (default 100,000) spread over a year,
30 topics with daily counts, and trending scores for every window, as the pipeline would
leave them. The real app (one uvicorn worker, response cache on) and a bare FastAPI app
answering {"ok": true} (one uvicorn worker) run as separate processes on 127.0.0.1; wrk
(`-t1 -c32 --latency`) loads each endpoint in turn, round after round, so all three see
the same machine conditions. Figures are medians over the rounds; they go to
docs/BENCHMARKS.md, section `web`, with the command.

    .venv/bin/python bench/web.py [--papers 100000] [--duration 10] [--rounds 3] [--no-write]

Needs PostgreSQL (TEST_POSTGRES_URL or the local server) and wrk (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bench._report import write_section  # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "web"
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
VOCABULARY = (
    "model learning neural network training data language vision graph reinforcement policy attention"
    " transformer diffusion quantization sparse robust efficient adaptive contrastive retrieval benchmark"
    " agent reasoning inference optimization gradient convergence kernel embedding representation"
)
WORDS = VOCABULARY.split()
END_DAY = date(2026, 11, 25)
BUILT = datetime(2026, 11, 25, 2, tzinfo=UTC)


# --- data ------------------------------------------------------------------------------------------


def topic_rows(rng: random.Random) -> list[dict[str, Any]]:
    first = datetime(2025, 11, 1, tzinfo=UTC)
    return [
        {
            "id": i + 1,
            "slug": f"topic-{i + 1}",
            "label": f"{WORDS[i % len(WORDS)].capitalize()} topic {i + 1}",
            "kind": "technique" if i % 5 == 0 else "area",
            "status": "active",
            "keywords": rng.sample(WORDS, 5),
            "size": 0,
            "momentum": round(rng.uniform(-3, 4), 2),
            "trend_state": "steady",
            "trend": {},
            "label_locked": False,
            "hidden": False,
            "pinned": False,
            "manual": False,
            "first_seen": first,
            "last_built": BUILT,
            "created_at": first,
        }
        for i in range(30)
    ]


def paper_row(i: int, rng: random.Random) -> dict[str, Any]:
    # More papers recently than a year ago, as in a growing field.
    day = END_DAY - timedelta(days=int(rng.random() ** 1.3 * 365))
    published = datetime.combine(day - timedelta(days=1), dtime(18), tzinfo=UTC) + timedelta(
        seconds=i % 86400
    )
    return {
        "id": i + 1,
        "source": "bench",
        "source_id": str(i),
        "arxiv_id": f"26{i // 100000:02d}.{i % 100000:05d}",
        "arxiv_version": 1,
        "title": " ".join(rng.sample(WORDS, 8)).capitalize(),
        "abstract": " ".join(rng.choice(WORDS) for _ in range(160)) + ".",
        "authors": [f"Author {rng.randint(1, 50000)}" for _ in range(rng.randint(1, 8))],
        "categories": ["cs.LG", "cs.CL"],
        "primary_category": "cs.LG",
        "published_at": published,
        "updated_at_source": published,
        "announced_date": day,
        "upvotes": rng.randint(0, 120) if rng.random() < 0.1 else None,
        "code_url": "https://github.com/example/x" if rng.random() < 0.2 else None,
        "keywords": [],
        "withdrawn": False,
        "raw": {},
        "text_hash": f"{i:064x}",
        "created_at": published,
        "updated_at": published,
    }


def score_rows(paper: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Trending scores of a paper for every window it falls in, with their named parts."""
    age = (END_DAY - paper["announced_date"]).days
    rows = []
    for window, days in (("day", 1), ("week", 7), ("month", 30)):
        if age >= days:
            continue
        parts = {
            "recency": round(0.3 * 0.5 ** (age / max(days / 3, 1)), 6),
            "upvotes": round(0.4 * min(1.0, (paper["upvotes"] or 0) / 100), 6),
            "topic_momentum": round(rng.uniform(0, 0.25), 6),
            "code": 0.1 if paper["code_url"] else 0.0,
        }
        components = {"parts": parts, "values": {}, "detail": {"age_days": age}}
        score = round(sum(parts.values()), 6)
        rows.append({"paper_id": paper["id"], "window": window, "score": score, "components": components})
    return rows


def load_papers(url: str, n: int, *, seed: int = 7) -> dict[str, Any]:
    """Write n papers, 30 topics, assignments, daily counts and window scores; return what it took."""
    from app.models import Paper, PaperScore, PaperTopic, Topic, TopicDailyCount

    rng = random.Random(seed)
    engine = create_engine(url)
    started = time.perf_counter()
    counts: dict[tuple[int, date], int] = {}
    with engine.begin() as conn:
        conn.execute(insert(Topic), topic_rows(rng))
        for start in range(0, n, 5000):
            papers = [paper_row(i, rng) for i in range(start, min(n, start + 5000))]
            links, scores = [], []
            for paper in papers:
                for topic_id in rng.sample(range(1, 31), rng.choice((1, 1, 2))):
                    links.append(
                        {
                            "paper_id": paper["id"],
                            "topic_id": topic_id,
                            "score": round(rng.uniform(0.3, 1), 3),
                        }
                    )
                    key = (topic_id, paper["announced_date"])
                    counts[key] = counts.get(key, 0) + 1
                scores += score_rows(paper, rng)
            conn.execute(insert(Paper), papers)
            conn.execute(insert(PaperTopic), links)
            if scores:
                conn.execute(insert(PaperScore), [{**row, "computed_at": BUILT} for row in scores])
        daily = [{"topic_id": t, "day": d, "count": c, "share": c / 300} for (t, d), c in counts.items()]
        conn.execute(insert(TopicDailyCount), daily)
        conn.execute(
            text("UPDATE topics SET size = (SELECT count(*) FROM paper_topics WHERE topic_id = topics.id)")
        )
        for table in ("papers", "topics"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return {"papers": n, "load_s": time.perf_counter() - started}


def scratch_database() -> tuple[str, str]:
    name = f"pt_bench_web_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


# --- servers ---------------------------------------------------------------------------------------


def serve(kind: str, port: int, url: str) -> None:
    """Run one server in this process (the child side of `start_server`)."""
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.get("/ok")
        async def ok() -> dict[str, bool]:
            return {"ok": True}

    else:
        from app.config import load_settings
        from app.main import create_app

        var = Path(tempfile.mkdtemp(prefix="pt-bench-web-"))
        settings = load_settings(database_url=url, var_dir=var, scheduler_enabled=False, log_level="WARNING")
        app = create_app(settings, load_search=False)
        # What create_app is to install: the site's error pages and the response cache's fast path.
        from app.browse.fastpath import ResponseCacheMiddleware, install_response_cache
        from app.web import install_error_pages

        if kind == "app":
            install_response_cache(app)
        else:  # the comparison row: the same app, every request routed
            app.user_middleware = [m for m in app.user_middleware if m.cls is not ResponseCacheMiddleware]
        if not hasattr(app.state, "html_error_renderer"):
            install_error_pages(app)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(kind: str, url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--url", url])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the {kind} server exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the {kind} server did not start within 60 s")


# --- load --------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, duration: int, connections: int = 32) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s", url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout  # fmt: skip
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    if "99" not in pct:
        raise SystemExit(f"wrk gave no latency distribution for {url}:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _ms(pct["50"]), "p99": _ms(pct["99"]), "errors": errors, "requests": requests}


def first_hit_ms(url: str, repeat: int = 5) -> float:
    """Median time of uncached renders: distinct pages, each asked once."""
    import httpx

    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        response = httpx.get(f"{url}{'&' if '?' in url else '?'}page={i + 2}", timeout=30)
        times.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return statistics.median(times)


# --- report ------------------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    load: dict[str, Any],
    rounds: dict[str, list[dict[str, float]]],
    misses: dict[str, float],
) -> str:
    def median_of(name: str, metric: str) -> float:
        return statistics.median(r[metric] for r in rounds[name])

    # The machine is shared and noisy: the ratio is taken within each round, then the median.
    bare = rounds["bare /ok"]
    machine = f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end"
    command = f"python bench/web.py --papers {args.papers} --duration {args.duration} --rounds {args.rounds}"
    lines = [
        "## web: trending page and API under load, next to a bare endpoint",
        "",
        f"Command: `{command}` ({machine}, Python {platform.python_version()}, PostgreSQL, one uvicorn worker"
        f" per server, `wrk -t1 -c32 -d{args.duration}s --latency`).",
        f"Data: {load['papers']:,} synthetic papers over a year, 30 topics, trending scores for each window"
        f" (loaded in {load['load_s']:.0f} s). Endpoints loaded in turn, {args.rounds} rounds; medians.",
        "",
        "| endpoint | requests/s | × bare (per round) | p50 | p99 | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in rounds.items():
        ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(results, bare, strict=True))
        errors = int(sum(r["errors"] for r in results))
        lines.append(
            f"| {name} | {median_of(name, 'rps'):,.0f} | {ratio:.2f} | {median_of(name, 'p50'):.1f} ms"
            f" | {median_of(name, 'p99'):.1f} ms | {errors} |"
        )
    per_round = "; ".join(k + ": " + ", ".join(f"{r['rps']:,.0f}" for r in v) for k, v in rounds.items())
    uncached = ", ".join(f"{k} {v:.0f} ms" for k, v in misses.items())
    lines += [
        "",
        f"Per round (requests/s): {per_round}.",
        f"Uncached render (median of 5 distinct pages, one request at a time): {uncached}.",
        "",
        "Targets: trending page ≥ 0.5× the bare endpoint's throughput, p99 < 100 ms, zero errors. Pages and"
        " API"
        " reads are served from the response cache, which each pipeline run invalidates (`bump_generation`);"
        " repeated URLs are answered by its fast path before routing (`install_response_cache`). The last row"
        " is the same app without the fast path (cache hit, but routed and validated by FastAPI).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument("--serve", choices=("app", "app-routed", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.url)
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    url, name = scratch_database()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        migrate(url)
        print(f"loading {args.papers:,} papers into {name} ...", flush=True)
        load = load_papers(url, args.papers)
        print(f"loaded in {load['load_s']:.1f} s", flush=True)
        app_proc, app_port = start_server("app", url)
        routed_proc, routed_port = start_server("app-routed", url)
        bare_proc, bare_port = start_server("bare", url)
        procs += [app_proc, routed_proc, bare_proc]
        targets = {
            "bare /ok": f"http://127.0.0.1:{bare_port}/ok",
            "trending page /": f"http://127.0.0.1:{app_port}/",
            "/api/v1/trending": f"http://127.0.0.1:{app_port}/api/v1/trending",
            "trending page /, no fast path": f"http://127.0.0.1:{routed_port}/",
        }
        misses = {"page": first_hit_ms(targets["trending page /"] + "?window=week"),
                  "API": first_hit_ms(targets["/api/v1/trending"] + "?window=week")}  # fmt: skip
        for target in targets.values():
            run_wrk(target, 2)  # warm-up: caches filled, connections and code paths hot
        rounds: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
        for i in range(args.rounds):
            for label, target in targets.items():
                result = run_wrk(target, args.duration)
                rounds[label].append(result)
                print(f"round {i + 1} {label}: {result['rps']:,.0f} req/s, p99 {result['p99']:.1f} ms, "
                      f"{int(result['errors'])} errors", flush=True)  # fmt: skip
        body = report(args, load, rounds, misses)
        print(body)
        if not args.no_write:
            write_section(SECTION, body)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_database(name)


if __name__ == "__main__":
    main()
