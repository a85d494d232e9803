"""Writing a benchmark's section of docs/BENCHMARKS.md (a helper, not a benchmark).

Each benchmark owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the file is
re-read right before writing (another benchmark may have written meanwhile) and replaced atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace section `name` of `doc` with `body`, or append it when the section is new."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    doc.parent.mkdir(parents=True, exist_ok=True)
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    tmp = doc.with_name(f".{doc.name}.{os.getpid()}.tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(doc)
