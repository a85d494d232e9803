"""Operations endpoints: `/healthz` (alive), `/readyz` (ready for traffic), `/metrics` (Prometheus).

Plain answers for machines, not pages: JSON for the two probes, the Prometheus text format
for metrics. What each checks is in `app.http.health` and `app.http.metrics`. `/metrics`
asks for `Authorization: Bearer <METRICS_TOKEN>` when that setting is set.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.http import StateDep
from app.http.health import check_ready
from app.http.metrics import render_metrics
from app.security.strength import secret_equals

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is alive (nothing else is checked)."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Database reachable, schema current, index loaded: 200, else 503 with the reasons."""
    readiness = check_ready(state)
    return JSONResponse(readiness.as_dict(), status_code=200 if readiness.ready else 503, headers=NO_STORE)


@router.get("/metrics")
def metrics(request: Request, state: StateDep) -> Response:
    """Prometheus text format (see app.http.metrics for the series)."""
    token = state.settings.metrics_token
    if token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret_equals(presented.strip(), token):
            return Response(
                "metrics need Authorization: Bearer <METRICS_TOKEN>\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": "Bearer", **NO_STORE},
            )
    return Response(render_metrics(request), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
