"""Concept benchmark of the topic model: do researchers find the concepts they follow, by name?

For each concept of `bench/_concepts.py` (the 30 the product was specified with, and 18 more):

* recall = share of the papers whose title names the concept that carry a topic (any kind: area,
  subtopic or technique) whose label names it;
* precision = share of the papers of those topics that are about the concept (title or abstract).

Run on the shared 25k arXiv sample (precomputed MiniLM vectors) and on the bundled demo (the 73 seed
papers, embedded here with the real model, plus app/demo_data). Also prints the hierarchy's shape
(areas, subtopics, techniques), NMI of the area level against the arXiv primary category, the share of
papers without an area, labels that break the naming rules, and every label. Targets: mean recall
>= 0.85 and mean precision >= 0.70 on the 25k sample; recall >= 0.70 on the demo for every specified
concept with at least 5 papers there.

    .venv/bin/python bench/topics_quality.py [--seed 0] [--skip-demo] [--no-write] [--labels]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.topics.labeling import label_ok, same_thing  # noqa: E402
from app.topics.model import TopicModel, build_topic_model  # noqa: E402
from bench._concepts import CONCEPTS, SPECIFIED, Concept  # noqa: E402
from bench._report import write_section  # noqa: E402
from bench._sample import IDS, PAPERS, VECTORS, load_records  # noqa: E402

DEMO = ROOT / "app" / "demo_data"
COMMAND = ".venv/bin/python bench/topics_quality.py"


def load_sample() -> tuple[list[dict[str, Any]], np.ndarray]:
    rows = load_records(PAPERS)
    vectors = np.load(VECTORS).astype(np.float32)
    if IDS.read_text().split() != [r["id"] for r in rows]:
        raise SystemExit("embeddings and metadata are not in the same order")
    return rows, vectors


def load_demo() -> tuple[list[dict[str, Any]], np.ndarray]:
    """The demo corpus as `papertrend demo` loads it: seed papers (embedded now) and the arXiv slice."""
    from sentence_transformers import SentenceTransformer

    from app.embed.encoder import bundled_model_path

    seed = json.loads((DEMO / "seed_papers.json").read_text())
    with gzip.open(DEMO / "demo_papers.jsonl.gz", "rt") as fh:
        papers = [json.loads(line) for line in fh]
    ids = (DEMO / "demo_vectors.ids.txt").read_text().split()
    vectors = np.load(DEMO / "demo_vectors.f16.npy").astype(np.float32)
    by_id = dict(zip(ids, vectors, strict=True))
    encoder = SentenceTransformer(str(bundled_model_path()), device="cpu")
    texts = [" ".join((p["title"] + ". " + p["abstract"]).split()) for p in seed]
    seed_vecs = np.asarray(encoder.encode(texts, batch_size=16, normalize_embeddings=True), dtype=np.float32)
    rows = [
        {"title": p["title"], "abstract": p["abstract"], "primary_category": "seed"} for p in seed
    ] + papers
    return rows, np.vstack([seed_vecs, np.stack([by_id[p["id"]] for p in papers])])


def concept_scores(model: TopicModel, rows: list[dict[str, Any]], concept: Concept) -> dict[str, Any]:
    titles = [r["title"].lower() for r in rows]
    texts = [f"{r['title']} {r['abstract']}".lower() for r in rows]
    title_re, label_re, about_re = concept.title_re(), concept.label_re(), concept.about_re()
    wanted = {i for i, t in enumerate(titles) if title_re.search(t)}
    named = [t for t in model.topics if label_re.search(t.label.lower())]
    held = {r for t in named for r, _ in t.members}
    about = sum(1 for r in held if about_re.search(texts[r]))
    return {
        "concept": concept.name,
        "papers": len(wanted),
        "topics": [f"{t.label} ({t.kind[0]})" for t in named],
        "recall": len(wanted & held) / len(wanted) if wanted else None,
        "precision": about / len(held) if held else None,
    }


def shape(model: TopicModel, rows: list[dict[str, Any]]) -> dict[str, Any]:
    area_of = np.full(len(rows), -1)
    for i, topic in enumerate(model.of_kind("area")):
        area_of[[r for r, _ in topic.members]] = i
    labels = [(t.kind, t.label) for t in model.topics]
    bad = [lab for _, lab in labels if not label_ok(lab)]
    dupes = [
        f"{a} = {b}"
        for i, (ka, a) in enumerate(labels)
        for kb, b in labels[:i]
        if ka == kb and same_thing(a, b)
    ]
    subs = model.of_kind("subtopic")
    return {
        "areas": len(model.of_kind("area")),
        "subtopics": len(subs),
        "techniques": len(model.of_kind("technique")),
        "subtopic sizes": (
            min(len(s.members) for s in subs),
            int(np.median([len(s.members) for s in subs])),
            max(len(s.members) for s in subs),
        )
        if subs
        else None,
        "nmi": normalized_mutual_info_score([r["primary_category"] for r in rows], area_of),
        "without area": float(np.mean(area_of < 0)),
        "bad labels": bad,
        "same-thing labels": dupes,
    }


def evaluate(
    name: str, rows: list[dict[str, Any]], vectors: np.ndarray, seed: int, show: bool
) -> dict[str, Any]:
    started = time.perf_counter()
    model = build_topic_model(vectors, [r["title"] for r in rows], [r["abstract"] for r in rows], seed=seed)
    seconds = time.perf_counter() - started
    result = {"name": name, "papers": len(rows), "seconds": seconds, **shape(model, rows)}
    result["concepts"] = [concept_scores(model, rows, c) for c in CONCEPTS]
    print(f"\n== {name}: {len(rows)} papers, build {seconds:.1f} s")
    for key in (
        "areas",
        "subtopics",
        "techniques",
        "subtopic sizes",
        "nmi",
        "without area",
        "bad labels",
        "same-thing labels",
    ):
        print(f"{key}: {result[key]}")
    for c in result["concepts"]:
        print(
            f"  {c['concept']:<40} n={c['papers']:<5} R={fmt(c['recall'])} P={fmt(c['precision'])}  "
            + ", ".join(c["topics"][:4])
        )
    if show:
        areas = {t.key: t.label for t in model.of_kind("area")}
        for t in model.of_kind("area"):
            subs = [f"{s.label} ({len(s.members)})" for s in model.of_kind("subtopic") if s.parent == t.key]
            print(f"AREA {t.label} ({len(t.members)}): {'; '.join(subs)}")
        print("TECHNIQUES: " + "; ".join(f"{t.label} ({len(t.members)})" for t in model.of_kind("technique")))
        del areas
    result["model"] = model
    return result


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def means(concepts: list[dict[str, Any]], min_papers: int = 1) -> tuple[float, float, int]:
    counted = [c for c in concepts if c["papers"] >= min_papers]
    recall = float(np.mean([c["recall"] for c in counted])) if counted else 0.0
    precision = float(np.mean([c["precision"] or 0.0 for c in counted])) if counted else 0.0
    return recall, precision, len(counted)


def markdown(sample: dict[str, Any], demo: dict[str, Any] | None) -> str:
    lines = [
        "## Topics: concepts researchers follow, found by name",
        "",
        f"`{COMMAND}` ({os.cpu_count()} CPUs). Recall: share of the papers whose title names the concept "
        "that carry a topic whose label names it. Precision: share of those topics' papers about the concept "
        "(title or abstract). Concepts above the line are the specified list; below it, added checks.",
        "",
    ]
    for r in [sample] + ([demo] if demo else []):
        rec, prec, k = means(r["concepts"])
        lines.append(
            f"- **{r['name']}** ({r['papers']} papers, build {r['seconds']:.1f} s in process): "
            f"{r['areas']} areas, {r['subtopics']} subtopics, {r['techniques']} techniques; "
            f"NMI area vs primary category {r['nmi']:.3f}; {r['without area']:.1%} without an area; "
            f"labels breaking the rules: {len(r['bad labels'])}; "
            f"same-thing pairs: {len(r['same-thing labels'])}; "
            f"mean recall {rec:.2f}, mean precision {prec:.2f} over {k} concepts with papers"
        )
    if demo:
        spec = [c for c in demo["concepts"][: len(SPECIFIED)] if c["papers"] >= 5]
        low = [c["concept"] for c in spec if (c["recall"] or 0) < 0.70]
        lines.append(
            f"- demo, specified concepts with >= 5 papers: {len(spec)}; "
            f"below recall 0.70: {', '.join(low) or 'none'}"
        )
    lines += [
        "",
        "| concept | 25k papers | 25k recall | 25k precision | demo papers | demo recall | demo precision "
        "| 25k topics |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(sample["concepts"]):
        d = demo["concepts"][i] if demo else {"papers": "-", "recall": None, "precision": None}
        if i == len(SPECIFIED):
            lines.append("| *added* | | | | | | | |")
        topics = ", ".join(c["topics"][:3]) + (" ..." if len(c["topics"]) > 3 else "")
        lines.append(
            f"| {c['concept']} | {c['papers']} | {fmt(c['recall'])} | {fmt(c['precision'])} | "
            f"{d['papers']} | "
            f"{fmt(d['recall'])} | {fmt(d['precision'])} | {topics} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--labels", action="store_true", help="print every area with its subtopics")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows, vectors = load_sample()
    sample = evaluate("25k sample", rows, vectors, args.seed, args.labels)
    demo = None
    if not args.skip_demo:
        demo_rows, demo_vectors = load_demo()
        demo = evaluate("demo", demo_rows, demo_vectors, args.seed, args.labels)
    for r in [sample] + ([demo] if demo else []):
        rec, prec, k = means(r["concepts"])
        print(f"{r['name']}: mean recall {rec:.3f}, mean precision {prec:.3f} ({k} concepts)")
    if not args.no_write:
        write_section("topics_quality", markdown(sample, demo))


if __name__ == "__main__":
    main()
