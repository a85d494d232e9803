#!/usr/bin/env bash
# Development only, before the first release: regenerate the initial migration from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
f=migrations/versions/2026-11-27_0001_initial_schema.py
rm -f "$f"
.venv/bin/alembic -x url="sqlite:///$tmp/empty.db" revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null
sed -i 's/app\.models\._common\.UTCDateTime(timezone=True)/sa.DateTime(timezone=True)/g; s/astext_type=Text()/astext_type=sa.Text()/g' "$f"
.venv/bin/ruff format -q "$f"; .venv/bin/ruff check --fix -q "$f" || true
rm -rf "$tmp"
echo "regenerated $f"
