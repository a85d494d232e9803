"""Benchmark: digests for 10,000 subscribers over the 25k arXiv sample, from build to a local SMTP sink.

Setup (not timed): a scratch SQLite database (or --database-url) with the 25,000 real papers of
../shared/data, their shared all-MiniLM-L6-v2 vectors, 60 topics from k-means on those vectors
(top-2 assignments per paper), trending scores for the recent papers, and N subscribers with
varied preferences: 1-4 topics (80%), keywords (40%), an interest vector (30%, the vector of a
real paper, as if its title had been typed), "more like this" feedback (20%), a muted topic (10%),
time zones around the world with send hours already reached, 5-15 papers, daily (85%) or weekly.

Timed phases, each with what the product runs:
  build    `build_due_digests`: due subscribers, candidate pool, ranking, Digest + DigestItem rows;
  render   `queue_digests`: HTML (inlined CSS) + text per digest, Delivery rows;
  deliver  `deliver_outbox`: claim with leases, build each MIME message, send over SMTP to an
           aiosmtpd sink in a separate process (127.0.0.1), record each reply.
Digests per second per phase and overall (N / sum of phases), CPU seconds of this process and of the
sink, peak RSS. The timed phases run --repeats times on the same data (digests and emails deleted in
between); each figure is the median over the rounds (the machine is shared and noisy).

    .venv/bin/python bench/mail.py [--subscribers 10000] [--repeats 3] [--concurrency 4] [--dkim]
                                   [--database-url URL] [--json-out FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from app.config import load_settings  # noqa: E402
from app.db import Base, make_engine, make_session_factory, session_scope  # noqa: E402
from app.digest.service import DigestOptions, build_due_digests  # noqa: E402
from app.embed.service import load_vectors  # noqa: E402
from app.embed.vectors import to_bytes  # noqa: E402
from app.ingest.records import paper_text_hash  # noqa: E402
from app.mail.compose import MailSetup  # noqa: E402
from app.mail.flows import deliver_outbox  # noqa: E402
from app.mail.policy import DeliveryPolicy  # noqa: E402
from app.mail.senders import SmtpConfig, SmtpSender  # noqa: E402
from app.mail.service import queue_digests  # noqa: E402
from app.models import (  # noqa: E402
    Embedding,
    Feedback,
    Paper,
    PaperScore,
    PaperTopic,
    Subscriber,
    SubscriberTopic,
    Topic,
)
from app.models.digest import DeliveryContent  # noqa: E402
from bench._report import write_section  # noqa: E402
from bench._sample import IDS, PAPERS, VECTORS  # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
MODEL = "all-MiniLM-L6-v2"
NOW = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # the evening of the sample's last announcement day
ZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Asia/Shanghai", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"]  # fmt: skip
KEYWORDS = ["diffusion", "reinforcement learning", "quantization", "retrieval", "graph neural network",
            "speculative decoding", "benchmark", "robot", "federated", "transformer", "segmentation",
            "large language model", "agent", "privacy", "3D"]  # fmt: skip


# Sink ---------------------------------------------------------------------------------------


def _sink(port_out: Any, stop: Any, counts: Any) -> None:
    """An aiosmtpd server that accepts and counts every message (runs in its own process)."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            counts[0] += 1
            counts[1] += len(envelope.original_content or b"")
            return "250 2.0.0 Ok"

    class PortZero(Controller):
        def _create_server(self) -> Any:
            async def create() -> Any:
                server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=0)
                self.port = server.sockets[0].getsockname()[1]
                return server

            return create()

    controller = PortZero(Counting(), hostname="127.0.0.1", port=0)
    controller.start()
    port_out.put(controller.port)
    stop.wait()
    controller.stop()
    counts[2] = int(time.process_time() * 1000)  # the sink's CPU time, to tell its share from ours


# Setup --------------------------------------------------------------------------------------


