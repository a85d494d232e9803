"""No secret reaches an error message, a log line or a public page.

Configuration errors name the setting but never print a password or a token; every log record
(the access log and the error handler included) loses URL credentials and the signed tokens of
private paths; SQL errors carry no statement parameters (both databases); failed jobs show the
public only that they failed, and the operator the detail on /admin.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from uvicorn.logging import AccessFormatter

from app.config import ConfigError, load_settings
from app.db import session_scope
from app.jobs.runs import run_step
from app.models import JobRun
from app.security.logs import install_log_redaction
from app.security.redact import redact_path, redact_text
from app.subscribers.tokens import TokenSigner
from tests.mail.mail_support import make_app, settings_for
from tests.security.support import STRONG, local_client, remote_client

ROOT = Path(__file__).resolve().parents[2]
INSERT_SUPPRESSION = (
    "INSERT INTO suppressions (email, kind, source, created_at) "
    "VALUES (:email, {kind}, 'manual', CURRENT_TIMESTAMP)"
)
PASSWORD = "hunter2-Secret"
TOKEN_PATHS = [
    "/preferences/12~Abc123xyz.Sig_nature-1",
    "/preferences/12~Abc123xyz.Sig_nature-1/export",
    "/unsubscribe/12~Abc123xyz.Sig_nature-1",
    "/feedback/3~Kq9z~44~7.zzSIGzz/more",
    "/confirm/WzEyLCJBYmMiLDBd.Zx1y2A.SignatureXYZ",
    "/feeds/subscriber/12-0123456789abcdef0123456789abcdef.atom",
]


def test_redaction_rules() -> None:
    assert (
        redact_text(f"postgresql+psycopg://app:{PASSWORD}@db:5432/x")
        == "postgresql+psycopg://app:***@db:5432/x"
    )
    assert redact_text(f"smtp://apikey:{PASSWORD}@relay.example:587") == "smtp://apikey:***@relay.example:587"
    assert PASSWORD not in redact_text(f"smtp://{PASSWORD}:{PASSWORD}@relay")  # a key used as both names
    assert PASSWORD not in redact_text(f"smtp://{PASSWORD}@relay")  # a key as the only name
    assert PASSWORD not in redact_text(f"postgresql://db/x?sslmode=require&password={PASSWORD}")
    for path in TOKEN_PATHS:
        cleaned = redact_path(path + "?x=1")
        assert "Sig" not in cleaned and "0123456789abcdef" not in cleaned and "WzEy" not in cleaned, cleaned
        assert cleaned.startswith(path.split("/")[1].join("//")[:-1] + "/") or cleaned.startswith("/feeds/")
    assert (
        redact_path("/preferences/12~Abc123xyz.Sig/digest/2026-05-04")
        == "/preferences/[token]/digest/2026-05-04"
    )
    assert (
        redact_text("nothing secret /topics/quantization here") == "nothing secret /topics/quantization here"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("database_url", f"mysql://app:{PASSWORD}@db/papers"),
        ("smtp_url", f"smtp://user:{PASSWORD}@relay.example:notaport"),
        ("smtp_url", f"ftp://user:{PASSWORD}@relay.example"),
    ],
)
def test_config_errors_print_no_password(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**{name: value})
    message = str(caught.value)
    assert name.upper() in message and PASSWORD not in message and "***" in message


def test_config_errors_never_print_a_secret_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            environment="production",
            secret_key=STRONG,
            smtp_url="smtps://relay.example",
            base_url="https://papers.example.org",
            admin_token=PASSWORD,
        )
    assert "ADMIN_TOKEN" in str(caught.value) and PASSWORD not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(embedding_batch_size="x", admin_token=PASSWORD, bounce_webhook_secret=[PASSWORD])
    assert PASSWORD not in str(caught.value)


def test_the_command_line_prints_a_bad_setting_without_its_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SMTP_URL", "ENVIRONMENT"}}
    env.update(VAR_DIR=str(tmp_path), SMTP_URL=f"smtp://user:{PASSWORD}@relay.example:notaport")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "SMTP_URL" in result.stderr and PASSWORD not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_log_records_lose_credentials_and_tokens(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    log = logging.getLogger("papertrend.test")
    with caplog.at_level(logging.INFO, logger="papertrend.test"):
        log.info("connecting to %s", f"postgresql://app:{PASSWORD}@db/x")
        log.info(f"GET {TOKEN_PATHS[0]} took 3 ms")
        try:
            raise RuntimeError(f"relay smtp://u:{PASSWORD}@relay refused for {TOKEN_PATHS[2]}")
        except RuntimeError:
            log.exception("sending failed")
    text_ = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert PASSWORD not in text_ and "Sig_nature" not in text_
    assert "postgresql://app:***@db/x" in caplog.text


def _serve(app: object) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=True, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_the_access_log_shows_no_signed_token(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """A real uvicorn server writes its access log; the lines carry the paths without their tokens."""
    app = make_app(settings_for(tmp_path), session_factory, sender=None)  # installs the redaction
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    )
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        for port in _serve(app):
            for path in TOKEN_PATHS:
                httpx.get(f"http://127.0.0.1:{port}{path}?utm=1", timeout=10)
    finally:
        access.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(TOKEN_PATHS), lines
    for line in lines:
        assert (
            "[token]" in line and "Sig" not in line and "0123456789abcdef" not in line and "WzEy" not in line
        )


def test_the_error_handler_logs_no_signed_token(
    session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(settings_for(tmp_path), session_factory, sender=None)

    class Broken:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("mail setup exploded")

    app.state.mail_setup = Broken()  # every token page now fails inside its handler
    client = local_client(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="papertrend.api"):
        response = client.get(TOKEN_PATHS[0])
    assert response.status_code == 500 and "exploded" not in response.text
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "unhandled error on GET /preferences/[token]" in caplog.text
    assert "Sig_nature" not in logged and "mail setup exploded" in logged


def test_sql_errors_reach_no_log_with_their_values(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Parameters are hidden by the engine; PostgreSQL's own DETAIL (the row, the key) by the redaction."""
    install_log_redaction()
    secret = f"victim+{PASSWORD}@example.org"
    with engine.begin() as conn:
        conn.execute(
            text(INSERT_SUPPRESSION.format(kind="'manual'")),
            {"email": secret},
        )
    try:
        statements = [
            (
                INSERT_SUPPRESSION.format(kind="NULL"),
                {"email": secret},
            ),  # NOT NULL
            (
                INSERT_SUPPRESSION.format(kind="'manual'"),
                {"email": secret},
            ),  # unique
        ]
        log = logging.getLogger("papertrend.test")
        for statement, params in statements:
            with pytest.raises(SQLAlchemyError) as caught, engine.begin() as conn:
                conn.execute(text(statement), params)
            assert "parameters hidden" in str(caught.value) or "parameters" not in str(caught.value)
            with caplog.at_level(logging.ERROR, logger="papertrend.test"):
                try:
                    raise caught.value
                except SQLAlchemyError:
                    log.exception("write failed")
            logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
            assert PASSWORD not in logged, logged
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM suppressions WHERE email = :email"), {"email": secret})


