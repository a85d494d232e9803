"""Topic identity through the product's service, for bench/topics.py (a helper, not a benchmark).

Papers and their precomputed vectors go into a scratch SQLite database; `build_topics`,
`assign_new_papers` and `needs_rebuild` run exactly as the pipeline runs them.
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.db import Base, make_engine, make_session_factory, session_scope
from app.embed.vectors import to_bytes
from app.models import Embedding, Paper, Topic
from app.topics.service import assign_new_papers, build_topics, needs_rebuild

MODEL = "all-MiniLM-L6-v2"
Echo = Callable[[str], None]


def _insert(session: Session, rows: list[dict[str, Any]], vectors: np.ndarray, indices: list[int]) -> None:
    papers = []
    for i in indices:
        r = rows[i]
        text_hash = hashlib.sha256((r["title"] + ". " + r["abstract"]).encode()).hexdigest()
        papers.append(
            {
                "source": "arxiv",
                "source_id": r["id"],
                "arxiv_id": r["id"],
                "title": r["title"],
                "abstract": r["abstract"],
                "authors": r.get("authors") or [],
                "categories": r.get("categories") or [],
                "primary_category": r.get("primary_category"),
                "announced_date": date.fromisoformat(r["announced_date"]),
                "text_hash": text_hash,
                "raw": {},
                "keywords": [],
            }
        )
    for start in range(0, len(papers), 2000):
        session.execute(insert(Paper), papers[start : start + 2000])
    ids = dict(session.execute(select(Paper.arxiv_id, Paper.id)).tuples().all())
    embeddings = [
        {
            "paper_id": ids[rows[i]["id"]],
            "model": MODEL,
            "text_hash": papers[k]["text_hash"],
            "dim": vectors.shape[1],
            "vector": to_bytes(vectors[i]),
        }
        for k, i in enumerate(indices)
    ]
    for start in range(0, len(embeddings), 2000):
        session.execute(insert(Embedding), embeddings[start : start + 2000])


def _live(session: Session) -> dict[int, str]:
    return {
        t.id: t.label
        for t in session.scalars(select(Topic))
        if t.status in {"active", "emerging"} and not t.manual and not t.hidden
    }


def _kept(before: dict[int, str], after: dict[int, str]) -> tuple[float, float]:
    """Shares of `before` topics alive in `after` with the same id, and with the same id and label."""
    if not before:
        return 1.0, 1.0
    ids = sum(1 for i in before if i in after) / len(before)
    labels = sum(1 for i, label in before.items() if after.get(i) == label) / len(before)
    return ids, labels


def _build(session: Session, seed: int, now: datetime) -> float:
    started = time.perf_counter()
    build_topics(session, model_name=MODEL, seed=seed, n_areas=None, max_techniques=None, now=now)
    return time.perf_counter() - started


def rebuild_figures(
    rows: list[dict[str, Any]], vectors: np.ndarray, *, seed: int, echo: Echo
) -> dict[str, Any]:
    """Build, rebuild with the same seed, rebuild with another seed: the share of ids (and labels) kept."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        now = datetime(2026, 7, 2, 6, tzinfo=UTC)
        with session_scope(factory) as session:
            _insert(session, rows, vectors, list(range(len(rows))))
        out: dict[str, Any] = {}
        with session_scope(factory) as session:
            out["first_build_s"] = _build(session, seed, now)
            first = _live(session)
        echo(f"  service build of {len(rows)} papers: {out['first_build_s']:.1f}s, {len(first)} topics")
        with session_scope(factory) as session:
            out["same_seed_build_s"] = _build(session, seed, now + timedelta(days=7))
            same = _live(session)
        out["same_seed"] = _kept(first, same)
        with session_scope(factory) as session:
            _build(session, seed + 1, now + timedelta(days=14))
            other = _live(session)
        out["other_seed"] = _kept(same, other)
        out["topics"] = len(first)
        engine.dispose()
        return out


def replay_figures(
    rows: list[dict[str, Any]], vectors: np.ndarray, *, seed: int, days: int, policy: str, echo: Echo
) -> dict[str, Any]:
    """Replay the last `days` announcement days one by one; after each, compare with the day before."""
    all_days = sorted({r["announced_date"] for r in rows})
    replay = all_days[-days:]
    by_day: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_day.setdefault(r["announced_date"], []).append(i)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'replay.db'}")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        start = datetime.fromisoformat(replay[0]).replace(tzinfo=UTC)
        with session_scope(factory) as session:
            _insert(
                session, rows, vectors, [i for i, r in enumerate(rows) if r["announced_date"] < replay[0]]
            )
            _build(session, seed, start - timedelta(hours=18))
            previous = _live(session)
        steps = []
        for day in replay:
            now = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=6)
            with session_scope(factory) as session:
                _insert(session, rows, vectors, by_day[day])
                started = time.perf_counter()
                rebuild = policy == "daily" or needs_rebuild(session, now=now, model_name=MODEL)
                if rebuild:
                    build_topics(
                        session, model_name=MODEL, seed=seed, n_areas=None, max_techniques=None, now=now
                    )
                else:
                    assign_new_papers(session, model_name=MODEL, now=now)
                seconds = time.perf_counter() - started
                current = _live(session)
            ids, labels = _kept(previous, current)
            steps.append({"day": day, "papers": len(by_day[day]), "rebuild": rebuild, "seconds": seconds,
                          "ids": ids, "labels": labels, "topics": len(current)})  # fmt: skip
            echo(
                f"  {day}: +{len(by_day[day])} papers, {'rebuild' if rebuild else 'assign '} "
                f"{seconds:5.1f}s, {len(current)} topics, ids kept {ids:.1%}, ids+labels kept {labels:.1%}"
            )
            previous = current
        engine.dispose()
    rebuilds = [s for s in steps if s["rebuild"]]
    assigns = [s for s in steps if not s["rebuild"]]
    return {
        "policy": policy,
        "days": replay,
        "steps": steps,
        "median_labels": statistics.median(s["labels"] for s in steps),
        "min_labels": min(s["labels"] for s in steps),
        "mean_labels": statistics.fmean(s["labels"] for s in steps),
        "min_labels_rebuild": min((s["labels"] for s in rebuilds), default=None),
        "rebuild_seconds": statistics.median(s["seconds"] for s in rebuilds) if rebuilds else None,
        "assign_seconds": statistics.median(s["seconds"] for s in assigns) if assigns else None,
    }
