"""Benchmark: does `papertrend trends --as-of` flag the title phrases whose share really moved?

One run, on the 25k arXiv sample (papers, precomputed MiniLM vectors) and the 75k title/date index of
the same crawl (../shared/data):

1. Ground truth, from the 75k index (three times the papers of the sample, so steadier shares): the
   title phrases (1-3 words, no stop word at either end) whose share of a calendar quarter's papers
   at least doubles, or at least halves, from one full quarter to the next, with at least 20 papers
   in the larger of the two. Phrases are compared by their stems (plural and -ing/-ed endings
   and -ic dropped). A phrase nested in a longer one that holds at least 80 % of its papers moves with it:
   the two are one shift, named by either.
2. The detector: topics built on the 25k sample with the product's own code (`build_topics` on a
   scratch SQLite database, exactly as `papertrend topics build` does; whatever the topic model of
   the day is), then `papertrend trends --as-of D --format json` run as a command for every month's
   last day and 4 weeks after each quarter's end.
3. A shift is *flagged* when, on some replay day from the first day of the quarter in which it
   became visible to 4 weeks after that quarter's end, a live topic that *names the phrase* is in
   the right state (rising or emerging for a doubling; falling for a halving; a burst is a
   one-week spike, not a quarter's move, and is counted apart). A topic
   names a phrase when the stems of its label include every stem of the phrase except stop words
   and "model", "LLM", "LM", "large", "AI" (a label may leave out what kind of model a paper uses):
   "Agents" names "agents" and "LLM agents" but not "web agents"; "Knowledge Graph" does not name
   "graph neural networks".
   Apart from topics, `trends` lists the title phrases whose own share moved (the same test, on the
   papers whose title writes the phrase): a shift that such a phrase names, in the right state, in
   the same window, is counted in its own rows (by a title phrase; by a topic or a title phrase).
4. False alarms: of the (topic, replay day) pairs in an up state, the share whose topic's share of
   the sample's papers in the 13 weeks up to that day (its reference day: the last day with
   papers, where the detector's windows end) moved less than +20 % against the 13 weeks before
   (the ground truth's own quarter-over-quarter measure, on the topic's papers).

    .venv/bin/python bench/trends.py [--data DIR] [--db PATH] [--no-write]

--db keeps the scratch database there (and reuses it when it already holds topics).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import write_section  # noqa: E402
from bench._sample import DATA, load_records  # noqa: E402

INDEX = "arxiv_cs_2025-03_to_2026-07_index75k.csv.gz"
SAMPLE = "arxiv_cs_2025-03_to_2026-07_sample25k.jsonl.gz"
VECTORS = "arxiv_cs_sample25k_minilm.f16.npy"
MODEL = "all-MiniLM-L6-v2"
MIN_PAPERS = 20
OVERLAP = 0.8
GRACE = timedelta(days=28)
FALSE_ALARM_MOVE = 0.20
# A naming topic "moved" when its own share of the sample changed by at least a third between the
# shift's two quarters (the quarter horizon's smallest reported ratio): a broader topic than the
# phrase may not move at all, and then no detector of topic shares can flag the shift.
TOPIC_MOVE = 4 / 3
UP = {"rising", "emerging"}  # a burst is a one-week spike, not a rise: counted apart
PAPERTREND = str(Path(sys.executable).parent / "papertrend")

# The benchmark's own word lists, not the product's: function words and title fillers end a phrase.
STOP = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    """via using based vs versus towards toward new novel study approach method methods framework
    does make making let lets need really matter matters simple better good best free""".split()  # noqa: SIM905
)
# Words that say what kind of model a paper is about, not its subject: a label may leave them out
# ("Agents" names "LLM agents", "Vision-Language Models" names "large vision-language models").
GENERIC = frozenset({"model", "llm", "lm", "large", "ai"})
_SPLIT = re.compile(r"[^a-z0-9\-\s]+")


def stem(word: str) -> str:
    """Plural, -ing, -ed and -ic endings dropped: "agents", "agentic" and "Agent" share a stem."""
    w = word.lower().strip("-")
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix, keep in (("ing", 4), ("ed", 4), ("ic", 5)):
        if len(w) - len(suffix) >= keep and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    return w


def phrases(title: str) -> dict[tuple[str, ...], str]:
    """Stemmed 1-3 word phrases of a title, each with its words as written (lower case); punctuation
    other than hyphens breaks a phrase."""
    out: dict[tuple[str, ...], str] = {}
    for segment in _SPLIT.split(title.lower()):
        words = [w for w in segment.split() if w.strip("-")]
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[0] in STOP or gram[-1] in STOP or gram[0].isdigit() or gram[-1].isdigit():
                    continue
                out.setdefault(tuple(stem(w) for w in gram), " ".join(gram))
    return out


def content(phrase: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for w in phrase if w not in STOP and w not in GENERIC)


def label_stems(label: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _SPLIT.sub(" ", label.lower()).split())


def names(label: str, phrase: tuple[str, ...]) -> bool:
    wanted = content(phrase)
    return bool(wanted) and wanted <= label_stems(label)


# Ground truth -----------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(q: tuple[int, int]) -> tuple[date, date]:
    start = date(q[0], 3 * q[1] - 2, 1)
    nxt = date(q[0] + (q[1] == 4), 1 if q[1] == 4 else 3 * q[1] + 1, 1)
    return start, nxt - timedelta(days=1)


def qname(q: tuple[int, int]) -> str:
    return f"{q[0]}Q{q[1]}"


@dataclass
class Shift:
    phrases: list[tuple[str, ...]]  # the first is the name
    surface: str
    before: tuple[int, int]
    after: tuple[int, int]
    direction: str  # up | down
    counts: tuple[int, int]
    shares: tuple[float, float]
    merged: list[str] = field(default_factory=list)  # nested phrases moving with it, as written
    naming: list[str] = field(default_factory=list)
    flagged_by: str | None = None
    phrase_flagged_by: str | None = None  # a moving title phrase that names it, the right way
    states: list[str] = field(default_factory=list)
    # The naming topic whose own share of the sample moved most the shift's way between the same
    # two quarters: (label, papers before, papers after, ratio of the shares).
    topic_move: tuple[str, int, int, float] | None = None

    @property
    def ratio(self) -> float | None:
        return self.shares[1] / self.shares[0] if self.shares[0] else None


def ground_truth(index: Path) -> tuple[list[Shift], dict[str, Any]]:
    """Shifts between consecutive full calendar quarters of the 75k index."""
    per_q: dict[tuple[int, int], Counter[tuple[str, ...]]] = defaultdict(Counter)
    totals: Counter[tuple[int, int]] = Counter()
    surface: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    first = last = None
    with gzip.open(index, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            day = date.fromisoformat(row["announced_date"])
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
            q = quarter_of(day)
            totals[q] += 1
            grams = phrases(row["title"])
            per_q[q].update(grams.keys())
            for gram, written in grams.items():
                surface[gram][written] += 1
    assert first is not None and last is not None
    full = [q for q in sorted(totals) if quarter_bounds(q)[0] >= first and quarter_bounds(q)[1] <= last]
    shifts: list[Shift] = []
    for before, after in itertools.pairwise(full):
        a, b = per_q[before], per_q[after]
        na, nb = totals[before], totals[after]
        found: list[Shift] = []
        for gram in set(a) | set(b):
            ca, cb = a.get(gram, 0), b.get(gram, 0)
            if not content(gram):
                continue
            sa, sb = ca / na, cb / nb
            if cb >= MIN_PAPERS and sb >= 2 * sa:
                direction = "up"
            elif ca >= MIN_PAPERS and sb <= sa / 2:
                direction = "down"
            else:
                continue
            written = surface[gram].most_common(1)[0][0]
            found.append(Shift([gram], written, before, after, direction, (ca, cb), (sa, sb)))
        shifts += _merge_nested(found)
    facts = {"first": first, "last": last, "quarters": {qname(q): totals[q] for q in full}}
    return shifts, facts


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return len(longer) > n and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _merge_nested(found: list[Shift]) -> list[Shift]:
    """A phrase inside a longer one holding >= 80 % of its papers is the same shift (union of names)."""
    by_size = sorted(found, key=lambda s: (-max(s.counts), len(s.phrases[0]), s.surface))
    kept: list[Shift] = []
    for shift in by_size:
        gram, size = shift.phrases[0], max(shift.counts)
        home = next(
            (
                k
                for k in kept
                if k.direction == shift.direction
                and any(_contains(gram, p) or _contains(p, gram) for p in k.phrases)
                and size >= OVERLAP * max(k.counts)
            ),
            None,
        )
        if home is None:
            kept.append(shift)
        else:
            home.phrases.append(gram)
            home.merged.append(shift.surface)
    return kept


# The detector -----------------------------------------------------------------------------------


def build_database(db: Path, data: Path, echo: Any) -> dict[str, Any]:
    """Papers and vectors into a scratch SQLite database, then the product's topic build."""
    from sqlalchemy import func, insert, select

    from app.db import make_engine, make_session_factory, session_scope
    from app.embed.vectors import to_bytes
    from app.models import Embedding, Paper, Topic
    from app.readiness import upgrade_schema
    from app.topics.service import build_topics

    # Migrated, not created from the models: every command checks the schema's revision.
    upgrade_schema(f"sqlite:///{db}")
    engine = make_engine(f"sqlite:///{db}")
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        if session.scalar(select(func.count()).select_from(Topic)):
            echo(f"  reusing the topics in {db}")
            engine.dispose()
            return {"build_seconds": None}
    rows = load_records(data / SAMPLE)
    vectors = np.load(data / VECTORS).astype(np.float32)
    with session_scope(factory) as session:
        papers = [
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
                "text_hash": hashlib.sha256((r["title"] + ". " + r["abstract"]).encode()).hexdigest(),
                "raw": {},
                "keywords": [],
            }
            for r in rows
        ]
        for start in range(0, len(papers), 2000):
            session.execute(insert(Paper), papers[start : start + 2000])
        ids = dict(session.execute(select(Paper.arxiv_id, Paper.id)).tuples().all())
        embeddings = [
            {
                "paper_id": ids[r["id"]],
                "model": MODEL,
                "text_hash": papers[i]["text_hash"],
                "dim": vectors.shape[1],
                "vector": to_bytes(vectors[i]),
            }
            for i, r in enumerate(rows)
        ]
        for start in range(0, len(embeddings), 2000):
            session.execute(insert(Embedding), embeddings[start : start + 2000])
    started = time.perf_counter()
    with session_scope(factory) as session:
        report = build_topics(
            session,
            model_name=MODEL,
            seed=0,
            n_areas=None,
            max_techniques=None,
            now=datetime(2026, 7, 2, 6, tzinfo=UTC),
        )
    echo(f"  {report.summary()}")
    engine.dispose()
    return {"build_seconds": time.perf_counter() - started}


