"""The task queue's tables in our schema: created by migration 0010, ignored by autogenerate.

procrastinate owns its tables, types and functions (`procrastinate_*`, PostgreSQL only); our
Alembic migrations apply procrastinate's own schema file of the pinned version, and its later
versions arrive as new migrations that apply procrastinate's migration files. This module
imports nothing heavy, so `migrations/env.py` and the migration tests can use its hooks.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from app.embed import fulltext

PREFIX = "procrastinate_"

# Everything the schema file creates, for the downgrade (functions are found in the catalogue).
TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def schema_sql() -> str:
    """procrastinate's schema file, as shipped with the installed (pinned) version."""
    return (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic hook: the task queue's tables and the full-text tables are not in the models."""
    if type_ == "table" and name is not None and name.startswith(PREFIX):
        return False
    return fulltext.include_name(name, type_, parent_names)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name is not None and name.startswith(PREFIX):
        return False
    return fulltext.include_object(obj, name, type_, reflected, compare_to)
