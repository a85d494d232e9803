"""Benchmark: the whole `papertrend topics build` command against BERTopic's defaults, and topic identity.

One run, on the 25k arXiv sample and its precomputed MiniLM vectors (../shared/data):

1. Side by side: the whole command `papertrend topics build` (process start to exit: imports, loading
   the vectors and texts, cluster + label + match, the database writes and the trends refresh),
   run as a child process on a fresh copy of a scratch SQLite database that holds the 25k papers
   and the topics of a first build (so every timed run is the same rebuild; median of --repeats),
   and BERTopic with default settings fitted on the same texts and embeddings (median of
   --bertopic-repeats; it takes minutes). The runs alternate (ours, BERTopic, ours, ...) so that
   both see the same load on a shared machine. With --compare-with DIR, the command of another
   checkout (an earlier revision) is timed in the same rounds on the same database copies.
2. Quality of the model the command builds (`build_topic_model` in process, same data and seed): NMI
   of each paper's area (BERTopic: its topic, outliers as one more cluster) against the arXiv
   primary category, the share of papers without an area (BERTopic: outliers), ten example labels
   each, and where the papers with "quantiz" / "prun"|"sparsi" (and, broader, "spars") in the title
   land.
3. Identity through the product's own service on a scratch SQLite database: a rebuild on the same
   data (same seed, and another seed) and a day-by-day replay of the last --replay-days announcement
   days (papers of each day added, then a rebuild every day, or what the pipeline does: assign new
   papers, rebuild when `needs_rebuild` says so), with the share of topics that keep their id and
   label from one day to the next.

BERTopic is not a dependency of papertrend. Install it (`pip install bertopic`; 0.17.4 installs next
to this stack) into this venv, or into a separate venv given with --bertopic-python (the BERTopic half
then runs there in a subprocess). Without it, that half is skipped and the report says so.

    .venv/bin/python bench/topics.py [--data DIR] [--repeats 3] [--bertopic-python PATH]
        [--bertopic-repeats 1] [--compare-with CHECKOUT] [--replay-days 20]
        [--policy daily|product|both] [--skip-replay] [--limit N] [--no-write]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._command import CommandRun, papertrend, run_command, run_on_copy  # noqa: E402
from bench._report import write_section  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "BENCHMARKS.md"
SAMPLE = "arxiv_cs_2025-03_to_2026-07_sample25k.jsonl.gz"
VECTORS = "arxiv_cs_sample25k_minilm.f16.npy"
IDS = "arxiv_cs_sample25k_minilm.ids.txt"
# name -> (title pattern, label pattern). The target's words are "quantization" and "pruning" or
# "sparsity"; the broad pattern (any "sparse") is reported too, for comparison with earlier runs.
WORDS = {
    "quantization": (r"quantiz", r"quantiz"),
    "pruning or sparsity": (r"prun|sparsi", r"prun|sparsi"),
    "prun* or sparse* (broad)": (r"prun|spars", r"prun|sparsi"),
}


def doc_text(row: dict[str, Any]) -> str:
    return " ".join((row["title"] + ". " + row["abstract"]).split())


def load(data: Path) -> tuple[list[dict[str, Any]], np.ndarray]:
    path = data / SAMPLE
    if not path.exists():
        sys.exit(f"bench/topics.py: {path} not found (pass --data)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    vectors = np.load(data / VECTORS).astype(np.float32)
    if (data / IDS).read_text().split() != [r["id"] for r in rows]:
        sys.exit("bench/topics.py: vectors and records are not in the same order")
    return rows, vectors


# BERTopic ---------------------------------------------------------------------------------------


def bertopic_fit(docs: list[str], vectors: np.ndarray) -> dict[str, Any]:
    """BERTopic() with every default, on the given embeddings (imports bertopic here only)."""
    from bertopic import BERTopic

    started, cpu = time.perf_counter(), time.process_time()
    model = BERTopic()
    topics, _ = model.fit_transform(docs, embeddings=vectors)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    info = model.get_topic_info()
    names = [str(n) for t, n in zip(info["Topic"], info["Name"], strict=True) if int(t) != -1]
    import bertopic as package

    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "topics": [int(t) for t in topics],
        "names": names,
        "version": package.__version__,
    }


def bertopic_worker(inp: str, out: str) -> None:
    data = np.load(inp + ".npy")
    docs = json.loads(Path(inp + ".json").read_text())
    Path(out).write_text(json.dumps(bertopic_fit(docs, data)))


def run_bertopic(docs: list[str], vectors: np.ndarray, python: str | None) -> dict[str, Any] | None:
    if python is None:
        try:
            import bertopic  # noqa: F401
        except ImportError:
            return None
        return bertopic_fit(docs, vectors)
    with tempfile.TemporaryDirectory() as tmp:
        base = str(Path(tmp) / "input")
        np.save(base + ".npy", vectors)
        Path(base + ".json").write_text(json.dumps(docs))
        out = str(Path(tmp) / "out.json")
        subprocess.run([python, __file__, "--bertopic-worker", base, out], check=True)
        return dict(json.loads(Path(out).read_text()))


# Ours -------------------------------------------------------------------------------------------


def run_ours(rows: list[dict[str, Any]], vectors: np.ndarray, seed: int) -> dict[str, Any]:
    """The model the command builds, built in process once: its areas, labels and members."""
    from app.topics.model import build_topic_model

    titles, abstracts = [r["title"] for r in rows], [r["abstract"] for r in rows]
    started, cpu = time.perf_counter(), time.process_time()
    model = build_topic_model(vectors, titles, abstracts, seed=seed)
    build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    area = np.full(len(rows), -1)
    for index, topic in enumerate(model.topics):
        if topic.kind == "area":
            for row, _ in topic.members:
                area[row] = index
    labels = [t.label for t in model.topics]
    areas = [t.label for t in model.topics if t.kind == "area"]
    techniques = [t.label for t in model.topics if t.kind == "technique"]
    return {
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu,
        "assignment": area.tolist(),
        "n_areas": len(areas),
        "n_subtopics": sum(t.kind == "subtopic" for t in model.topics),
        "n_techniques": len(techniques),
        "examples": areas[:5] + techniques[:5],
        "labels": labels,
        "members": {t.label: [r for r, _ in t.members] for t in model.topics},
    }


# The whole command ------------------------------------------------------------------------------


def scratch_database(path: Path, rows: list[dict[str, Any]], vectors: np.ndarray) -> CommandRun:
    """A migrated SQLite database with the papers and their vectors, then a first `topics build`
    (returned: the timed runs are rebuilds against its topics, as the weekly rebuild is)."""
    from _topics_identity import _insert

    from app.db import make_engine, make_session_factory, session_scope
    from app.readiness import upgrade_schema

    upgrade_schema(f"sqlite:///{path}")  # migrated, as `papertrend init` does: the command checks it
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(make_session_factory(engine)) as session:
        _insert(session, rows, vectors, list(range(len(rows))))
    engine.dispose()
    return run_command([*papertrend(), "topics", "build"], database=path)


def command_figures(runs: list[CommandRun]) -> dict[str, Any]:
    return {
        "seconds": statistics.median(r.wall for r in runs),
        "times": [r.wall for r in runs],
        "cpu_seconds": statistics.median(r.cpu for r in runs),
        "peak_mib": max(r.peak_mib for r in runs),
        "summary": runs[-1].output.strip().splitlines(),
    }


def side_by_side(
    rows: list[dict[str, Any]], vectors: np.ndarray, args: argparse.Namespace, echo: Any
) -> dict[str, Any]:
    """Whole-command runs (ours, and --compare-with's) alternating with BERTopic fits."""
    docs = [doc_text(r) for r in rows]
    ours: list[CommandRun] = []
    before: list[CommandRun] = []
    berts: list[dict[str, Any]] = []
    other = Path(args.compare_with).resolve() if args.compare_with else None
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference.db"
        echo(f"scratch database: {len(rows)} papers and a first build ...")
        first = scratch_database(reference, rows, vectors)
        echo(f"  first build {first.wall:.1f}s")
        for i in range(max(args.repeats, args.bertopic_repeats if not args.skip_bertopic else 0)):
            if i < args.repeats:
                ours.append(
                    run_on_copy([*papertrend(), "topics", "build"], database=reference, scratch=Path(tmp))
                )
                echo(f"  ours #{i + 1}: {ours[-1].wall:.1f}s wall, {ours[-1].cpu:.1f}s CPU")
                if other is not None:
                    before.append(
                        run_on_copy(
                            [*papertrend(other), "topics", "build"],
                            database=reference,
                            scratch=Path(tmp),
                            cwd=other,
                        )
                    )
                    echo(f"  {other.name} #{i + 1}: {before[-1].wall:.1f}s wall, {before[-1].cpu:.1f}s CPU")
            if not args.skip_bertopic and i < args.bertopic_repeats:
                fit = run_bertopic(docs, vectors, args.bertopic_python)
                if fit is None:
                    echo(
                        "  BERTopic skipped: not installed (pip install bertopic, or pass --bertopic-python)"
                    )
                    args.skip_bertopic = True
                    continue
                berts.append(fit)
                echo(f"  BERTopic #{i + 1}: {fit['seconds']:.1f}s wall, {fit['cpu_seconds']:.1f}s CPU")
    out: dict[str, Any] = {
        "command": command_figures(ours),
        "first_build_s": first.wall,
        "bertopic_fits": berts,
    }
    if before:
        out["before"] = command_figures(before)
        revision = subprocess.run(
            ["git", "-C", str(other), "log", "-1", "--format=%h %s"], capture_output=True, text=True
        ).stdout.strip()
        out["before_name"] = f"{other} (commit {revision[:60]}...)" if revision else str(other)
    return out


def word_coverage(rows: list[dict[str, Any]], members: dict[str, list[int]]) -> dict[str, Any]:
    import re

    out = {}
    for name, (title_pattern, label_pattern) in WORDS.items():
        wanted = {i for i, r in enumerate(rows) if re.search(title_pattern, r["title"], re.I)}
        best = max(
            (
                (label, len(wanted & set(rows_)))
                for label, rows_ in members.items()
                if re.search(label_pattern, label, re.I)
            ),
            key=lambda kv: kv[1],
            default=(None, 0),
        )
        out[name] = {
            "papers": len(wanted),
            "topic": best[0],
            "share": best[1] / len(wanted) if wanted else 0.0,
        }
    return out


def nmi(categories: list[str], assignment: list[int]) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(categories, assignment))