def replay_days(first: date, last: date) -> list[date]:
    """Every month's last day with data, and 4 weeks after each quarter's end."""
    days: set[date] = set()
    month = date(first.year, first.month, 1)
    while month <= last:
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        end = nxt - timedelta(days=1)
        if end <= last and end >= first + timedelta(days=28):
            days.add(end)
        if month.month % 3 == 0 and end + GRACE <= last:
            days.add(end + GRACE)
        month = nxt
    return sorted(days)


def run_trends(db: Path, day: date) -> tuple[dict[str, Any], float]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "papertrend"),
            "trends",
            "--as-of",
            day.isoformat(),
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout), time.perf_counter() - started


def topic_shares(db: Path) -> tuple[dict[date, int], dict[int, dict[date, int]]]:
    """Papers per day, and per topic per day, in the sample database (for the false-alarm measure)."""
    import sqlite3

    con = sqlite3.connect(db)
    totals = {date.fromisoformat(d): n for d, n in con.execute(
        "select announced_date, count(*) from papers group by announced_date")}  # fmt: skip
    per: dict[int, dict[date, int]] = defaultdict(dict)
    for tid, d, n in con.execute(
        "select pt.topic_id, p.announced_date, count(*) from paper_topics pt "
        "join papers p on p.id = pt.paper_id group by pt.topic_id, p.announced_date"
    ):
        per[tid][date.fromisoformat(d)] = n
    con.close()
    return totals, per