def load_papers(session: Any) -> dict[str, int]:
    rows = []
    with gzip.open(PAPERS, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rows.append(
                {
                    "source": "arxiv_api", "source_id": r["id"], "arxiv_id": r["id"], "title": r["title"],
                    "abstract": r["abstract"], "authors": r["authors"], "categories": r["categories"],
                    "primary_category": r["primary_category"],
                    "announced_date": date.fromisoformat(r["announced_date"]),
                    "abs_url": f"https://arxiv.org/abs/{r['id']}",
                    "text_hash": paper_text_hash(r["title"], r["abstract"]),
                    "upvotes": 10 + (hash(r["id"]) % 90) if r.get("hf_daily_listed") else None,
                    "created_at": NOW - timedelta(days=60),
                }
            )  # fmt: skip
    for start in range(0, len(rows), 2000):
        session.execute(insert(Paper), rows[start : start + 2000])
    return {arxiv_id: pid for arxiv_id, pid in session.execute(select(Paper.arxiv_id, Paper.id))}


def load_vectors_and_topics(
    session: Any, ids: dict[str, int], k: int, rng: np.random.Generator
) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans

    matrix = np.load(VECTORS).astype(np.float32)
    order = [ids[line.strip()] for line in IDS.read_text().splitlines() if line.strip()]
    emb_rows = [
        {
            "paper_id": pid,
            "model": MODEL,
            "text_hash": "bench",
            "dim": matrix.shape[1],
            "vector": to_bytes(matrix[i]),
        }
        for i, pid in enumerate(order)
    ]
    for start in range(0, len(emb_rows), 2000):
        session.execute(insert(Embedding), emb_rows[start : start + 2000])
    km = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=4096).fit(matrix)
    centroids = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    session.execute(
        insert(Topic), [{"slug": f"topic-{t}", "label": f"Topic {t}", "size": 0} for t in range(k)]
    )
    topic_ids = list(session.execute(select(Topic.id).order_by(Topic.id)).scalars())
    sims = matrix @ centroids.T
    top2 = np.argsort(-sims, axis=1)[:, :2]
    pt_rows = [
        {"paper_id": pid, "topic_id": topic_ids[int(t)], "score": float(max(0.05, min(1.0, sims[i, t])))}
        for i, pid in enumerate(order)
        for t in top2[i]
    ]
    for start in range(0, len(pt_rows), 5000):
        session.execute(insert(PaperTopic), pt_rows[start : start + 5000])
    recent = session.execute(
        select(Paper.id).where(Paper.announced_date >= (NOW - timedelta(days=10)).date())
    )
    scores = [{"paper_id": pid, "window": "day", "score": float(rng.lognormal(0, 1)), "components": {}}
              for pid in recent.scalars() if rng.random() < 0.6]  # fmt: skip
    session.execute(insert(PaperScore), scores)
    return matrix


def make_subscribers(
    session: Any, n: int, k: int, vectors: np.ndarray, ids: dict[str, int], rng: random.Random
) -> None:
    topic_ids = list(session.execute(select(Topic.id)).scalars())
    paper_ids = list(ids.values())
    order = [ids[line.strip()] for line in IDS.read_text().splitlines() if line.strip()]
    subs, topics, feedback = [], [], []
    for i in range(n):
        zone = rng.choice(ZONES)
        local_hour = NOW.astimezone(ZoneInfo(zone)).hour
        row: dict[str, Any] = {
            "email": f"reader{i:05d}@bench.example.org", "status": "confirmed", "link_key": f"k{i:08d}",
            "frequency": "weekly" if rng.random() < 0.15 else "daily",
            "send_hour": rng.randint(0, local_hour),
            "timezone": zone, "max_papers": rng.randint(5, 15), "include_trending": rng.random() < 0.7,
            "keywords": rng.sample(KEYWORDS, rng.randint(1, 3)) if rng.random() < 0.4 else [],
            "confirmed_at": NOW - timedelta(days=30),
        }  # fmt: skip
        if rng.random() < 0.3:
            j = rng.randrange(len(order))
            row["interest_text"] = f"like paper {order[j]}"
            row["interest_vector"] = vectors[j].astype(np.float32).tobytes()
            row["interest_model"] = MODEL
        subs.append(row)
    session.execute(insert(Subscriber), subs)
    sub_ids = list(session.execute(select(Subscriber.id).order_by(Subscriber.id)).scalars())
    for sid in sub_ids:
        if rng.random() < 0.8:
            topics += [
                {"subscriber_id": sid, "topic_id": t} for t in rng.sample(topic_ids, rng.randint(1, 4))
            ]
        if rng.random() < 0.2:
            feedback += [
                {"subscriber_id": sid, "kind": "more", "paper_id": p} for p in rng.sample(paper_ids, 2)
            ]
        if rng.random() < 0.1:
            feedback.append({"subscriber_id": sid, "kind": "mute", "topic_id": rng.choice(topic_ids)})
    session.execute(insert(SubscriberTopic), topics)
    session.execute(insert(Feedback), feedback)


