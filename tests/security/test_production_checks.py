"""Production refuses weak secrets and clear-text links, TLS guards SMTP credentials, sign-in is throttled.

The secret rule is stated in the error; the throttle is counted in the database (both kinds),
so every web process shares it; the SMTP checks run against a real aiosmtpd server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.config import ConfigError, load_settings
from app.db import session_scope
from app.http.queries import count_failures
from app.mail.senders import SmtpConfig, SmtpSender
from app.security.strength import RULE, weakness
from app.web.access import GLOBAL, PER_CLIENT
from tests.mail.mail_support import SmtpServer, client_tls_context, csrf_from, make_app, settings_for
from tests.security.support import STRONG, local_client, remote_client

ADMIN = "admin-token-for-tests"


def _production(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "environment": "production",
        "secret_key": STRONG,
        "smtp_url": "smtps://relay.example.org",
        "base_url": "https://papers.example.org",
    }
    return values | overrides


def test_a_strong_production_configuration_loads() -> None:
    settings = load_settings(**_production(admin_token=STRONG[::-1], bounce_webhook_secret=STRONG[1:] + "Q"))
    assert settings.environment == "production"


@pytest.mark.parametrize("name", ["secret_key", "admin_token", "bounce_webhook_secret", "secret_key_old"])
@pytest.mark.parametrize(
    "value",
    [
        "a",
        "changeme",
        "x" * 40,
        "abcabcabcabcabcabcabcabcabcabcabcabc",
        "short-but-mixed-9Q",
        "with space " * 4,
    ],
)
def test_production_refuses_a_weak_secret_and_states_the_rule(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**_production(**{name: value}))
    message = str(caught.value)
    assert name.upper() in message and RULE in message
    assert value not in message or value == "a"  # the value itself is never echoed ("a" is in every text)


def test_the_strength_rule() -> None:
    assert weakness(STRONG) is None
    assert weakness("password1234password1234password") == "repeats a pattern"
    assert weakness("jörg" * 10) is not None  # beyond printable ASCII
    assert weakness("0123456789abcdef0123456789abcdeX") is None


def test_production_needs_an_https_public_address() -> None:
    for url in ("http://127.0.0.1:8000", "http://papers.example.org"):
        with pytest.raises(ConfigError, match="BASE_URL must be the public https://"):
            load_settings(**_production(base_url=url))


def test_development_accepts_short_tokens() -> None:
    assert load_settings(admin_token="a", bounce_webhook_secret="b").admin_token == "a"


def test_smtp_credentials_are_never_sent_without_tls() -> None:
    """A relay that asks for a login but offers no STARTTLS gets no password (outside the loopback)."""
    server = SmtpServer(login=("user", "pass-word")).start()
    try:
        config = SmtpConfig(
            host="127.0.0.1", port=server.port, mode="plain", username="user", password="pass-word"
        )
        assert config.allow_plain_login is False
        sender = SmtpSender(config)
        result = sender.send_raw("a@example.org", "b@example.org", b"Subject: x\r\n\r\nx\r\n")
        sender.close()
        assert result.status == "deferred" and result.stage == "connect"
        assert "refusing to send the SMTP password in clear" in result.reply
        assert server.received == []
    finally:
        server.stop()


def test_smtp_login_over_starttls_and_on_the_loopback() -> None:
    server = SmtpServer(login=("user", "pass-word"), tls="starttls").start()
    try:
        config = SmtpConfig(
            host="127.0.0.1", port=server.port, mode="plain", username="user", password="pass-word"
        )
        sender = SmtpSender(config, tls_context=client_tls_context())
        result = sender.send_raw("a@example.org", "b@example.org", b"Subject: x\r\n\r\nx\r\n")
        sender.close()
        assert result.status == "sent", result
    finally:
        server.stop()
    # A relay on this machine may take the login in clear: the password never leaves it.
    assert SmtpConfig.from_url("smtp://u:p@127.0.0.1:25").allow_plain_login is True
    assert SmtpConfig.from_url("smtp://u:p@localhost:25").allow_plain_login is True
    assert SmtpConfig.from_url("smtp://u:p@relay.example.org:587").allow_plain_login is False


@pytest.fixture
def admin_app(session_factory: sessionmaker[Session], tmp_path: Path) -> Any:
    app = make_app(settings_for(tmp_path), session_factory, sender=None)
    app.state.clock = lambda: datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    return app


def _login(client: Any, token: str) -> Any:
    form = client.get("/admin")
    return client.post(
        "/admin/login", data={"token": token, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )


def test_admin_sign_in_is_throttled_per_client(
    admin_app: Any, session_factory: sessionmaker[Session]
) -> None:
    attacker = remote_client(admin_app)
    for _ in range(PER_CLIENT):
        assert _login(attacker, "guess").status_code == 401
    blocked = _login(attacker, ADMIN)  # even the right token waits: no oracle while locked
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    bearer = attacker.get("/admin", headers={"Authorization": f"Bearer {ADMIN}"})
    assert bearer.status_code == 429
    # Another client is not affected; the count is in the database (shared by every process).
    other = TestClient(admin_app, base_url="https://papers.example.org", client=("198.51.100.20", 4000))
    assert _login(other, ADMIN).status_code == 303
    with session_scope(session_factory) as session:
        assert count_failures(session, datetime(2026, 5, 5, tzinfo=UTC)) == PER_CLIENT
    # Once the failures leave the window, the client may try again.
    admin_app.state.clock = lambda: datetime(2026, 5, 5, 9, 16, tzinfo=UTC)
    assert _login(attacker, ADMIN).status_code == 303


def test_wrong_bearer_tokens_count_as_failed_sign_ins(admin_app: Any) -> None:
    attacker = remote_client(admin_app)
    for _ in range(PER_CLIENT):
        assert attacker.get("/admin", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert attacker.get("/admin", headers={"Authorization": "Bearer guess"}).status_code == 429


def test_a_flood_from_many_addresses_pauses_sign_in_but_not_for_this_machine(
    admin_app: Any, session_factory: sessionmaker[Session]
) -> None:
    from app.models import AuthFailure

    now = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    with session_scope(session_factory) as session:
        session.add_all(
            AuthFailure(scope="admin", client_hash=f"h{i}", created_at=now - timedelta(minutes=1))
            for i in range(GLOBAL)
        )
    assert _login(remote_client(admin_app), ADMIN).status_code == 429
    assert _login(local_client(admin_app), ADMIN).status_code == 303
