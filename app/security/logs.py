"""Every log record passes through `redact` before any handler sees it.

A record factory (not a handler filter) so that it holds for every logger and handler,
including those uvicorn configures after start-up and the access log: the message, each
argument that reads as text, the formatted traceback and the stack are scrubbed of URL
credentials, secret parameters and signed token paths. uvicorn's access formatter unpacks
its five arguments by position, so arguments keep their places (only their text changes).

SQL parameters never reach a message in the first place: engines are created with
`hide_parameters=True` (`app.db.make_engine`).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from app.security.redact import redact_text

_MARK = "_papertrend_redacting"


def _scrub_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    cleaned = redact_text(text)
    if isinstance(value, str) or cleaned != text:
        return cleaned
    return value  # unchanged: keep the object, so %r and %d formatting still work


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Redact one record in place (also used directly by tests)."""
    if isinstance(record.msg, str):
        record.msg = redact_text(record.msg)
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_scrub_value(a) for a in args)
    elif isinstance(args, dict):
        record.args = {k: _scrub_value(v) for k, v in args.items()}
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Make every future log record of the process pass through `scrub` (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(current(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
