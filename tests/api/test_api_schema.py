"""schemathesis against the OpenAPI schema: no server errors, every answer matches the schema.

Only the read operations run here (GET); the schema is taken from the real app over the
seeded database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from tests.web.apputil import build_app
from tests.web.seed import Seeded


def _schema_app() -> FastAPI:
    """An app whose only use is to serve its OpenAPI document (its database is never touched)."""
    folder = Path(tempfile.mkdtemp(prefix="pt-schema-"))
    factory = make_session_factory(make_engine(f"sqlite:///{folder / 'unused.db'}"))
    return build_app(factory, folder)


# The document is read without starting the app (no lifespan): an app started at import would keep
# its background threads running through the collection of every later test module.
schema = schemathesis.openapi.from_dict(TestClient(_schema_app()).get("/api/v1/openapi.json").json()).include(
    method="GET"
)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case, client: TestClient) -> None:
    # The generated requests go to the app over the seeded database (SQLite, then PostgreSQL).
    # A cursor is an opaque token the server handed out: a made-up one is rightly refused (422),
    # which the schema cannot express, so only that case skips the "valid data is accepted" check.
    excluded = [positive_data_acceptance] if "cursor" in (case.query or {}) else []
    case.call_and_validate(app=client.app, excluded_checks=excluded)


def test_schema_is_complete(session_factory: sessionmaker[Session], seeded: Seeded, tmp_path: Path) -> None:
    with TestClient(build_app(session_factory, tmp_path)) as client:
        spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/papers",
        "/api/v1/papers/{paper_id}",
        "/api/v1/papers/{paper_id}/similar",
        "/api/v1/topics",
        "/api/v1/topics/{slug}",
        "/api/v1/topics/{slug}/series",
        "/api/v1/phrases",
        "/api/v1/trending",
        "/api/v1/search",
        "/api/v1/status",
    ):
        op = paths[path]["get"]
        assert op.get("summary"), path
        assert {"200", "404", "422"} <= set(op["responses"]), path
    schemas = spec["components"]["schemas"]
    assert schemas["Paper"]["examples"] and schemas["TopicSummary"]["examples"]
    assert schemas["ErrorResponse"]["properties"]["error"]
