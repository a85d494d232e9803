"""The `papertrend` command line: one root Typer app; each stage registers its commands."""

from __future__ import annotations

import logging
import os
import sys

import typer

# Nothing may download a model at run time: the bundled weights are loaded from disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from app.cli import core, digest, early, embed, ingest, mail, subscribers, topics
from app.cli.common import fail
from app.config import ConfigError, get_settings
from app.logs import configure_logging
from app.readiness import is_unavailable
from app.security.logs import install_log_redaction
from app.security.redact import redact_text

root = typer.Typer(
    name="papertrend",
    help="papertrend: ingest papers, embed them, build topics and trends, serve the site, send digests.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (core, ingest, embed, topics, early, digest, mail, subscribers):
    module.register(root)


def _log_format() -> str:
    # A bad setting is reported by the command itself, in one line; logs start as text meanwhile.
    try:
        return get_settings().log_format
    except ConfigError:
        return "text"


def main() -> None:
    """Console-script entry point: configuration errors and a lost database end in one readable line."""
    install_log_redaction()
    configure_logging("INFO", _log_format())
    # faiss logs which CPU build it tried at INFO; that is noise for a user.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic narrates every plugin and step at INFO; `init` and the start-up check say it in one line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        root()
    except ConfigError as exc:
        fail(str(exc))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The database went away (or was never there) after the start-up check: one line, no traceback.
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"the database stopped answering: {redact_text(detail[0] if detail else type(exc).__name__)}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