# Run ----------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    for path in (PAPERS, VECTORS, IDS):
        if not path.exists():
            sys.exit(f"bench/mail.py: data file not found: {path}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine) if args.database_url else None
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with session_scope(factory) as s:
        ids = load_papers(s)
        vectors = load_vectors_and_topics(s, ids, 60, np.random.default_rng(0))
        make_subscribers(s, args.subscribers, 60, vectors, ids, random.Random(0))
    del vectors
    setup_s = time.perf_counter() - started
    print(f"setup: {len(ids)} papers, {args.subscribers} subscribers ({setup_s:.0f}s)", flush=True)

    overrides: dict[str, Any] = {"var_dir": tmp, "secret_key": "bench-" + "x" * 40,
                                 "base_url": "https://papers.example.org",
                                 "mail_from": "papertrend <digest@papers.example.org>"}  # fmt: skip
    if args.dkim:
        key = str(ROOT / "tests/fixtures/dkim/test_private.pem")
        overrides |= {
            "dkim_domain": "papers.example.org",
            "dkim_selector": "bench",
            "dkim_private_key_path": key,
        }
    settings = load_settings(**overrides)
    ctx = mp.get_context("spawn")
    port_q, stop, counts = ctx.Queue(), ctx.Event(), ctx.Array("q", 3)
    sink = ctx.Process(target=_sink, args=(port_q, stop, counts), daemon=True)
    sink.start()
    port = port_q.get(timeout=30)
    rss: dict[str, float] = {"setup": peak_rss_mb()}
    load_before = os.getloadavg()[0]
    rounds = [run_round(factory, settings, port, args, counts, i) for i in range(args.repeats)]
    rss["phases"] = peak_rss_mb()
    stop.set()
    sink.join(timeout=30)
    sink_cpu = counts[2] / 1000
    with session_scope(factory) as s:
        html = DeliveryContent.body_html
        html_bytes = s.execute(select(func.avg(func.length(html)), func.max(func.length(html)))).one()
    engine.dispose()
    built = rounds[0]["digests"]
    phases = {k: statistics.median(r["seconds"][k] for r in rounds) for k in ("build", "render", "deliver")}
    cpu = {k: statistics.median(r["cpu"][k] for r in rounds) for k in ("build", "render", "deliver")}
    overall = [r["digests"] / sum(r["seconds"].values()) for r in rounds]
    return {
        "subscribers": args.subscribers,
        "repeats": args.repeats,
        "digests": built,
        "queued": rounds[0]["queued"],
        "sent": rounds[0]["sent"],
        "sink_received": int(counts[0]),
        "seconds": {k: round(v, 2) for k, v in phases.items()},
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()}
        | {"sink_per_round": round(sink_cpu / len(rounds), 2)},
        "overall_per_round": [round(x, 1) for x in overall],
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "per_second": {k: round(built / v, 1) for k, v in phases.items()}
        | {"overall": round(statistics.median(overall), 1)},
        "peak_rss_mb": {k: round(v) for k, v in rss.items()},
        "html_bytes": {"mean": round(float(html_bytes[0] or 0)), "max": int(html_bytes[1] or 0)},
        "setup_s": round(setup_s, 1),
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "concurrency": args.concurrency,
        "dkim": args.dkim,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}",
    }


def reset(factory: Any) -> None:
    """Forget the digests and emails of the previous round (same subscribers, same papers)."""
    with session_scope(factory) as s:
        for table in ("delivery_contents", "deliveries", "digest_items", "digests"):
            s.execute(text(f"DELETE FROM {table}"))
        s.execute(text("UPDATE subscribers SET last_digest_at = NULL"))


