"""Quality and speed of the topic model on the shared 25k arXiv sample (precomputed MiniLM vectors).

Prints: build time, NMI of each paper's area vs its arXiv primary category, the share of papers
without an area, how many of the papers with "quantiz" / "prun"|"sparsit" in the title sit in the
quantization / pruning-sparsity technique, topic counts, duplicate labels, example labels, the ids
kept by a same-seed rebuild, and the topics matched between a build on the first 90% of the papers
(by announced date) and one on all of them. Targets (docs/BENCHMARKS.md): NMI >= 0.30, <= 10% without
an area, > 50% of the title-word papers in their technique, build <= 5.7 s (1/20 of BERTopic's 113 s),
>= 85% of topics matched.

    .venv/bin/python bench/topics_quality.py [--data ../shared/data] [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from app.topics.labeling import label_key
from app.topics.model import TopicModel, build_topic_model
from app.topics.tracking import match_topics, refs_from_drafts

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load(data: Path) -> tuple[list[dict[str, str]], np.ndarray]:
    with gzip.open(data / "arxiv_cs_2025-03_to_2026-07_sample25k.jsonl.gz", "rt") as fh:
        rows = [json.loads(line) for line in fh]
    vectors = np.load(data / "arxiv_cs_sample25k_minilm.f16.npy").astype(np.float32)
    ids = (data / "arxiv_cs_sample25k_minilm.ids.txt").read_text().split()
    if ids != [r["id"] for r in rows]:
        raise SystemExit("embeddings and metadata are not in the same order")
    return rows, vectors


def build(vectors: np.ndarray, rows: list[dict[str, str]], seed: int) -> tuple[TopicModel, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    model = build_topic_model(vectors, [r["title"] for r in rows], [r["abstract"] for r in rows], seed=seed)
    return model, time.perf_counter() - wall, time.process_time() - cpu


def word_share(model: TopicModel, rows: list[dict[str, str]], words: tuple[str, ...]) -> tuple[float, str]:
    """Share of the papers with one of `words` in the title held by the best technique named after them."""
    wanted = {i for i, r in enumerate(rows) if any(w in r["title"].lower() for w in words)}
    best, name = 0, "(no such technique)"
    for topic in model.of_kind("technique"):
        if any(w in topic.label.lower() for w in words):
            held = len(wanted & {r for r, _ in topic.members})
            if held > best:
                best, name = held, topic.label
    return best / max(len(wanted), 1), f"{name}: {best}/{len(wanted)}"


def matched_share(old: TopicModel, new: TopicModel, old_ids: list[int], new_ids: list[int]) -> str:
    """Match `new` to `old` as the service would (paper ids: row numbers in the full sample)."""
    refs = refs_from_drafts(old.topics, list(range(len(old.topics))), old_ids)
    result = match_topics(refs, new.topics, new_member_ids=new_ids)
    parts = []
    for kind in ("area", "technique"):
        n_old = sum(t.kind == kind for t in old.topics)
        n_new = sum(t.kind == kind for t in new.topics)
        hits = sum(new.topics[i].kind == kind for i in result.mapping)
        parts.append(f"{kind}s {hits}/{n_old} old, {hits}/{n_new} new")
    total = len(result.mapping) / max(len(old.topics), 1)
    return f"{total:.1%} of the old topics matched ({'; '.join(parts)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows, vectors = load(args.data)
    ids = list(range(len(rows)))
    busy = os.getloadavg()[0]
    print(f"{len(rows)} papers, {vectors.shape[1]}-d vectors; {os.cpu_count()} CPUs, load average {busy:.1f}")

    model, wall, cpu = build(vectors, rows, args.seed)
    print(f"build: {wall:.2f} s wall, {cpu:.2f} s CPU (BERTopic defaults: 113.5 s)")
    area_of = np.full(len(rows), -1)
    for i, topic in enumerate(model.topics):
        if topic.kind == "area":
            area_of[[r for r, _ in topic.members]] = i
    nmi = normalized_mutual_info_score([r["primary_category"] for r in rows], area_of)
    print(f"NMI area vs primary category: {nmi:.3f} (target >= 0.30)")
    print(f"without an area: {np.mean(area_of < 0):.1%} (target <= 10%)")
    for words in (("quantiz",), ("prun", "sparsit")):
        share, detail = word_share(model, rows, words)
        print(f"title {'/'.join(words)} in its technique: {share:.1%} ({detail}) (target > 50%)")
    areas, techniques = model.of_kind("area"), model.of_kind("technique")
    print(f"topics: {len(model.topics)} ({len(areas)} areas, {len(techniques)} techniques)")
    labels = [t.label for t in model.topics]
    keys = [label_key(lab) for lab in labels]
    dupes = [lab for i, lab in enumerate(labels) if keys[i] in keys[:i]]
    longest = max(len(lab.split()) for lab in labels)
    print(f"duplicate labels: {len(dupes)} {dupes}; longest label: {longest} words")
    for name, topics in (("areas", areas), ("techniques", techniques)):
        shown = ", ".join(f"{t.label} ({len(t.members)})" for t in topics[:20])
        print(f"{name}: {shown}")
    sizes = [len(t.members) for t in techniques]
    if sizes:
        print(f"technique sizes: min {min(sizes)}, median {int(np.median(sizes))}, max {max(sizes)}")

    again, wall2, _ = build(vectors, rows, args.seed)
    pairs = zip(model.topics, again.topics, strict=False)
    same = [a.label == b.label and a.members == b.members for a, b in pairs]
    print(
        f"same-seed rebuild ({wall2:.2f} s): identical topics {sum(same)}/{len(model.topics)}; "
        f"{matched_share(model, again, ids, ids)}"
    )

    order = sorted(range(len(rows)), key=lambda i: (rows[i]["announced_date"], rows[i]["id"]))
    first = sorted(order[: int(0.9 * len(rows))])
    early, wall3, _ = build(vectors[first], [rows[i] for i in first], args.seed)
    print(
        f"first 90% by date ({len(first)} papers, {wall3:.2f} s) vs all: "
        f"{matched_share(early, model, [ids[i] for i in first], ids)} (target >= 85%)"
    )


if __name__ == "__main__":
    main()
