"""The web application factory: settings, database, mail sender, routers, scheduler and the
thread that sends confirmation emails.

`create_app()` is what `papertrend web` and `papertrend run` serve (uvicorn factory mode),
and what tests build with their own settings, session factory and sender.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from app.api import install_error_handlers
from app.api import router as api_router
from app.browse.fastpath import install_response_cache
from app.config import ConfigError, Settings, get_settings
from app.db import make_engine, make_session_factory
from app.http import init_state, state_of
from app.http.client import install_trusted_proxies
from app.http.limits import install_body_limit
from app.http.metrics import install_request_metrics
from app.ingest.registry import check_settings
from app.mail.senders import make_sender
from app.security.logs import install_log_redaction
from app.web import install_error_pages
from app.web import router as web_router
from app.web.security import install_security_headers

if TYPE_CHECKING:
    from app.jobs.confirmations import ConfirmationThread

log = logging.getLogger("papertrend")

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    sender: Any | None = None,
    run_scheduler: bool = False,
    load_search: bool = True,
) -> FastAPI:
    """Build the app. `run_scheduler=True` is embedded mode: the pipeline runs in this process."""
    settings = settings or get_settings()
    check_settings(settings)
    if run_scheduler and settings.scale_out:
        # Web replicas never schedule: every worker shares one schedule through the task queue.
        raise ConfigError("scale-out mode: the web app starts no scheduler; run `papertrend worker` for jobs")
    install_log_redaction()
    if session_factory is None:
        url, timeout = settings.effective_database_url, settings.database_connect_timeout
        engine = make_engine(url, connect_timeout=timeout)
        session_factory = make_session_factory(engine)
    factory = session_factory

    watchers: list[Any] = []  # the index watcher, when this app serves semantic search

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if load_search:
            from app.jobs.search_state import load_search_state

            watcher = load_search_state(app, settings, factory)
            if watcher is not None:
                watcher.start()  # picks up newly published index versions (app.jobs.index_watch)
                watchers.append(watcher)
        if run_scheduler and settings.scheduler_enabled:
            from app.jobs.scheduler import start_scheduler

            scheduler = start_scheduler(settings, factory, on_pipeline_done=lambda: _refresh(app))
        confirmations = _start_confirmations(app)
        try:
            yield
        finally:
            if confirmations is not None:
                state_of(app).confirmation_waker = None
                confirmations.stop()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            for watcher in watchers:
                watcher.stop()

    def _start_confirmations(app: FastAPI) -> ConfirmationThread | None:
        # Subscribe requests only queue their confirmation; this thread sends it within seconds.
        if settings.confirmations_by_worker:
            return None
        from app.jobs.confirmations import ConfirmationThread

        state = state_of(app)
        thread = ConfirmationThread(settings, factory, state.sender, lambda: state.mail_setup).start()
        state.confirmation_waker = thread.wake
        return thread

    def _refresh(app: FastAPI) -> None:
        # After a pipeline run a new index version may be published; load it now, not at the next poll.
        for watcher in watchers:
            watcher.poll()

    app = FastAPI(
        title="papertrend",
        version="0.1.0",
        summary="What is happening in your research field: trending papers, topics and digests.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    init_state(
        app,
        settings=settings,
        session_factory=session_factory,
        sender=sender if sender is not None else make_sender(settings),
    )

    # Middleware added last runs first: bodies are capped before anything reads them, the client
    # address is settled before the cache or a route sees it, and security headers wrap
    # everything, cached answers included.
    install_response_cache(app)
    install_security_headers(app)
    install_trusted_proxies(app, settings.trusted_proxy_networks)
    install_body_limit(app)
    install_error_handlers(app)
    install_error_pages(app)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_request_metrics(app)  # outermost: cached answers and errors are counted too
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:app_factory` (web only, no scheduler).

    Like `papertrend web`, it refuses to start (one line, exit status 1) when the configuration is
    wrong or the database does not answer at the current schema.
    """
    import sys

    from app.config import ConfigError
    from app.logs import configure_logging
    from app.readiness import DatabaseNotReady, ensure_ready

    try:
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)
        ensure_ready(settings, migrate=True, say=lambda line: print(f"papertrend: {line}", file=sys.stderr))
    except (ConfigError, DatabaseNotReady) as exc:
        print(f"papertrend: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    return create_app(settings)