def title_days(db: Path) -> list[tuple[frozenset[str], date]]:
    """Each sample paper's title stems and day (which papers write a moving phrase)."""
    import sqlite3

    con = sqlite3.connect(db)
    rows = [
        (label_stems(t), date.fromisoformat(d))
        for t, d in con.execute("select title, announced_date from papers")
    ]
    con.close()
    return rows


def window_share(daily: Mapping[date, int], totals: dict[date, int], end: date, days: int) -> float | None:
    start = end - timedelta(days=days - 1)
    n = sum(v for d, v in totals.items() if start <= d <= end)
    return sum(v for d, v in daily.items() if start <= d <= end) / n if n else None


def quarter_move(
    daily: dict[date, int], totals: dict[date, int], shift: Shift, label: str
) -> tuple[str, int, int, float]:
    """A topic's papers in the sample in the shift's two quarters and the ratio of its shares (a
    half paper added to each count, so a topic new in the second quarter has a finite ratio)."""
    counts, shares = [], []
    for q in (shift.before, shift.after):
        start, end = quarter_bounds(q)
        c = sum(v for d, v in daily.items() if start <= d <= end)
        n = sum(v for d, v in totals.items() if start <= d <= end)
        counts.append(c)
        shares.append((c + 0.5) / max(n, 1))
    return label, counts[0], counts[1], shares[1] / shares[0]


