"""The bundled starting model: a stored model document shipped with the package.

Trained by `bench/early_trending.py --write-model` on the project's 25k arXiv sample, using
only papers announced before 2025-04-21 (provenance in `data/PROVENANCE.md`), so that
predictions work offline from the first run. It is JSON (numbers and names, no pickle).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUNDLED_PATH = Path(__file__).resolve().parent / "data" / "bundled_model.json"


def load_bundled(path: Path = BUNDLED_PATH) -> dict[str, Any]:
    """The bundled model document; raises FileNotFoundError or ValueError when it is unusable."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "model" not in document or "cutoff" not in document:
        raise ValueError(f"{path} is not a model document")
    return document
