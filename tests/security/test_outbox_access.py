"""The file outbox holds other people's confirmation links: only this machine or the admin may read it.

Checked against a real database (both kinds) with the real app: a client from another address
(directly, through a reverse proxy on the same machine, through uvicorn's proxy-header handling,
or by DNS rebinding) gets nothing; the machine itself and the admin token get the mail; production
has no file outbox at all, and the image runs in production.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.config import ConfigError, load_settings
from app.mail.senders import make_sender
from tests.mail.mail_support import csrf_from, deliver_confirmations, make_app, settings_for
from tests.security.support import STRONG, local_client, remote_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_with_mail(session_factory: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    """Development settings, file outbox, one confirmation email in it."""
    settings = settings_for(tmp_path, environment="development")
    app = make_app(settings, session_factory, make_sender(settings))
    client = local_client(app)
    form = client.get("/subscribe")
    sent = client.post("/subscribe", data={"email": "victim@example.org", "csrf_token": csrf_from(form.text)})
    assert sent.status_code == 200
    deliver_confirmations(app)  # what the confirmation thread does within seconds
    assert list((tmp_path / "outbox").glob("*.eml")), "the confirmation should be in the outbox"
    return app


def _message_name(app: FastAPI) -> str:
    listing = local_client(app).get("/outbox")
    assert listing.status_code == 200 and "Confirm your subscription" in listing.text
    return re.findall(r'href="/outbox/([^"/]+\.eml)"', listing.text)[0]


def test_outbox_and_its_messages_are_refused_to_a_client_from_another_address(app_with_mail: FastAPI) -> None:
    name = _message_name(app_with_mail)
    client = remote_client(app_with_mail)
    for path in ("/outbox", f"/outbox/{name}", f"/outbox/{name}/html", f"/outbox/{name}/raw"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "/confirm/" not in response.text and "victim@example.org" not in response.text


def test_outbox_is_refused_to_a_proxy_on_this_machine_and_to_dns_rebinding(app_with_mail: FastAPI) -> None:
    """A reverse proxy connects from 127.0.0.1 too; a rebinding page asks 127.0.0.1 under its own name."""
    client = local_client(app_with_mail)
    for headers in (
        {"X-Forwarded-For": "198.51.100.4"},
        {"Forwarded": "for=198.51.100.4"},
        {"X-Real-IP": "198.51.100.4"},
        {"Host": "papers.example.org"},
        {"Host": "attacker.example:8000"},
    ):
        assert client.get("/outbox", headers=headers).status_code == 403, headers


def test_outbox_opens_on_this_machine(app_with_mail: FastAPI) -> None:
    name = _message_name(app_with_mail)
    client = local_client(app_with_mail)
    assert client.get(f"/outbox/{name}").status_code == 200
    assert client.get(f"/outbox/{name}/raw").content.startswith(b"From:")
    for host in ("localhost:8000", "[::1]:8000", "papertrend.localhost"):
        assert client.get("/outbox", headers={"Host": host}).status_code == 200, host


def test_outbox_opens_from_elsewhere_only_with_the_admin_token(app_with_mail: FastAPI) -> None:
    client = remote_client(app_with_mail)
    assert client.get("/outbox", headers={"Authorization": "Bearer wrong-token"}).status_code == 403
    token = "admin-token-for-tests"
    assert client.get("/outbox", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Signed in at /admin, the session cookie opens the outbox too (it is valid site-wide).
    browser = remote_client(app_with_mail)
    form = browser.get("/admin")
    login = browser.post(
        "/admin/login", data={"token": token, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )
    assert login.status_code == 303
    assert browser.get("/outbox").status_code == 200


def _serve(app: FastAPI) -> Iterator[int]:
    """The app behind a real uvicorn server with proxy headers on, as `papertrend run` starts it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, proxy_headers=True, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_outbox_behind_uvicorn_proxy_headers_sees_the_forwarded_client(app_with_mail: FastAPI) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 and reports the forwarded address: refused."""
    for port in _serve(app_with_mail):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/outbox", timeout=10).status_code == 200
        forwarded = httpx.get(base + "/outbox", headers={"X-Forwarded-For": "203.0.113.50"}, timeout=10)
        assert forwarded.status_code == 403


def test_production_refuses_the_file_outbox(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SMTP_URL must be set in production"):
        load_settings(
            environment="production",
            var_dir=tmp_path,
            secret_key=STRONG,
            base_url="https://papers.example.org",
            smtp_url="",
        )


def test_outbox_routes_are_gone_in_production_and_with_smtp(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = load_settings(
        environment="production",
        var_dir=tmp_path,
        secret_key=STRONG,
        base_url="https://papers.example.org",
        smtp_url="smtp://127.0.0.1:2525",
    )
    app = make_app(settings, session_factory, make_sender(settings))
    assert local_client(app).get("/outbox").status_code == 404


def test_the_image_runs_in_production() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^\s*ENVIRONMENT=production\b", runtime, re.M), "the runtime stage must set production"
