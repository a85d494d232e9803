"""Benchmark: file ingest of the 25k arXiv sample into SQLite and PostgreSQL, twice.

The first run inserts every paper; the second run reads the same file again and must write nothing
(every line's fingerprint is already stored) and be much faster. On PostgreSQL the full-text
vectors are not computed by the insert but right after it by the pipeline (and again by the index
step; `refresh_search_vectors`): that refresh is timed on its own, between the two runs, and shown
next to the ingest rate together with the combined "ingest + full-text" rate. Each database is a
fresh scratch one per repetition (a temporary SQLite file; a PostgreSQL database created and
dropped here). Figures (medians over the repetitions) go to docs/BENCHMARKS.md, section `ingest`,
with the command that produced them.

    .venv/bin/python bench/ingest.py [DATA.jsonl.gz] [--repeat 3] [--without-fulltext] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.embed.fulltext import refresh_search_vectors  # noqa: E402
from app.ingest.service import ingest_file  # noqa: E402
from app.models import Paper, PaperSource  # noqa: E402
from bench._report import write_section  # noqa: E402
from bench._sample import PAPERS  # noqa: E402

DEFAULT_DATA = PAPERS
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "ingest"


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)


@dataclass
class Run:
    seconds: float
    cpu: float  # this process's CPU time (SQLite's work included; PostgreSQL's server work not)
    papers: int
    new: int
    unchanged: int
    writes: int
    server_cpu: float | None = None  # the PostgreSQL backend's CPU time, when it runs on this machine
    refresh_seconds: float | None = None  # PostgreSQL: filling the full-text vectors afterwards
    refreshed: int = 0

    @property
    def rate(self) -> float:
        return self.papers / self.seconds


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) of a local PostgreSQL backend process, from /proc."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def state(engine: Engine) -> tuple[Any, ...]:
    """What the second run must leave untouched: row counts and the latest write times."""
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Paper)),
            conn.scalar(select(func.count()).select_from(PaperSource)),
            conn.scalar(select(func.max(Paper.updated_at))),
            conn.scalar(select(func.max(PaperSource.seen_at))),
        )


def ingest_once(engine: Engine, data: Path) -> Run:
    writes = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    factory = make_session_factory(engine)
    server_cpu = None
    with session_scope(factory) as session:
        backend = (
            session.scalar(text("SELECT pg_backend_pid()")) if engine.dialect.name == "postgresql" else None
        )
        server_before = backend_cpu(backend)
        started, cpu = time.perf_counter(), time.process_time()
        report = ingest_file(session, data)
        session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        server_after = backend_cpu(backend)
        if server_before is not None and server_after is not None:
            server_cpu = server_after - server_before
    event.remove(engine, "before_cursor_execute", count)
    if report.errors:
        raise SystemExit(f"unexpected errors: {report.errors[:3]}")
    return Run(seconds, cpu, report.fetched, report.new, report.unchanged, len(writes), server_cpu)


def refresh_once(engine: Engine, first: Run) -> None:
    """What the index step does after an ingest on PostgreSQL: fill the new full-text vectors."""
    with session_scope(make_session_factory(engine)) as session:
        started = time.perf_counter()
        first.refreshed = refresh_search_vectors(session)
        session.commit()
        first.refresh_seconds = time.perf_counter() - started


def bench_database(url: str, data: Path, revision: str) -> tuple[Run, Run, bool]:
    migrate(url, revision)
    engine = make_engine(url)
    try:
        first = ingest_once(engine, data)
        if engine.dialect.name == "postgresql" and revision == "head":
            refresh_once(engine, first)
        before = state(engine)
        second = ingest_once(engine, data)
        untouched = state(engine) == before and second.writes == 0 and second.new == 0
    finally:
        engine.dispose()
    return first, second, untouched


def sqlite_round(data: Path, revision: str) -> tuple[Run, Run, bool]:
    with tempfile.TemporaryDirectory() as folder:
        return bench_database(f"sqlite:///{folder}/bench.db", data, revision)


def postgres_round(data: Path, revision: str) -> tuple[Run, Run, bool]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"pt_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return bench_database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", data, revision)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_problem() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            version = conn.scalar(text("SHOW server_version"))
        engine.dispose()
        postgres_problem.version = str(version)  # type: ignore[attr-defined]
        return None
    except Exception as exc:  # any failure means PostgreSQL is not available here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _cpu(run: Run) -> float:
    return run.cpu + (run.server_cpu or 0.0)


def summarise(label: str, rounds: list[tuple[Run, Run, bool]]) -> tuple[str, list[str]]:
    first_s = statistics.median(r[0].seconds for r in rounds)
    first_cpu = statistics.median(_cpu(r[0]) for r in rounds)
    second_s = statistics.median(r[1].seconds for r in rounds)
    papers = rounds[0][0].papers
    writes = max(r[1].writes for r in rounds)
    untouched = all(r[2] for r in rounds)
    refreshes = [r[0].refresh_seconds for r in rounds if r[0].refresh_seconds is not None]
    if refreshes:
        refresh_s = statistics.median(refreshes)
        both_s = statistics.median(r[0].seconds + (r[0].refresh_seconds or 0.0) for r in rounds)
        fulltext = f"{refresh_s:.2f} s | {papers / both_s:,.0f}"
    elif "no full-text" in label:
        fulltext = "none | –"
    else:
        fulltext = f"in the insert | {papers / first_s:,.0f}"
    row = (
        f"| {label} | {papers:,} | {first_s:.2f} s | {papers / first_s:,.0f} | {first_cpu:.2f} s | "
        f"{papers / first_cpu:,.0f} | {fulltext} | {second_s:.2f} s | {papers / second_s:,.0f} | "
        f"{first_s / second_s:.1f}× | {writes} | {'yes' if untouched else 'NO'} |"
    )
    server = all(r[0].server_cpu is not None for r in rounds)
    cpu_text = ", ".join(
        f"{r[0].cpu:.2f}" + (f" + {r[0].server_cpu:.2f}" if r[0].server_cpu is not None else "")
        for r in rounds
    )
    detail = [
        f"- {label}: first runs {', '.join(f'{r[0].seconds:.2f}' for r in rounds)} s wall; CPU {cpu_text} s "
        f"({'this process + the PostgreSQL backend' if server else 'this process, SQLite included'}); "
        f"{rounds[0][0].new:,} new each in {rounds[0][0].writes} write statements. Second runs "
        f"{', '.join(f'{r[1].seconds:.2f}' for r in rounds)} s wall, {rounds[0][1].unchanged:,} unchanged."
        + (
            f" Full-text refresh {', '.join(f'{s:.2f}' for s in refreshes)} s wall, "
            f"{rounds[0][0].refreshed:,} vectors filled."
            if refreshes
            else ""
        )
    ]
    return row, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="JSONL(.gz) file of papers")
    parser.add_argument("--repeat", type=int, default=3, help="fresh databases per kind (median reported)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument(
        "--without-fulltext",
        action="store_true",
        help="also measure a schema without the full-text index (migration 0001 only), once per database",
    )
    args = parser.parse_args()
    if not args.data.exists():
        raise SystemExit(f"data file not found: {args.data} (pass its path as the first argument)")

    load_before = os.getloadavg()[0]
    rows, details = [], []
    kinds: list[tuple[str, Any, str, int]] = [("SQLite", sqlite_round, "head", args.repeat)]
    problem = postgres_problem()
    if problem is None:
        kinds.append(("PostgreSQL", postgres_round, "head", args.repeat))
    if args.without_fulltext:
        kinds.append(("SQLite, no full-text index", sqlite_round, "0001", 1))
        if problem is None:
            kinds.append(("PostgreSQL, no full-text index", postgres_round, "0001", 1))
    for label, round_fn, revision, repeat in kinds:
        rounds = []
        for n in range(repeat):
            rounds.append(round_fn(args.data, revision))
            first, second, ok = rounds[-1]
            refresh = (
                f"full-text refresh {first.refresh_seconds:.2f}s ({first.refreshed:,}), "
                if first.refresh_seconds is not None
                else ""
            )
            print(
                f"{label} #{n + 1}: first {first.seconds:.2f}s ({first.rate:,.0f}/s, cpu {first.cpu:.2f}s), "
                f"{refresh}"
                f"second {second.seconds:.2f}s ({second.rate:,.0f}/s), "
                f"writes {second.writes}, untouched {ok}",
                flush=True,
            )
        row, detail = summarise(label, rounds)
        rows.append(row)
        details.extend(detail)

    command = "python bench/ingest.py " + " ".join(sys.argv[1:]) if sys.argv[1:] else "python bench/ingest.py"
    versions = f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    if problem is None:
        versions += f", PostgreSQL {getattr(postgres_problem, 'version', '?')}"
    body = "\n".join(
        [
            "## ingest: file ingest of the 25k arXiv sample",
            "",
            f"Command: `{command}` ({args.repeat} fresh databases per kind, medians; "
            f"{os.cpu_count()} CPU cores, load average {load_before:.1f} at the start, {versions}).",
            f"Data: `{args.data.name}`. The second run reads the same file again. On SQLite the "
            "inserts include the full-text index (FTS5 table kept in step by triggers). On PostgreSQL "
            "an insert leaves the paper's `search_vector` NULL (migration 0003) and keyword search "
            "computes it on the fly; the pipeline, right after its ingest step (and the index step, "
            "`papertrend index rebuild` and `embed`), fills "
            "the NULL vectors in batches and the GIN index with them. That fill is timed separately "
            '("full-text fill", after the first run) and folded into "ingest + full-text": the '
            "first-run rate is the ingest command's alone.",
            "",
            "| database | papers | first run | papers/s | first run CPU | papers per CPU-second "
            "| full-text fill | ingest + full-text papers/s | second run "
            "| papers/s | speed-up | writes (2nd) | 2nd run wrote nothing |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            *details,
            "",
            "CPU is this process's time plus, for PostgreSQL, its server backend's (read from /proc): "
            "unlike wall time it does not depend on what else the machine runs.",
            "",
            "Targets: ≥ 2,000 papers/s on the first run (the ingest command); "
            "second run ≥ 5× faster and write-free "
            "(INSERT/UPDATE/DELETE statements counted on the connection; row counts and the latest "
            "`updated_at`/`seen_at` compared before and after).",
        ]
        + ([] if problem is None else ["", f"PostgreSQL skipped: {problem}"])
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)
        print(f"\nwritten to {DOC.relative_to(ROOT)} (section {SECTION})")


if __name__ == "__main__":
    main()
