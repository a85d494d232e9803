"""The mail tests' guard: any connection to anything but the loopback interface fails.

The scripted SMTP server on 127.0.0.1 (`smtp`) is a fixture of the root conftest."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.mail.mail_support import NetworkBlocked

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    original = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and str(address[0]) not in LOOPBACK:
            raise NetworkBlocked(f"the mail tests may only connect to 127.0.0.1, not {address[0]}")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
