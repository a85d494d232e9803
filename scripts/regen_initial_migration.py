"""Development only, before the first release: rewrite the initial migration from the models.

Works while later hand-written migrations exist (it compares the models with an empty
database instead of running `alembic revision`). Run: .venv/bin/python scripts/regen_initial_migration.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import app.models  # noqa: E402,F401
from app.db import Base  # noqa: E402

TARGET = ROOT / "migrations/versions/2026-11-27_0001_initial_schema.py"
HEADER = '''"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
'''


def _clean(code: str) -> str:
    code = code.replace("app.models._common.UTCDateTime(timezone=True)", "sa.DateTime(timezone=True)")
    code = code.replace("astext_type=Text()", "astext_type=sa.Text()")
    return re.sub(r"^\s*# ### .*$\n?", "", code, flags=re.M)


def main() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        script = produce_migrations(ctx, Base.metadata)
    ups = _clean(render_python_code(script.upgrade_ops, migration_context=ctx))
    downs = _clean(render_python_code(script.downgrade_ops, migration_context=ctx))
    TARGET.write_text(HEADER + ups + "\n\ndef downgrade() -> None:\n" + downs + "\n")
    subprocess.run([str(ROOT / ".venv/bin/ruff"), "format", "-q", str(TARGET)], check=False)
    subprocess.run([str(ROOT / ".venv/bin/ruff"), "check", "--fix", "-q", str(TARGET)], check=False)
    print(f"regenerated {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
