"""Log output: the usual text lines, or one JSON object per line (LOG_FORMAT=json).

JSON lines carry `time` (UTC, ISO 8601), `level`, `logger` and `message`, plus `exc` for a
traceback; uvicorn's access lines also get `client`, `method`, `path` and `status` as fields
of their own. Every record has already passed the log redaction (`app.security.logs`) when it
is formatted; the formatted message and the access path are redacted once more here, so a
signed token never reaches a log line in either format.

`configure_logging` sets up the process (the CLI calls it first); `uvicorn_log_config` is
handed to uvicorn, which configures its own loggers when it starts.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.security.logs import install_log_redaction
from app.security.redact import redact_path, redact_text

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "uvicorn.access"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", ACCESS_LOGGER)


class TextFormatter(logging.Formatter):
    """The usual text line, redacted once formatted (see `JsonFormatter.format`)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # Redacted again once formatted: a token split across the format and its
            # arguments (`"/unsubscribe/%s", token`) only shows as a path here.
            "message": redact_text(record.getMessage()),
        }
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            payload |= {
                "client": str(client),
                "method": str(method),
                "path": redact_path(str(path)),
                "status": int(str(status)) if str(status).isdigit() else str(status),
            }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(self.formatException(record.exc_info))
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Root logging to stderr in the chosen format; uvicorn's handlers, if set up already, follow."""
    install_log_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if fmt == "json":
        # Under `uvicorn --factory` uvicorn set up its loggers before the app was built.
        for name in UVICORN_LOGGERS:
            for existing in logging.getLogger(name).handlers:
                existing.setFormatter(JsonFormatter())


def uvicorn_log_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any] | None:
    """A `log_config` for `uvicorn.run`: JSON formatters when asked, else None (uvicorn's own)."""
    if fmt != "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"] = {name: {"()": f"{__name__}.JsonFormatter"} for name in ("default", "access")}
    for name in UVICORN_LOGGERS:
        config["loggers"].setdefault(name, {})["level"] = level
    return config
