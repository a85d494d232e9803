"""The migrations match the models and run both ways on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from app.db import Base
from app.jobs.queue_schema import include_name, include_object
from tests.conftest import ROOT, Config


def _config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def test_autogenerate_finds_no_difference(engine: Engine) -> None:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
        ctx = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_downgrade_base_then_upgrade_again(database_url: str, engine: Engine) -> None:
    cfg = _config(database_url)
    command.downgrade(cfg, "base")
    engine.dispose()
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    command.upgrade(cfg, "head")
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())
