"""Mail senders: the SMTP adapter (smtplib) and the file outbox of embedded mode.

A sender takes one finished `EmailMessage` (one recipient) and returns a `SendResult`
that classifies the server's answer: `sent` (2xx), `deferred` (4xx, or the connection
failed before the message was handed over), `failed` (5xx), or `unknown` (the connection
dropped after DATA began: the message may or may not have arrived).

Addresses beyond ASCII: a domain in Unicode travels in its ASCII (IDNA) form; a local part
beyond ASCII (`jörg@example.org`) needs the relay's SMTPUTF8 extension. With it the message
goes out as `MAIL FROM:<...> SMTPUTF8`; without it the message fails at stage `address`
with a reason the operator can read (it is not the recipient's fault, so nothing is
suppressed, and it does not count toward the error threshold). The sender remembers what the
relay offered (`SmtpSender.smtputf8`) so the subscribe form can refuse such an address at
once (`address_refusal`).

A pooled connection is never reused in an unknown state: after any error inside a
transaction it is reset (RSET) or, if that fails, closed, so one message's failure never
becomes the next message's `503 nested MAIL`.

Credentials never travel in clear: a relay that asks for a login must offer TLS (smtps://
or STARTTLS), except on the loopback interface where nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import smtplib
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from app.config import Settings

# Serialise exactly what was built or signed: never refold a parsed header (it would break DKIM),
# and never fold a long URL header into encoded words (mail clients would not find the link).
WIRE_POLICY = policy.SMTP.clone(refold_source="none", max_line_length=998)
Status = Literal["sent", "deferred", "failed", "unknown"]


@dataclass(frozen=True)
class SendResult:
    status: Status
    code: int | None
    reply: str
    stage: str = "data"  # connect | mail | rcpt | data | build: where the answer came

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class Sender(Protocol):
    def send(self, message: EmailMessage) -> SendResult: ...

    def send_raw(self, mail_from: str, rcpt: str, raw: bytes, *, message_id: str = "") -> SendResult: ...

    def close(self) -> None: ...


def classify(code: int) -> Status:
    """2xx sent, 4xx deferred, 5xx failed; 552 "too many recipients" is transient (RFC 5321)."""
    if 200 <= code < 300:
        return "sent"
    if 400 <= code < 500 or code == 552:
        return "deferred"
    return "failed"


def message_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE_POLICY)


def recipients(message: EmailMessage) -> list[str]:
    return [addr for _, addr in getaddresses(message.get_all("To", [])) if addr]


def envelope_sender(message: EmailMessage) -> str:
    """MAIL FROM (the Return-Path): an explicit Return-Path header if set, else the From address."""
    value = message.get("Return-Path") or message.get("From") or ""
    return parseaddr(str(value))[1]


def _reply_text(resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return " ".join(text.split())[:1000]


def needs_smtputf8(address: str) -> bool:
    """Whether an address can only travel with SMTPUTF8 (its local part is beyond ASCII)."""
    return wire_address(address) is None


def wire_address(address: str) -> str | None:
    """The address as an ASCII-only relay can carry it (IDNA domain), or None when no such form exists."""
    if address.isascii():
        return address
    local, sep, domain = address.rpartition("@")
    if not sep or not local.isascii():
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{local}@{ascii_domain}"


class SmtpSecurityError(smtplib.SMTPException):
    """The relay would make us send the SMTP password in clear."""


def _is_loopback_host(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mode: Literal["plain", "starttls", "tls"]
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    local_hostname: str | None = None
    max_per_connection: int = 500
    # Logging in without TLS is allowed only where the password cannot leave the machine.
    allow_plain_login: bool = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpConfig:
        """smtp://host:25 (STARTTLS when offered), smtp+starttls:// (required), smtps:// (TLS).

        With a user name, smtp:// still requires STARTTLS unless the relay is on the loopback.
        """
        parts = urlsplit(url)
        mode: Literal["plain", "starttls", "tls"] = {"smtps": "tls", "smtp+starttls": "starttls"}.get(
            parts.scheme, "plain"
        )  # type: ignore[assignment]
        default_port = {"tls": 465, "starttls": 587, "plain": 25}[mode]
        host = parts.hostname or "localhost"
        return cls(
            host=host,
            port=parts.port or default_port,
            mode=mode,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            allow_plain_login=_is_loopback_host(host),
        )


class SmtpSender:
    """Sends through one SMTP server, keeping one connection per thread and reusing it.

    Every message is its own MAIL/RCPT/DATA transaction with one recipient, so each
    recipient gets its own reply code. A connection that fails before DATA is reopened
    once (nothing was handed over, so a retry cannot duplicate).
    """

    def __init__(
        self, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None, connect_backoff_s: float = 5.0
    ) -> None:
        self.config = config
        self._tls = tls_context or ssl.create_default_context()
        self._local = threading.local()
        self._all: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        # After a failed connection (relay down, login refused) the next messages fail fast for a
        # moment instead of each waiting for its own timeout.
        self._connect_backoff_s = connect_backoff_s
        self._connect_failed: tuple[float, SendResult] | None = None
        # What the relay offered on the last connection (None: not connected yet).
        self.smtputf8: bool | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        conn: smtplib.SMTP
        if cfg.mode == "tls":
            conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self._tls)
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout, local_hostname=cfg.local_hostname)
        try:
            conn.ehlo()
            if cfg.mode == "starttls" or (cfg.mode == "plain" and conn.has_extn("starttls")):
                conn.starttls(context=self._tls)
                conn.ehlo()
            if cfg.username:
                if not isinstance(conn.sock, ssl.SSLSocket) and not cfg.allow_plain_login:
                    raise SmtpSecurityError(
                        f"{cfg.host}:{cfg.port} does not offer STARTTLS; refusing to send the SMTP password "
                        "in clear (use smtps:// or a relay that offers STARTTLS)"
                    )
                conn.login(cfg.username, cfg.password)
        except BaseException:
            conn.close()
            raise
        self.smtputf8 = conn.has_extn("smtputf8")
        with self._lock:
            self._all.append(conn)
            self._connect_failed = None
        return conn

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        fresh = conn is None or self._local.count >= self.config.max_per_connection
        if fresh:
            self._drop()
            conn = self._connect()
            self._local.conn = conn
            self._local.count = 0
        assert conn is not None
        return conn, fresh

    def _drop(self) -> None:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def send(self, message: EmailMessage) -> SendResult:
        to = recipients(message)
        if len(to) != 1:
            return SendResult("failed", None, f"expected one recipient, got {len(to)}", stage="build")
        return self.send_raw(envelope_sender(message), to[0], message_bytes(message))

    def send_raw(self, mail_from: str, rcpt: str, raw: bytes, *, message_id: str = "") -> SendResult:
        if (recent := self._recent_connect_failure()) is not None:
            return recent
        for attempt in (1, 2):
            try:
                conn, fresh = self._connection()
            except (smtplib.SMTPException, OSError) as exc:
                # A relay that is down or refuses our login is the operator's problem, not the
                # recipient's: always transient, so nothing is suppressed for it.
                self._drop()
                code = getattr(exc, "smtp_code", None)
                failed = SendResult(
                    "deferred",
                    code if isinstance(code, int) else None,
                    f"connect failed: {exc}",
                    stage="connect",
                )
                with self._lock:
                    self._connect_failed = (time.monotonic(), failed)
                return failed
            try:
                return self._transaction(conn, mail_from, rcpt, raw)
            except _BeforeData as exc:
                self._drop()
                if attempt == 1 and not fresh:
                    continue  # the kept connection had gone stale; nothing was handed over
                return SendResult(
                    "deferred", None, f"connection lost before DATA: {exc.__cause__}", stage="mail"
                )
            except _InData as exc:
                self._drop()
                return SendResult("unknown", None, f"connection lost during DATA: {exc.__cause__}")
            except Exception as exc:
                # Anything else (a command the relay cannot take, a bug): the connection may be inside
                # a transaction, so it is reset or dropped before the next message uses it.
                self._reset_or_drop(conn)
                return SendResult(
                    "deferred", None, f"send failed before DATA: {type(exc).__name__}: {exc}", stage="mail"
                )
        return SendResult("deferred", None, "connection lost")  # pragma: no cover - loop always returns

    def _recent_connect_failure(self) -> SendResult | None:
        """The last connect failure while it is recent: answered at once, without a new attempt."""
        with self._lock:
            failed = self._connect_failed
        if failed is None or time.monotonic() - failed[0] >= self._connect_backoff_s:
            return None
        result = failed[1]
        return SendResult(result.status, result.code, f"{result.reply} (not retried for a few seconds)",
                          stage=result.stage)  # fmt: skip

    def _reset_or_drop(self, conn: smtplib.SMTP) -> None:
        """End any open transaction (RSET); a connection that cannot even do that is closed."""
        try:
            code, _ = conn.rset()
        except Exception:  # whatever went wrong, this connection is not reused
            code = 0
        if code != 250:
            self._drop()

    def _transaction(self, conn: smtplib.SMTP, mail_from: str, rcpt: str, raw: bytes) -> SendResult:
        wire_from, wire_rcpt = wire_address(mail_from), wire_address(rcpt)
        utf8 = wire_from is None or wire_rcpt is None
        if utf8 and not conn.has_extn("smtputf8"):
            return SendResult(
                "failed",
                None,
                "the mail relay does not offer SMTPUTF8, which an address with characters beyond ASCII "
                "before the @ needs",
                stage="address",
            )
        try:
            code, resp = conn.mail(wire_from or mail_from, ["SMTPUTF8"] if utf8 else [])
            if code != 250:
                self._reset_or_drop(conn)
                return SendResult(classify(code), code, _reply_text(resp), stage="mail")
            code, resp = conn.rcpt(wire_rcpt or rcpt)
            if code not in (250, 251):
                self._reset_or_drop(conn)
                return SendResult(classify(code), code, _reply_text(resp), stage="rcpt")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _BeforeData() from exc
        # From here on the server may have the message: a failure is "unknown", never "not sent".
        try:
            code, resp = conn.data(raw)
        except smtplib.SMTPResponseException as exc:  # DATA itself refused (no 354): nothing handed over
            self._reset_or_drop(conn)
            return SendResult(classify(exc.smtp_code), exc.smtp_code, _reply_text(exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            raise _InData() from exc
        self._local.count += 1
        if code != 250:
            self._reset_or_drop(conn)
        conn.command_encoding = "ascii"  # the next transaction starts plain again
        return SendResult(classify(code), code, _reply_text(resp))

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
        self._local = threading.local()


class _BeforeData(Exception):
    pass


class _InData(Exception):
    pass


def address_refusal(sender: object, address: str) -> str | None:
    """Why `address` cannot be mailed through `sender`, as a sentence for the form; None when it can.

    Only an address that needs SMTPUTF8 can be refused, and only once the relay is known not to
    offer it (a sender that has not connected yet accepts it; the delivery then records why it
    failed). The file outbox takes any address.
    """
    if not needs_smtputf8(address) or getattr(sender, "smtputf8", True) is not False:
        return None
    return (
        "Our mail server cannot deliver to addresses with characters beyond ASCII before the @ "
        "(such as ö or é). Please use another address."
    )


class FileOutboxSender:
    """Embedded mode: each message becomes a .eml file in the outbox folder (browse it at /outbox).

    The file name comes from the Message-ID, so a retried delivery overwrites its own file
    instead of creating a second one.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @staticmethod
    def file_name(message_id: str, when: datetime) -> str:
        bare = message_id.strip("<> ")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", bare.split("@", 1)[0]).strip("-")[:60] or "message"
        digest = hashlib.sha256(bare.encode()).hexdigest()[:8]
        return f"{when:%Y%m%d-%H%M%S}-{slug}-{digest}.eml"

    def send(self, message: EmailMessage) -> SendResult:
        to = recipients(message)
        if len(to) != 1:
            return SendResult("failed", None, "expected one recipient", stage="build")
        message_id = str(message.get("Message-ID", "")) or f"<{secrets.token_hex(8)}@outbox>"
        return self.send_raw(envelope_sender(message), to[0], message_bytes(message), message_id=message_id)

    def send_raw(self, mail_from: str, rcpt: str, raw: bytes, *, message_id: str = "") -> SendResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = self.file_name(message_id or f"<{secrets.token_hex(8)}@outbox>", datetime.now(UTC))
        suffix = name.rsplit("-", 1)[1]
        for old in self.directory.glob(f"*-{suffix}"):
            if old.name != name:
                old.unlink(missing_ok=True)  # an earlier attempt of the same message
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, self.directory / name)
        return SendResult("sent", 250, f"written to outbox {name}", stage="data")

    def close(self) -> None:
        return None


def make_sender(settings: Settings) -> SmtpSender | FileOutboxSender:
    """The configured sender: SMTP when SMTP_URL is set, the file outbox otherwise."""
    if settings.smtp_url:
        config = SmtpConfig.from_url(settings.smtp_url)
        return SmtpSender(config)
    return FileOutboxSender(settings.outbox_dir)
