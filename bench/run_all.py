"""Run every benchmark in turn (`make bench`); each writes its own section of docs/BENCHMARKS.md.

The benchmarks read the 25k-paper sample from ../shared/data (see each script's --help for
another path). They run one after the other: this machine has 2 cores, and two benchmarks at
once would measure each other. Pass names to run a subset: `python bench/run_all.py ingest topics`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = ["ingest", "embed", "search", "topics", "trends", "mail", "web", "early_trending", "digest_relevance"]


def main(argv: list[str]) -> int:
    names = argv or ORDER
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ORDER)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        started = time.perf_counter()
        print(f"== bench/{name}.py", flush=True)
        code = subprocess.call([sys.executable, str(BENCH / f"{name}.py")])
        print(f"== bench/{name}.py exited {code} after {time.perf_counter() - started:.0f}s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
