"""Typed access to what the application keeps in `app.state`.

`create_app` calls `init_state` once; everything else reads the state through
`state_of(request)` (or the dependency aliases in `app.http.deps`), never through bare
`request.app.state.<name>` lookups. The attributes keep their plain names on Starlette's
`State` (`settings`, `session_factory`, `sender`, `encoder`, `index`, `clock`, ...), so a test
can still set `app.state.clock` or `app.state.encoder` and every route sees it.

What lives here:

* `settings`, `session_factory`, `sender`: set by `create_app`;
* `encoder`, `index`: set by `app.jobs.search_state` (None: keyword search only);
* `index_status`: which published index version this process serves, the newest one seen,
  and the versions it refused (`app.jobs.index_watch` keeps it; `/readyz` and `/metrics` read it);
* `clock`: None in production; a test may set a callable returning an aware datetime.
  `now()` is the one clock of every request: pages, feeds, API, subscription pages;
* `mail_setup`: the mail adapters, built on first use from the settings (a DKIM error
  surfaces on the first mail-related request, not at start-up of a read-only site);
* `signer`: the link signer (the mail setup's when built, else one from the secret keys),
  which the private feeds use without building the whole mail setup;
* `confirmation_waker`: wakes the thread that sends queued confirmations (set while it runs);
* `html_error_renderer`: how site (non-API) errors are rendered; set by `app.web`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from app.config import Settings
from app.mail.compose import MailSetup
from app.mail.senders import Sender
from app.models._common import utcnow
from app.subscribers.tokens import TokenSigner

if TYPE_CHECKING:
    from app.embed.encoder import Encoder
    from app.embed.faiss_index import VectorIndex

Clock = Callable[[], datetime]
ErrorRenderer = Callable[[Request, int, str], Response]


@dataclass
class IndexStatus:
    """The vector index this process serves, as the index watcher last saw it."""

    watching: bool = False  # a watcher keeps this process's index current (web processes)
    source: str = "none"  # "published" | "local file" | "none"
    version: int | None = None  # the published version served
    vectors: int = 0
    size_bytes: int = 0
    latest: int | None = None  # the newest version published for this model
    refused: dict[int, str] = field(default_factory=dict)  # version -> why it was refused
    problem: str = ""  # why the newest version is not served yet (file not there...), if so
    checked_at: datetime | None = None
    swaps: int = 0  # versions loaded since start

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "version": self.version,
            "latest": self.latest,
            "vectors": self.vectors,
            "size_bytes": self.size_bytes,
            "refused": {str(v): why for v, why in sorted(self.refused.items())},
            "problem": self.problem or None,
        }


class AppState:
    """A typed view of one application's `app.state` (reads and writes go straight through)."""

    __slots__ = ("_state",)

    def __init__(self, state: State) -> None:
        self._state = state

    def _get(self, name: str) -> Any:
        return getattr(self._state, name, None)

    # Set once by create_app -------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        settings: Settings = self._state.settings
        return settings

    @property
    def session_factory(self) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = self._state.session_factory
        return factory

    @property
    def sender(self) -> Sender:
        sender: Sender = self._state.sender
        return sender

    # The clock --------------------------------------------------------------------------

    @property
    def clock(self) -> Clock | None:
        clock: Clock | None = self._get("clock")
        return clock

    def now(self) -> datetime:
        """The current time: the test clock when one is set, else UTC now."""
        clock = self.clock
        return clock() if clock is not None else utcnow()

    # Search -----------------------------------------------------------------------------

    @property
    def encoder(self) -> Encoder | None:
        encoder: Encoder | None = self._get("encoder")
        return encoder

    @property
    def index(self) -> VectorIndex | None:
        index: VectorIndex | None = self._get("index")
        return index

    def set_search(self, encoder: Encoder | None, index: VectorIndex | None) -> None:
        """What semantic search uses from now on (`app.jobs.search_state` loads them)."""
        self._state.encoder, self._state.index = encoder, index

    @property
    def index_status(self) -> IndexStatus:
        status: IndexStatus | None = self._get("index_status")
        if status is None:
            status = IndexStatus()
            self._state.index_status = status
        return status

    @property
    def request_metrics(self) -> Any:
        """The request series of this app (`app.http.metrics.RequestMetrics`), when installed."""
        return self._get("request_metrics")

    @property
    def model_name(self) -> str | None:
        """The embedding model of the loaded index (else of the encoder); None without either."""
        name = getattr(self.index, "model_name", None) or getattr(self.encoder, "model_name", None)
        return str(name) if name else None

    # Mail -------------------------------------------------------------------------------

    @property
    def mail_setup(self) -> MailSetup:
        """The mail adapters, built once per app from its settings."""
        setup: MailSetup | None = self._get("mail_setup")
        if setup is None:
            setup = MailSetup.from_settings(self.settings)
            self._state.mail_setup = setup
        return setup

    @property
    def signer(self) -> TokenSigner:
        """The link signer, without building the mail setup when nothing built it yet."""
        setup: MailSetup | None = self._get("mail_setup")
        if setup is not None:
            return setup.signer
        signer: TokenSigner | None = self._get("link_signer")
        if signer is None:
            settings = self.settings
            signer = TokenSigner.from_keys(settings.resolved_secret_key(), settings.secret_key_old)
            self._state.link_signer = signer
        return signer

    # Confirmation emails ----------------------------------------------------------------

    @property
    def confirmation_waker(self) -> Callable[[], None] | None:
        """Called after a subscribe request queued a confirmation (None: nothing to wake)."""
        waker: Callable[[], None] | None = self._get("confirmation_waker")
        return waker

    @confirmation_waker.setter
    def confirmation_waker(self, value: Callable[[], None] | None) -> None:
        self._state.confirmation_waker = value

    # Error pages ------------------------------------------------------------------------

    @property
    def html_error_renderer(self) -> ErrorRenderer | None:
        renderer: ErrorRenderer | None = self._get("html_error_renderer")
        return renderer

    @html_error_renderer.setter
    def html_error_renderer(self, value: ErrorRenderer) -> None:
        self._state.html_error_renderer = value


def state_of(target: Request | FastAPI) -> AppState:
    """The typed state of a request's application (or of the application itself)."""
    app = target.app if isinstance(target, Request) else target
    return AppState(app.state)


def init_state(
    app: FastAPI, *, settings: Settings, session_factory: sessionmaker[Session], sender: Sender
) -> AppState:
    """Put what every request needs on a new application's state (`create_app` calls this)."""
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.sender = sender
    app.state.encoder = None
    app.state.index = None
    return AppState(app.state)
