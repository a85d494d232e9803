"""The security tests: each is named after a promise of the product and fails when it is broken.

The mail and digest test helpers (a real aiosmtpd server, papers and subscribers written
through the models) are shared with those suites.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in ("mail", "digest"):
    path = str(HERE.parent / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
