"""Helpers of the security tests: clients from this machine and from elsewhere, and the settings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

LOOPBACK_CLIENT = ("127.0.0.1", 50123)
REMOTE_CLIENT = ("203.0.113.7", 50123)  # TEST-NET-3: an address that is not this machine
STRONG = "k3Jx9-pQ2vLm8ZtR4wYb7NcH1sDf6GaE0uXo5TiV"  # passes the production rule


def local_client(app: FastAPI, **kw: Any) -> TestClient:
    """A client on this machine, asking for a loopback host (as a browser on the laptop does)."""
    return TestClient(app, base_url="http://127.0.0.1:8000", client=LOOPBACK_CLIENT, **kw)


def remote_client(app: FastAPI, **kw: Any) -> TestClient:
    """A client from another address (as anyone on the network or the internet)."""
    return TestClient(app, base_url="https://papers.example.org", client=REMOTE_CLIENT, **kw)
