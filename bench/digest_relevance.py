"""Digest relevance on the shared 25k arXiv sample: simulated researchers, weekly digests, ground truth.

Each of the research interests below is a subscriber four ways: the interest sentence only
("text"), keywords only ("keywords"), followed topics only ("topics") and all of it ("all").
For every as-of week (a Monday 07:00 UTC build; candidates: papers announced in the seven days up to
it, nothing later) the product's ranking (`app.digest.profiles` + `app.digest.selection`, the code a
digest build runs) picks up to 10 papers; the baselines rank the same candidates by the cosine
between the interest sentence and the paper vectors, and by BM25 over title + abstract with the
sentence and with the keywords (top 10 each).

Ground truth is a rule per interest over title and abstract, written from the field's vocabulary,
not from the product's scoring: a paper is on-interest when its title matches the rule, or the
abstract matches it at least twice (a passing mention is not the paper's subject). The rules were
hand-checked on a sample of papers (see docs/BENCHMARKS.md).

precision@10 = on-interest picks / picks (at most 10; an empty digest counts apart, as "empty");
found = on-interest picks / min(10, on-interest candidates of the week).
Followed topics are chosen as a researcher would from the topic list of a topic model built on the
papers up to the last week (areas, their subtopics, techniques): the topic whose label best names
the interest (cosine of name and label in the product's encoder), the most specific of those with
that name (see `choose_topics`); the ground-truth rules play no part in it.
Feedback: after each week's "all" digest the researcher marks up to five of its papers (more like
this when on-interest, less like this when not); the next week's precision with and without those
marks is compared.

    .venv/bin/python bench/digest_relevance.py [--weeks 2026-06-08,2026-06-15,2026-06-22,2026-06-29]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.digest.profiles import MarkedPaper, Told, TopicKind, make_profile
from app.digest.selection import Candidate, Pool, Weights, select
from app.digest.textmatch import TextIndex
from app.topics.labeling import same_thing
from bench._report import write_section
from bench._sample import IDS, VECTORS, load_records

COMMAND = ".venv/bin/python bench/digest_relevance.py"
WEEKS = "2026-06-08,2026-06-15,2026-06-22,2026-06-29"
MODES = ("text", "keywords", "topics", "all")
CASES = False  # --cases: print every feedback case
HAND_CHECK = (
    "Ground truth hand-checked on 60 papers of June 2026 (for 12 interests drawn at random, 3 the rule "
    "calls on-interest and 2 it calls off-interest though they share a keyword's word), judged by reading "
    "title and abstract: 50 of 60 agreed with the first version of the rules; the recommender-systems and "
    'driving rules were then tightened ("recommend" alone and a missing "autonomous vehicle" made four '
    "of the ten disagreements)."
)


@dataclass(frozen=True)
class Interest:
    name: str
    sentence: str
    keywords: tuple[str, ...]
    rule: str  # regular expression over lower-cased text: the ground truth


INTERESTS = [
    Interest("Gaussian splatting",
             "3D Gaussian splatting for novel view synthesis and scene reconstruction",
             ("Gaussian splatting", "3DGS"), r"gaussian splat|\b3dgs\b|3d gaussians?\b"),
    Interest("Machine translation", "neural machine translation between languages",
             ("machine translation", "NMT"),
             r"machine translation|\bnmt\b|translation quality|low-resource translation"),
    Interest("Medical image segmentation", "segmentation of organs and lesions in medical images",
             ("medical image segmentation", "lesion segmentation", "organ segmentation"),
             r"(medical|ct|mri|ultrasound|lesion|organ|tumou?r|polyp).{0,40}segment"
             r"|segment.{0,40}(medical|ct|mri|lesion|organ|tumou?r)"),
    Interest("LLM agents", "autonomous agents built on large language models that plan and use tools",
             ("LLM agents", "tool use", "agentic"),
             r"\b(llm|language model)[- ]based agents?|\bllm agents?\b|agentic"
             r"|tool[- ](use|calling|augmented)"),
    Interest("RL with verifiable rewards",
             "reinforcement learning with verifiable rewards for reasoning models",
             ("RLVR", "verifiable rewards", "GRPO"), r"verifiable reward|\brlvr\b|\bgrpo\b"),
    Interest("Speech recognition", "automatic speech recognition models",
             ("speech recognition", "ASR"), r"speech recognition|\basr\b|speech-to-text"),
    Interest("Graph neural networks", "graph neural networks for learning on graphs",
             ("GNN", "graph neural networks", "message passing"),
             r"graph neural network|\bgnns?\b|message[- ]passing|graph convolution"),
    Interest("LLM quantization",
             "quantization of large language model weights and activations",
             ("quantization", "low-bit"), r"quantiz|low-bit|\b[248]-bit\b"),
    Interest("Speculative decoding", "speculative decoding to speed up LLM inference",
             ("speculative decoding", "draft model"),
             r"speculative (decoding|sampling)|draft model|draft tokens"),
    Interest("Federated learning", "federated learning across clients with private data",
             ("federated learning",), r"federated"),
    Interest("Autonomous driving", "autonomous driving perception, prediction and planning",
             ("autonomous driving", "self-driving"),
             r"autonomous (driving|vehicles?)|self-driving|driving scenes?|end-to-end driving"),
    Interest("Recommender systems", "recommender systems and recommendation models",
             ("recommender systems", "recommendation"), r"recommender|recommendation (systems?|models?)"
             r"|collaborative filtering|\bctr prediction"),
    Interest("Retrieval-augmented generation",
             "retrieval-augmented generation with large language models",
             ("RAG", "retrieval-augmented generation"), r"retrieval[- ]augmented|\brag\b"),
    Interest("Code generation", "large language models that generate program code",
             ("code generation", "program synthesis"),
             r"code generation|program synthesis|generat\w* code"
             r"|coding (agents?|tasks|benchmarks?)|code llms?"),
    Interest("Jailbreaks", "jailbreak attacks and defenses for large language models",
             ("jailbreak", "red teaming"), r"jailbreak|red[- ]teaming|harmful (prompts|requests)"),
    Interest("Time series forecasting", "forecasting time series",
             ("time series forecasting",), r"time[- ]series (forecast|predict)|forecasting"),
    Interest("Robot manipulation", "robot manipulation learned from demonstrations",
             ("robot manipulation", "imitation learning"),
             r"manipulation|grasp|dexterous|imitation learning|visuomotor"),
    Interest("Point clouds", "deep learning on 3D point clouds",
             ("point cloud",), r"point[- ]clouds?|lidar"),
    Interest("Video generation", "text-to-video generation with diffusion models",
             ("video generation", "text-to-video"),
             r"video generation|text-to-video|video diffusion|generat\w* videos?"),
    Interest("Mixture of experts", "mixture-of-experts language models and expert routing",
             ("mixture of experts", "MoE"), r"mixture[- ]of[- ]experts?|\bmoe\b|expert routing"),
    Interest("Knowledge distillation", "knowledge distillation from teacher to student models",
             ("knowledge distillation",), r"distill"),
    Interest("VLM hallucination", "hallucination in vision-language models",
             ("hallucination", "vision-language model"), r"hallucinat"),
    Interest("Molecule design", "generative models for molecules and drug discovery",
             ("molecule generation", "drug discovery"), r"molecul|drug discovery|protein design"),
    Interest("Sign language", "sign language recognition and translation",
             ("sign language",), r"sign language"),
]  # fmt: skip


def on_interest(rule: re.Pattern[str], title: str, abstract: str) -> bool:
    return bool(rule.search(title.lower())) or len(rule.findall(abstract.lower())) >= 2


@dataclass
class Tally:
    precision: list[float] = field(default_factory=list)
    found: list[float] = field(default_factory=list)
    empty: int = 0

    def add(self, picks: list[int], truth: set[int]) -> None:
        top = picks[:10]
        if truth:
            self.found.append(len(set(top) & truth) / min(10, len(truth)))
        if not top:
            self.empty += 1
            return
        self.precision.append(len(set(top) & truth) / len(top))

    def p(self) -> float:
        return statistics.fmean(self.precision) if self.precision else 0.0

    def f(self) -> float:
        return statistics.fmean(self.found) if self.found else 0.0


def choose_topics(
    name: np.ndarray[Any, Any],
    labels: dict[int, str],
    label_vectors: dict[int, np.ndarray[Any, Any]],
    kinds: dict[int, TopicKind],
) -> frozenset[int]:
    """The topics a researcher follows from the topic list: the one whose label best names their
    interest (cosine of the interest's name and the label, in the encoder the product uses), the
    most specific when several name it (a subtopic or technique over an area of the same name), and
    every other subtopic or technique with that same name (a subtopic "Machine Translation" and the
    technique "Machine Translation"). The ground-truth rules play no part."""
    if not labels:
        return frozenset()
    best = max(labels, key=lambda t: (round(float(label_vectors[t] @ name), 6), -t))
    named = [t for t in labels if same_thing(labels[t], labels[best])]
    specific = [t for t in named if kinds[t].kind != "area"]
    return frozenset(sorted(specific)[:2] if specific else [best])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", default=WEEKS, help="as-of Mondays, comma-separated")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    parser.add_argument("--cases", action="store_true", help="print every feedback case (picks, hits, marks)")
    args = parser.parse_args()
    global CASES
    CASES = args.cases
    started = time.perf_counter()
    weeks = [date.fromisoformat(w) for w in args.weeks.split(",")]
    rows = load_records()
    ids = IDS.read_text().split()
    if ids != [r["id"] for r in rows]:
        raise SystemExit("vectors and papers of the sample are not in the same order")
    vectors = np.load(VECTORS).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    day = [date.fromisoformat(r["announced_date"][:10]) for r in rows]
    print(f"{len(rows)} papers; building topics on those announced up to {weeks[-1]} ...", flush=True)
    from app.topics.model import build_topic_model

    upto = [i for i, d in enumerate(day) if d <= weeks[-1]]
    model = build_topic_model(
        vectors[upto], [rows[i]["title"] for i in upto], [rows[i]["abstract"] for i in upto], seed=0
    )
    members: dict[int, dict[int, float]] = {}
    kinds: dict[int, TopicKind] = {}
    number = {draft.key: t for t, draft in enumerate(model.topics, start=1)}
    labels = {t: draft.label for t, draft in enumerate(model.topics, start=1)}
    for t, draft in enumerate(model.topics, start=1):
        kinds[t] = TopicKind(draft.kind, number.get(draft.parent) if draft.parent else None)
        for r, score in draft.members:
            members.setdefault(upto[r], {})[t] = float(score)
    parents = {t: k.parent_id for t, k in kinds.items() if k.parent_id is not None}
    print(
        f"{len(model.topics)} topics in {time.perf_counter() - started:.0f}s; encoding interests ...",
        flush=True,
    )
    from app.embed.encoder import SentenceTransformerEncoder, bundled_model_path

    path = bundled_model_path()
    if path is None:
        raise SystemExit("the bundled all-MiniLM-L6-v2 model is not installed")
    encoder = SentenceTransformerEncoder(path)
    sentences = encoder.encode([i.sentence for i in INTERESTS])
    names = encoder.encode([i.name for i in INTERESTS])
    label_vectors = dict(zip(labels, encoder.encode(list(labels.values())), strict=True))
    rules = [re.compile(i.rule) for i in INTERESTS]
    truth_all = [
        {r for r in upto if on_interest(rule, rows[r]["title"], rows[r]["abstract"])} for rule in rules
    ]
    followed = [
        choose_topics(np.asarray(names[n]), labels, label_vectors, kinds) for n in range(len(INTERESTS))
    ]
    choices = []
    for interest, chosen in zip(INTERESTS, followed, strict=True):
        named = ", ".join(f"{labels[t]} ({kinds[t].kind})" for t in sorted(chosen))
        choices.append(f"{interest.name} → {named}")
    weights = Weights()
    tallies: dict[tuple[str, str], Tally] = {}
    feedback_gain: list[float] = []
    feedback_before: list[float] = []
    for k, asof in enumerate(weeks):
        rows_w = [r for r, d in enumerate(day) if asof - timedelta(days=7) < d <= asof]
        pool = Pool(
            [
                Candidate(
                    paper_id=r,
                    title=rows[r]["title"],
                    text=f"{rows[r]['title']} {rows[r]['abstract']}",
                    abstract=rows[r]["abstract"],
                    authors=tuple(rows[r].get("authors") or ()),
                    topics=members.get(r, {}),
                    recency=float(day[r].toordinal()),
                )
                for r in rows_w
            ],
            vectors[rows_w],
            parents,
        )
        text = TextIndex([rows[r]["title"] for r in rows_w], [rows[r]["abstract"] for r in rows_w])
        eligible = list(range(len(rows_w)))
        for n, interest in enumerate(INTERESTS):
            truth = truth_all[n] & set(rows_w)
            sentence = np.asarray(sentences[n], dtype=np.float32)

            def top(score: np.ndarray[Any, Any], rows_w: list[int] = rows_w) -> list[int]:
                order = np.lexsort((np.array(rows_w), -score))[:10]
                return [rows_w[i] for i in order]

            baselines = {
                "cosine": top(vectors[rows_w] @ sentence),
                "BM25 sentence": top(text.bm25(interest.sentence)),
                "BM25 keywords": top(text.bm25(" ".join(interest.keywords))),
            }
            for name, picks in baselines.items():
                tallies.setdefault((interest.name, name), Tally()).add(picks, truth)
            for mode in MODES:
                told = Told(
                    topic_ids=followed[n] if mode in ("topics", "all") else frozenset(),
                    keywords=interest.keywords if mode in ("keywords", "all") else (),
                    interest_text=interest.sentence if mode in ("text", "all") else "",
                    interest=sentence if mode in ("text", "all") else None,
                    include_trending=False,
                )
                profile = make_profile(told, kinds, {}, {}, weights.area_weight)
                picks = [p.paper_id for p in select(profile, pool, eligible, labels, weights)]
                tallies.setdefault((interest.name, mode), Tally()).add(picks, truth)
                if mode == "all" and k + 1 < len(weeks):
                    feedback_run(k, n, picks, truth_all[n], told, rows, day, weeks, vectors, members, kinds,
                                 labels, weights, feedback_before, feedback_gain)  # fmt: skip
        print(f"week {asof}: {len(rows_w)} candidates", flush=True)
    report(
        tallies,
        feedback_before,
        feedback_gain,
        weeks,
        choices,
        time.perf_counter() - started,
        not args.no_write,
    )


def feedback_run(
    k: int,
    n: int,
    picks: list[int],
    truth: set[int],
    told: Told,
    rows: list[dict[str, Any]],
    day: list[date],
    weeks: list[date],
    vectors: np.ndarray[Any, Any],
    members: dict[int, dict[int, float]],
    kinds: dict[int, TopicKind],
    labels: dict[int, str],
    weights: Weights,
    before: list[float],
    gain: list[float],
) -> None:
    """Mark up to five of this week's picks (off-interest ones first), then rank next week both ways."""
    marks = sorted(picks[:10], key=lambda r: r in truth)[:5]
    if not marks:
        return
    nxt = weeks[k + 1]
    rows_w = [r for r, d in enumerate(day) if nxt - timedelta(days=7) < d <= nxt]
    pool = Pool(
        [
            Candidate(
                paper_id=r,
                title=rows[r]["title"],
                text=f"{rows[r]['title']} {rows[r]['abstract']}",
                abstract=rows[r]["abstract"],
                topics=members.get(r, {}),
            )
            for r in rows_w
        ],
        vectors[rows_w],
    )
    week_truth = truth & set(rows_w)
    feedback = tuple(("more" if r in truth else "less", r, None) for r in marks)
    marked = {r: MarkedPaper(rows[r]["title"], (), members.get(r, {}), rows[r]["abstract"]) for r in marks}
    results = []
    for fb in ((), feedback):
        profile = make_profile(
            Told(**{**told.__dict__, "feedback": fb}), kinds, {r: vectors[r] for r in marks}, marked,
            weights.area_weight,
        )  # fmt: skip
        chosen = [p.paper_id for p in select(profile, pool, list(range(len(rows_w))), labels, weights)][:10]
        results.append(len(set(chosen) & week_truth) / len(chosen) if chosen else 0.0)
        print(
            "FB", INTERESTS[n].name, k, len(chosen), len(set(chosen) & week_truth), [m[0] for m in feedback]
        )
    before.append(results[0])
    gain.append(results[1] - results[0])


def report(
    tallies: dict[tuple[str, str], Tally],
    before: list[float],
    gain: list[float],
    weeks: list[date],
    choices: list[str],
    seconds: float,
    write: bool,
) -> None:
    columns = [*MODES, "cosine", "BM25 sentence", "BM25 keywords"]
    lines = [
        "## Digest relevance",
        "",
        f"Command: `{COMMAND}` (as-of weeks {', '.join(str(w) for w in weeks)}; {len(INTERESTS)} interests; "
        f"{seconds:.0f} s). Precision@10 per interest (found: share of the week's on-interest papers, "
        "up to 10, that the top 10 holds; empty: weeks with no digest, not counted in precision).",
        "",
        "| Interest | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for interest in INTERESTS:
        cells = [f"{tallies[(interest.name, c)].p():.2f}" for c in columns]
        lines.append(f"| {interest.name} | " + " | ".join(cells) + " |")

    def mean(column: str, what: str = "p") -> float:
        values = [getattr(tallies[(i.name, column)], what)() for i in INTERESTS]
        return statistics.fmean(values)

    lines.append("| **mean precision@10** | " + " | ".join(f"**{mean(c):.2f}**" for c in columns) + " |")
    lines.append("| mean found | " + " | ".join(f"{mean(c, 'f'):.2f}" for c in columns) + " |")
    empties = [sum(tallies[(i.name, c)].empty for i in INTERESTS) for c in columns]
    lines.append("| empty digests | " + " | ".join(str(e) for e in empties) + " |")
    best = max(mean(c) for c in ("cosine", "BM25 sentence", "BM25 keywords"))
    lines += ["", HAND_CHECK]
    lines += [
        "",
        "Topics-only subscribers follow, from the topic list, the topic whose label best names the "
        "interest (the most specific of that name; the ground truth plays no part): "
        + "; ".join(choices)
        + ".",
    ]
    lines += [
        "",
        f"Best baseline: {best:.2f}. Targets: every mode ≥ {best + 0.05:.2f}, "
        f"all together ≥ {best + 0.10:.2f}.",
    ]
    for mode in MODES:
        target = best + (0.10 if mode == "all" else 0.05)
        verdict = "met" if mean(mode) >= target else "NOT met"
        lines.append(f"- {mode}: {mean(mode):.2f} ({verdict})")
    if gain:
        lines.append(
            f'- feedback on 5 papers of one week, next week\'s precision of the "all" digest: '
            f"{statistics.fmean(before):.2f} → {statistics.fmean(before) + statistics.fmean(gain):.2f} "
            f"(better in {sum(g > 0 for g in gain)}, worse in {sum(g < 0 for g in gain)} "
            f"of {len(gain)} cases)"
        )
    body = "\n".join(lines)
    print(body)
    if write:
        write_section("digest_relevance", body)


if __name__ == "__main__":
    main()