def run_round(
    factory: Any, settings: Any, port: int, args: argparse.Namespace, counts: Any, i: int
) -> dict[str, Any]:
    if i:
        reset(factory)
    setup = MailSetup.from_settings(settings)  # fresh caches: every round renders from scratch
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}

    t, c = time.perf_counter(), time.process_time()
    with session_scope(factory) as s:
        report = build_due_digests(
            s, now=NOW, options=DigestOptions(model_name=MODEL), load_vectors=load_vectors
        )
    seconds["build"], cpu["build"] = time.perf_counter() - t, time.process_time() - c
    digests = len(report.digests)

    t, c = time.perf_counter(), time.process_time()
    with session_scope(factory) as s:
        queued = queue_digests(s, setup, report.digests, NOW)
    seconds["render"], cpu["render"] = time.perf_counter() - t, time.process_time() - c
    del report

    before = counts[0]
    sender = SmtpSender(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"))
    policy = DeliveryPolicy(
        rate_per_second=1e6, daily_limit=10**9, concurrency=args.concurrency, batch_size=500, commit_every=250
    )
    t, c = time.perf_counter(), time.process_time()
    sent = deliver_outbox(factory, sender, setup, policy=policy, now=lambda: NOW)
    seconds["deliver"], cpu["deliver"] = time.perf_counter() - t, time.process_time() - c
    sender.close()
    received = counts[0] - before
    if not digests == queued == sent.sent == received:
        counted = f"{digests} built, {queued} queued, {sent.sent} sent, {received} received"
        sys.exit(f"bench/mail.py: round {i + 1} lost mail: {counted}")
    print(
        f"round {i + 1}: build {seconds['build']:.1f}s, render {seconds['render']:.1f}s, "
        f"deliver {seconds['deliver']:.1f}s: {digests / sum(seconds.values()):.0f} digests/s overall",
        flush=True,
    )
    return {"digests": digests, "queued": queued, "sent": sent.sent, "seconds": seconds, "cpu": cpu}


PHASES = {
    "build": "build: select, Digest + DigestItem rows",
    "render": "render: HTML + text, Delivery rows",
    "deliver": "deliver: claim, MIME, SMTP, record",
}


def markdown(r: dict[str, Any], command: str) -> str:
    ps, sec, cpu, n = r["per_second"], r["seconds"], r["cpu_seconds"], r["digests"]
    rounds = ", ".join(f"{x:,}" for x in r["overall_per_round"])
    total_cpu = round(sum(cpu[k] for k in PHASES), 2)
    load = r["load_average"]
    lines = [
        "## Digests: build, render, deliver",
        "",
        f"Command: `{command}`  ",
        f"Machine: {r['machine']}; {r['database']}; load average {load[0]} before the timed phases, "
        f"{load[1]} after (a shared machine: wall time includes waiting for a core).",
        f"{r['subscribers']:,} subscribers with varied preferences over the 25k arXiv sample (its shared "
        "all-MiniLM-L6-v2 vectors), first digests looking back 3 days of announcements; SMTP to an "
        f"aiosmtpd sink in another process on 127.0.0.1, {r['concurrency']} connections; "
        f"DKIM {'on' if r['dkim'] else 'off'}. {r['repeats']} rounds from the same data; medians per phase.",
        "",
        "| phase | wall s | digests/s (wall) | CPU s (this process) | digests per CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in PHASES.items():
        lines.append(f"| {label} | {sec[key]} | {ps[key]:,} | {cpu[key]} | {round(n / cpu[key]):,} |")
    wall = round(sum(sec.values()), 2)
    lines += [
        f"| **overall** (median round) | {wall} | **{ps['overall']:,}** | {total_cpu} | "
        f"{round(n / total_cpu):,} |",
        "",
        f"Overall per round: {rounds} digests/s (the median is the figure above). The sink used "
        f"{cpu['sink_per_round']} CPU s per round to receive the messages. Each round: {n:,} digests built, "
        f"{r['queued']:,} queued, {r['sent']:,} sent and received. HTML per email: mean "
        f"{r['html_bytes']['mean']:,} bytes, max {r['html_bytes']['max']:,} (limit 100 KB). Peak RSS of "
        f"the benchmark process: {r['peak_rss_mb']['phases']} MB ({r['peak_rss_mb']['setup']} MB after "
        "loading the data). Target: at least 300 digests/s overall.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="Rounds; each phase is reported as a median.")
    parser.add_argument("--dkim", action="store_true", help="Sign every message with the test DKIM key.")
    parser.add_argument("--database-url", default="", help="A PostgreSQL URL (its tables are dropped!).")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/BENCHMARKS.md.")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))
    if not args.no_write:
        command = "python bench/mail.py " + " ".join(sys.argv[1:])
        write_section("mail", markdown(result, command.strip()))


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