# Report -----------------------------------------------------------------------------------------


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def markdown(r: dict[str, Any], command: str) -> str:
    ours, bert = r["ours"], r["bertopic"]
    lines = [
        "## Topics: our build vs BERTopic defaults, and topic identity",
        "",
        f"Command: `{command}`  ",
        f"Data: {r['n']} papers of the 25k arXiv sample with their precomputed all-MiniLM-L6-v2 vectors; "
        f"machine: {r['machine']} (load average {r['load']} at the start, {r['load_end']} at the end of the "
        "comparison: the machine is shared and noisy, so the CPU time, which other processes disturb less "
        "than the wall time, is the fairer ratio).",
        "",
        "| | ours: `papertrend topics build` (whole command) | BERTopic "
        + (bert["version"] if bert else "")
        + " defaults (fit) |",
        "|---|---|---|",
        f"| wall time | **{ours['seconds']:.1f} s** (median of {len(ours['times'])}: "
        + ", ".join(f"{t:.1f}" for t in ours["times"])
        + ") | "
        + (
            f"**{bert['seconds']:.1f} s** (median of {len(bert['times'])}: "
            + ", ".join(f"{t:.1f}" for t in bert["times"])
            + ")"
            if bert
            else "skipped"
        )
        + " |",
        f"| CPU time (all threads) | {ours['cpu_seconds']:.1f} s | "
        + (f"{bert['cpu_seconds']:.1f} s" if bert else "skipped")
        + " |",
        f"| peak memory | {ours['peak_mib']:.0f} MiB (the command's process) | - |",
        f"| NMI of the area facet vs primary category | {ours['nmi']:.3f} | "
        + (f"{bert['nmi']:.3f}" if bert else "-")
        + " |",
        f"| papers without an area (BERTopic: outliers) | {pct(ours['unassigned'])} | "
        + (pct(bert["unassigned"]) if bert else "-")
        + " |",
        f"| topics | {ours['n_areas']} areas + {ours.get('n_subtopics', 0)} subtopics + "
        f"{ours['n_techniques']} techniques | " + (str(len(bert["names"])) if bert else "-") + " |",
    ]
    for name, cov in ours["coverage"].items():
        theirs_cov = pct(bert["coverage"][name]["share"]) + " in its best topic" if bert else "-"
        lines.append(
            f"| papers with {name} in the title in that topic | {pct(cov['share'])} of {cov['papers']} "
            f"in {cov['topic']!r} | {theirs_cov} |"
        )
    if bert:
        ratio = bert["seconds"] / ours["seconds"]
        lines.append(
            f"| time ratio of the medians (target 1/20) | wall **1/{ratio:.1f}** "
            f"({'met' if ratio >= 20 else 'not met'}), "
            f"CPU **1/{bert['cpu_seconds'] / ours['cpu_seconds']:.1f}** of BERTopic's | |"
        )
    timing = r["timing"]
    lines += [
        "",
        f"Each of our runs is the command as a user runs it, on a fresh copy of a scratch SQLite database "
        f"holding the {r['n']} papers, their vectors and the topics of a first build "
        f"({timing['first_build_s']:.1f} s): a rebuild that keeps every topic's id, writes the assignments "
        "and refreshes the trends. Its last summary: "
        + " / ".join(f"`{line}`" for line in ours["summary"][-2:])
        + f". The model alone, built in process: {ours['build_seconds']:.1f} s "
        f"({ours['build_cpu_seconds']:.1f} s CPU).",
    ]
    if timing.get("before"):
        b = timing["before"]
        lines += [
            "",
            f"The same command from {timing['before_name']}, in the same rounds on "
            f"the same database copies: median {b['seconds']:.1f} s wall ("
            + ", ".join(f"{t:.1f}" for t in b["times"])
            + f"), {b['cpu_seconds']:.1f} s CPU, peak {b['peak_mib']:.0f} MiB.",
        ]
    if r.get("bertopic_python"):
        venv = "`python3.11 -m venv DIR && DIR/bin/pip install 'torch==2.13.0' 'bertopic==0.17.4'`"
        lines += ["", f"BERTopic ran in its own venv ({r['bertopic_python']}), made with {venv}."]
    lines += [
        "",
        "Title words are regular expressions: `quantiz`; `prun|sparsi` (pruning, pruned, sparsity, "
        "sparsification: the target's words); and the broad `prun|spars`, which also takes in every "
        '"sparse" (sparse attention, sparse autoencoders, sparse-view reconstruction: other subjects). '
        "The topic is the one whose label matches the word with the most of those papers.",
    ]
    lines += ["", "Ten example labels each:", "", "| ours | BERTopic |", "|---|---|"]
    theirs = bert["names"][:10] if bert else ["(skipped: `pip install bertopic`)"]
    for i in range(10):
        a = ours["examples"][i] if i < len(ours["examples"]) else ""
        b = theirs[i] if i < len(theirs) else ""
        lines.append(f"| {a} | `{b}` |" if b else f"| {a} | |")
    ident = r.get("identity")
    if ident:
        lines += [
            "",
            "Identity through the service (`build_topics`, `assign_new_papers`; scratch SQLite database):",
            "",
            f"- rebuild on the same data, same seed: {pct(ident['same_seed'][0])} of {ident['topics']} "
            f"topic ids kept ({pct(ident['same_seed'][1])} with their label); another seed: "
            f"{pct(ident['other_seed'][0])} of ids ({pct(ident['other_seed'][1])} with their label). "
            "Target >= 95 %.",
            f"- service build of all {r['n']} papers, writes included: {ident['first_build_s']:.1f} s.",
        ]
    for replay in r.get("replays", []):
        lines += [
            f"- day-by-day replay of the last {len(replay['days'])} announcement days "
            f"({replay['days'][0]} to {replay['days'][-1]}), policy `{replay['policy']}` ("
            + (
                "a full rebuild every day"
                if replay["policy"] == "daily"
                else "the pipeline's: assign new papers, "
                "rebuild when `needs_rebuild` says so (weekly, or after 20 % growth)"
            )
            + f"; {sum(1 for st in replay['steps'] if st['rebuild'])} rebuilds, "
            f"median {replay['rebuild_seconds']:.1f} s"
            + (
                f", assignments median {replay['assign_seconds']:.1f} s"
                if replay.get("assign_seconds")
                else ""
            )
            + "): topics keeping id and label from one day to the next: "
            f"median {pct(replay['median_labels'])}, mean {pct(replay['mean_labels'])}, "
            f"worst day {pct(replay['min_labels'])}. Target >= 85 %.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N papers (a quick check)")
    parser.add_argument("--repeats", type=int, default=3, help="whole-command runs (median)")
    parser.add_argument("--bertopic-repeats", type=int, default=1, help="BERTopic fits (median)")
    parser.add_argument(
        "--compare-with", default=None, help="checkout of another revision whose command is timed alongside"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bertopic-python", default=None, help="python of a venv with bertopic installed")
    parser.add_argument("--skip-bertopic", action="store_true")
    parser.add_argument("--replay-days", type=int, default=20)
    parser.add_argument("--policy", choices=["daily", "product", "both"], default="both")
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument("--bertopic-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bertopic_worker:
        bertopic_worker(*args.bertopic_worker)
        return
    sys.path.insert(0, str(ROOT))
    import platform

    rows, vectors = load(args.data)
    if args.limit:
        rows, vectors = rows[: args.limit], vectors[: args.limit]
    categories = [r["primary_category"] for r in rows]
    result: dict[str, Any] = {
        "n": len(rows),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load": f"{os.getloadavg()[0]:.1f}",
    }
    print(f"ours: the model of {len(rows)} papers, in process (quality figures) ...", flush=True)
    ours = run_ours(rows, vectors, args.seed)
    ours["nmi"] = nmi(categories, ours["assignment"])
    ours["unassigned"] = float(np.mean(np.array(ours["assignment"]) < 0))
    ours["coverage"] = word_coverage(rows, ours.pop("members"))
    del ours["assignment"]
    print(
        f"  {ours['build_seconds']:.1f}s, NMI {ours['nmi']:.3f}, without area {pct(ours['unassigned'])}",
        flush=True,
    )
    print(
        f"side by side: {args.repeats} whole commands, {args.bertopic_repeats} BERTopic fits ...", flush=True
    )
    timing = side_by_side(rows, vectors, args, lambda line: print(line, flush=True))
    ours.update(timing.pop("command"))
    result["ours"] = ours
    result["timing"] = timing
    fits = timing.pop("bertopic_fits")
    bert = None
    if fits:
        bert = dict(fits[0])
        bert["times"] = [f["seconds"] for f in fits]
        bert["seconds"] = statistics.median(f["seconds"] for f in fits)
        bert["cpu_seconds"] = statistics.median(f["cpu_seconds"] for f in fits)
        bert["nmi"] = nmi(categories, bert["topics"])
        bert["unassigned"] = float(np.mean(np.array(bert["topics"]) == -1))
        groups: dict[str, list[int]] = {}
        for i, t in enumerate(bert["topics"]):
            if t != -1:
                groups.setdefault(f"{t}_", []).append(i)
        bert["coverage"] = {
            name: {
                "share": max((len(set(g) & wanted) for g in groups.values()), default=0) / max(len(wanted), 1)
            }
            for name, wanted in _wanted(rows).items()
        }
        del bert["topics"]
        print(
            f"  BERTopic median {bert['seconds']:.1f}s, NMI {bert['nmi']:.3f}, "
            f"outliers {pct(bert['unassigned'])}",
            flush=True,
        )
    result["bertopic"] = bert
    result["load_end"] = f"{os.getloadavg()[0]:.1f}"
    result["bertopic_python"] = args.bertopic_python if bert else None
    if not args.skip_replay:
        from _topics_identity import rebuild_figures, replay_figures

        print("identity: rebuilds through the service ...", flush=True)
        result["identity"] = rebuild_figures(rows, vectors, seed=args.seed, echo=print)
        print(f"  same seed {result['identity']['same_seed']}, other seed {result['identity']['other_seed']}")
        result["replays"] = []
        for policy in ("daily", "product") if args.policy == "both" else (args.policy,):
            print(f"identity: replay of the last {args.replay_days} days, policy {policy} ...", flush=True)
            result["replays"].append(
                replay_figures(
                    rows, vectors, seed=args.seed, days=args.replay_days, policy=policy, echo=print
                )
            )
    command = "python bench/topics.py " + " ".join(a for a in sys.argv[1:])
    text = markdown(result, command.strip())
    print(text)
    if not args.no_write:
        write_section("topics", text)
        print(f"written to {DOC.relative_to(ROOT)} (section topics)")


def _wanted(rows: list[dict[str, Any]]) -> dict[str, set[int]]:
    import re

    return {
        name: {i for i, r in enumerate(rows) if re.search(p, r["title"], re.I)}
        for name, (p, _) in WORDS.items()
    }


if __name__ == "__main__":
    main()