def test_failed_jobs_show_the_public_no_error_text(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    def explode(_: object) -> None:
        raise RuntimeError(f"cannot reach postgresql://app:{PASSWORD}@10.0.0.5/papers (table secret_stuff)")

    run_step(session_factory, "pipeline:topics", explode)
    with session_scope(session_factory) as session:
        (run,) = session.query(JobRun).all()
        assert run.status == "failed" and PASSWORD not in (run.error or "")
        assert "postgresql://app:***@10.0.0.5/papers" in (run.error or "")
    app = make_app(settings_for(tmp_path), session_factory, sender=None)
    app.state.clock = lambda: datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    public = remote_client(app)
    for url in ("/status", "/api/v1/status"):
        body = public.get(url).text
        assert "failed" in body and "secret_stuff" not in body and "10.0.0.5" not in body, url
    admin = public.get("/admin", headers={"Authorization": "Bearer admin-token-for-tests"})
    assert admin.status_code == 200 and "secret_stuff" in admin.text and PASSWORD not in admin.text


def test_job_run_signer_is_unaffected() -> None:
    """Redaction only masks text: signed links themselves are unchanged and still verify."""
    signer = TokenSigner.from_keys(STRONG)
    token = signer.preferences_token(12, "Abc123xyz")
    assert signer.read_preferences(token).subscriber_id == 12
