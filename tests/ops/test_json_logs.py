"""LOG_FORMAT=json: one JSON object per line, signed tokens and credentials still masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app.config import load_settings
from app.logs import JsonFormatter, configure_logging, uvicorn_log_config
from app.security.logs import install_log_redaction

TOKEN = "eyJzdWIiOjQyfQ.c2lnbmVkLXBhcnQ"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("uvicorn.access.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_access_lines_have_fields_and_no_token(captured: tuple[logging.Logger, io.StringIO]) -> None:
    _, stream = captured
    access = logging.getLogger("uvicorn.access")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access.addHandler(handler)
    level, access.level = access.level, logging.INFO
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/preferences/{TOKEN}?x=1", "1.1", 200
        )
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    (line,) = _lines(stream)
    assert line["logger"] == "uvicorn.access" and line["level"] == "INFO"
    assert line["method"] == "GET" and line["status"] == 200 and line["client"] == "127.0.0.1:5000"
    assert line["path"] == "/preferences/[token]?x=1"
    assert TOKEN not in stream.getvalue()
    assert str(line["time"]).endswith("+00:00")


def test_errors_and_tracebacks_are_one_redacted_line(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("cannot reach postgresql://app:hunter2@db/papertrend")
    except RuntimeError:
        logger.exception("request to /unsubscribe/%s failed", TOKEN)
    (line,) = _lines(stream)
    assert line["level"] == "ERROR"
    assert line["message"] == "request to /unsubscribe/[token] failed"
    assert "RuntimeError" in str(line["exc"]) and "hunter2" not in stream.getvalue()
    assert stream.getvalue().count("\n") == 1


def test_setting_and_uvicorn_config() -> None:
    assert load_settings(log_format="json").log_format == "json"
    config = uvicorn_log_config("WARNING", "json")
    assert config is not None
    assert config["formatters"]["access"] == {"()": "app.logs.JsonFormatter"}
    assert config["loggers"]["uvicorn.access"]["level"] == "WARNING"
    assert uvicorn_log_config("INFO", "text") is None
    root = logging.getLogger()
    before = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
