"""The shared 25k arXiv sample for the benchmarks (a helper, not a benchmark).

Where its papers (JSONL.gz), their precomputed all-MiniLM-L6-v2 vectors (float16 .npy) and the
vectors' paper ids lie, and reading its records.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

# The project's shared material sits next to the repository (../shared/data); the environment
# variable points elsewhere.
DATA = Path(os.environ.get("PAPERTREND_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PAPERS = DATA / "arxiv_cs_2025-03_to_2026-07_sample25k.jsonl.gz"
VECTORS = DATA / "arxiv_cs_sample25k_minilm.f16.npy"
IDS = DATA / "arxiv_cs_sample25k_minilm.ids.txt"


def load_records(path: Path = PAPERS, limit: int | None = None) -> list[dict[str, Any]]:
    """The papers of `path` in file order, the first `limit` of them when given."""
    out: list[dict[str, Any]] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if limit is not None and len(out) >= limit:
                break
    return out