def moved(s: Shift) -> bool:
    """The naming topic's own share moved the shift's way by at least TOPIC_MOVE."""
    if s.topic_move is None:
        return False
    ratio = s.topic_move[3]
    return ratio >= TOPIC_MOVE if s.direction == "up" else ratio <= 1.0 / TOPIC_MOVE


# Report -----------------------------------------------------------------------------------------


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def markdown(r: dict[str, Any], command: str) -> str:
    shifts: list[Shift] = r["shifts"]
    named = [s for s in shifts if s.naming]
    flagged = [s for s in shifts if s.flagged_by]
    by_phrase = [s for s in shifts if s.phrase_flagged_by]
    either = [s for s in shifts if s.flagged_by or s.phrase_flagged_by]
    f = Counter(r["flags"])

    def share(part: int, whole: int) -> str:
        return f"{part} of {whole} = {pct(part / max(whole, 1))}"

    lines = [
        "## Trends: replay against title-phrase shifts",
        "",
        f"Command: `{command}`  ",
        f"Data: ground truth from the 75k title/date index ({r['first']} to {r['last']}; full quarters "
        + ", ".join(f"{q} {n:,} papers" for q, n in r["quarters"].items())
        + f"); detector: topics built on the 25k sample ({r['topics']} live topics today, "
        f"{r['areas']} areas, {r['subtopics']} subtopics, {r['techniques']} techniques), "
        f"`papertrend trends --as-of` on {len(r['days'])} replay days ({r['days'][0]} to {r['days'][-1]}; "
        f"median {r['median_seconds']:.1f} s per command, process start to exit).",
        "",
        "| | result | target |",
        "|---|---|---|",
        f"| shifts (phrase share x2 or /2 quarter to quarter, >= {MIN_PAPERS} papers) | {len(shifts)} "
        f"({sum(s.direction == 'up' for s in shifts)} up, "
        f"{sum(s.direction == 'down' for s in shifts)} down) | |",
        f"| shifts some live topic names | {share(len(named), len(shifts))} | |",
        f"| **shifts flagged** within 4 weeks of their quarter | **{share(len(flagged), len(shifts))}** "
        "| >= 80 % |",
        f"| shifts flagged, of those a topic names | {share(len(flagged), len(named))} | |",
        f"| shifts a moving **title phrase** names, the right way, within 4 weeks of their quarter "
        f"(`trends` lists phrases apart from topics) | {share(len(by_phrase), len(shifts))} | |",
        f"| shifts flagged by a topic or a title phrase | {share(len(either), len(shifts))} | |",
        f"| title phrases flagged rising or emerging whose share of the sample's titles moved < +20 % "
        f"(as for topics) | {share(f['phrase up false'], f['phrase up'])} | |",
        f"| title phrases flagged falling whose share moved less than -20 % | "
        f"{share(f['phrase down false'], f['phrase down'])} | |",
        f"| shifts flagged, of those whose naming topic's own share of the sample moved the same way "
        f"by >= {TOPIC_MOVE:.2f}× between the two quarters | "
        f"{share(sum(1 for s in named if moved(s) and s.flagged_by), sum(1 for s in named if moved(s)))} | |",
        f"| **false alarms**: (topic, day) flagged rising or emerging whose topic's share moved < +20 % "
        f"in the 13 weeks to that day against the 13 before | **{share(f['up false'], f['up'])}** "
        f"({f['up rising']} rising, {f['up emerging']} emerging) | <= 20 % |",
        f"| flagged rising or emerging, share 13 weeks later down by more than 20 % (did not hold) | "
        f"{share(f['up later fell'], f['up later'])} | |",
        f"| flagged falling, share moved less than -20 % the same way | "
        f"{share(f['down false'], f['down'])} | |",
        f"| bursting (one-week spikes, not counted above), share moved < +20 % | "
        f"{share(f['bursting false'], f['bursting'])} | |",
        "",
        "Per shift that a live topic names (shares of the 75k index's papers in the two quarters; the "
        "naming topic whose own share of the sample moved most that way, as its papers in the two "
        "quarters and the ratio of its shares; the first replay day and topic that flagged it, else "
        "the states the naming topics showed on the replay days of its window):",
        "",
        "| phrase | quarters | move | papers | share | ratio | naming topics | topic in the sample "
        "| flagged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(shifts, key=lambda s: (qname(s.after), s.direction, -max(s.counts), s.surface))
    for s in order:
        if not s.naming:
            continue
        ratio = "new" if s.ratio is None else f"{s.ratio:.2f}×"
        others = f" (with: {', '.join(s.merged[:3])})" if s.merged else ""
        verdict = f"yes: {s.flagged_by}" if s.flagged_by else "no: " + (", ".join(s.states) or "no state")
        topic = ""
        if s.topic_move is not None:
            label, before, after, change = s.topic_move
            topic = f"{label} {before}→{after}, {change:.2f}×"
        lines.append(
            f"| {s.surface}{others} | {qname(s.before)}→{qname(s.after)} | {s.direction} | "
            f"{s.counts[0]}→{s.counts[1]} | {100 * s.shares[0]:.2f}→{100 * s.shares[1]:.2f} % | {ratio} | "
            f"{', '.join(s.naming)} | {topic} | {verdict} |"
        )
    lines += [
        "",
        "Shifts no live topic names (missed by topics), largest first, as papers before→after; "
        '"title phrase: yes" where a moving title phrase flagged it:',
        "",
    ]
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in order:
        if not s.naming:
            groups[(f"{qname(s.before)}→{qname(s.after)}", s.direction)].append(
                f"{s.surface} {s.counts[0]}→{s.counts[1]}"
                + (" (title phrase: yes)" if s.phrase_flagged_by else "")
            )
    for (quarters, direction), items in sorted(groups.items()):
        lines.append(f"- {quarters} {direction} ({len(items)}): {'; '.join(items)}")
    lines += ["", *r["notes"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--db", type=Path, default=None, help="keep (or reuse) the scratch database here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    for name in (INDEX, SAMPLE, VECTORS):
        if not (args.data / name).exists():
            sys.exit(f"bench/trends.py: {args.data / name} not found (pass --data)")
    print("ground truth from the 75k index ...", flush=True)
    shifts, facts = ground_truth(args.data / INDEX)
    print(f"  {len(shifts)} shifts between {', '.join(facts['quarters'])}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "trends.db"
        print(f"topics on the 25k sample ({db}) ...", flush=True)
        build = build_database(db, args.data, print)
        result = replay(db, shifts, facts, build)
    shown = [a for i, a in enumerate(sys.argv[1:]) if a != "--db" and (i == 0 or sys.argv[i] != "--db")]
    command = "python bench/trends.py " + " ".join(a for a in shown if not a.startswith("--db="))
    text = markdown(result, command.strip())
    print(text)
    if not args.no_write:
        write_section("trends", text)
        print(f"written to {(ROOT / 'docs' / 'BENCHMARKS.md').relative_to(ROOT)} (section trends)")


def replay(db: Path, shifts: list[Shift], facts: dict[str, Any], build: dict[str, Any]) -> dict[str, Any]:
    days = replay_days(facts["first"], facts["last"])
    views: dict[date, dict[str, Any]] = {}
    seconds = []
    for day in days:
        views[day], took = run_trends(db, day)
        seconds.append(took)
        states = views[day]["states"]
        print(f"  as of {day}: {json.dumps(states)} ({took:.1f}s)", flush=True)
    last_topics = views[days[-1]]["topics"]
    for s in shifts:
        s.naming = sorted({t["label"] for t in last_topics if any(names(t["label"], p) for p in s.phrases)})
        start, end = quarter_bounds(s.after)
        window = [d for d in days if start <= d <= end + GRACE]
        seen = []
        for day in window:
            for t in views[day]["topics"]:
                if t["label"] not in s.naming:
                    continue
                right = t["state"] in UP if s.direction == "up" else t["state"] == "falling"
                if right and s.flagged_by is None:
                    s.flagged_by = f"{t['label']} {t['state']} on {day}"
                seen.append(t["state"])
        s.states = [f"{k} {v}" for k, v in sorted(Counter(seen).items())]
        for day in window:
            for ph in views[day].get("phrases", []):
                right = ph["state"] in UP if s.direction == "up" else ph["state"] == "falling"
                if right and any(names(ph["label"], p) for p in s.phrases):
                    s.phrase_flagged_by = f'"{ph["label"]}" {ph["state"]} on {day}'
                    break
            if s.phrase_flagged_by:
                break

    totals, per = topic_shares(db)
    ids = {t["label"]: t["id"] for t in last_topics}
    for s in shifts:
        moves = [quarter_move(per.get(ids[label], {}), totals, s, label) for label in s.naming]
        s.topic_move = max(moves, key=lambda m: m[3] if s.direction == "up" else 1.0 / m[3], default=None)
    data_start, data_end = min(totals), max(totals)
    flags: Counter[str] = Counter()
    for day in days:
        # The detector's windows end on the view's reference day (the last day with papers up to
        # the replay day), so the 13-week shares are measured on the same days it counted.
        ref = date.fromisoformat(views[day]["reference_day"])
        if ref - timedelta(days=181) < data_start:
            continue  # the two 13-week windows are not both inside the data
        for t in views[day]["topics"]:
            state = t["state"]
            if state == "steady":
                continue
            daily = per.get(t["id"], {})
            now = window_share(daily, totals, ref, 91)
            before = window_share(daily, totals, ref - timedelta(days=91), 91)
            move = (now / before - 1.0) if now is not None and before else float("inf")
            # Did it hold? The 13 weeks after the day against the 13 weeks up to it.
            after = window_share(daily, totals, ref + timedelta(days=91), 91)
            held = (
                None if ref + timedelta(days=91) > data_end or not now or after is None else after / now - 1.0
            )
            if state in UP:
                flags["up"] += 1
                flags[f"up {state}"] += 1
                flags["up false"] += move < FALSE_ALARM_MOVE
                if held is not None:
                    flags["up later"] += 1
                    flags["up later fell"] += held < -FALSE_ALARM_MOVE
            elif state == "falling":
                flags["down"] += 1
                flags["down false"] += move > -FALSE_ALARM_MOVE
            else:
                flags[state] += 1
                flags[f"{state} false"] += move < FALSE_ALARM_MOVE
    written = title_days(db)
    for day in days:
        ref = date.fromisoformat(views[day]["reference_day"])
        if ref - timedelta(days=181) < data_start:
            continue
        for ph in views[day].get("phrases", []):
            wanted = label_stems(ph["label"])
            daily = Counter(d for stems, d in written if wanted <= stems)
            now = window_share(daily, totals, ref, 91)
            before = window_share(daily, totals, ref - timedelta(days=91), 91)
            move = (now / before - 1.0) if now is not None and before else float("inf")
            if ph["state"] in UP:
                flags["phrase up"] += 1
                flags["phrase up false"] += move < FALSE_ALARM_MOVE
            elif ph["state"] == "falling":
                flags["phrase down"] += 1
                flags["phrase down false"] += move > -FALSE_ALARM_MOVE
    kinds = Counter(t["kind"] for t in last_topics)
    named = [s for s in shifts if s.naming]
    notes = [
        f"- {len(shifts) - len(named)} of {len(shifts)} shifts have no live topic whose label names the "
        "phrase: the topic model of the day bounds what the detector can flag (those count as missed).",
    ]
    notes += [
        f"- A false alarm is a topic flagged rising or emerging whose share grew less than "
        f"{100 * FALSE_ALARM_MOVE:.0f} % from the 13 weeks before the replay day to the 13 weeks up to it "
        "(the "
        "ground truth's quarter-over-quarter measure). The quarter horizon compares the last 13 weeks "
        "with the 26 before, so a topic that grows steadily but by less than a fifth a quarter is flagged "
        "rising and counted as a false alarm, and so is a topic whose rise came two quarters ago and "
        "has stopped since.",
        "- The detector needs history: the quarter horizon speaks once its baseline holds 13 weeks with "
        f"papers (the data starts on {facts['first']}); before that the 4-week horizon decides alone, "
        "and one-week moves only ever count as bursts.",
        "- The ground truth is every title phrase that doubled or halved, ordinary words included "
        '("help", "hidden", "boundary"), and the crawl\'s own category mix changes (the 2026Q1 '
        '"channel", "antenna", "MIMO", "beamforming" surge): shifts a topic model is not meant to '
        "name; they count as missed.",
    ]
    notes.append(
        "- The detector counts the 25k sample, a third of the index the ground truth counts: a shift of "
        f"{MIN_PAPERS} papers in the index is about 7 in the sample, under the quarter horizon's minimum "
        "of 20 papers, for a title phrase as for a topic; a live crawl of all arXiv CS announcements holds "
        "several times the sample's papers a week."
    )
    if build.get("build_seconds"):
        notes.append(
            f"- Topic build on the 25k sample: {build['build_seconds']:.1f} s (service, writes included)."
        )
    return {
        "shifts": shifts,
        "days": days,
        "first": facts["first"],
        "last": facts["last"],
        "quarters": facts["quarters"],
        "topics": len(last_topics),
        "areas": kinds.get("area", 0),
        "subtopics": kinds.get("subtopic", 0),
        "techniques": kinds.get("technique", 0),
        "median_seconds": sorted(seconds)[len(seconds) // 2],
        "flags": dict(flags),
        "notes": notes,
    }


if __name__ == "__main__":
    main()
