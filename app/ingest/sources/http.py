"""What every upstream client shares: the polite arXiv limiter, retries, timeouts, User-Agent.

arXiv asks for at most one request every three seconds and a single connection at a time,
across all its legacy APIs (API, OAI-PMH, RSS). `ArxivLimiter` enforces both for every arXiv
client of the process (they share `shared_arxiv_limiter()`); it takes a clock and a sleep
function so tests can prove the spacing without waiting. Several worker processes, on one
machine or several, must keep the same rule together: the limiter then also holds a
`CrossProcessGate` for each request, built from the database settings by
`app.ingest.sources.shared_limiter` (an advisory lock and a shared next-start time on
PostgreSQL, a file lock on SQLite). A gate that cannot be held raises SourceError, so a
source fails rather than sends unthrottled.

`Fetcher.get` retries transient failures with tenacity: 429 and 503 honour `Retry-After`;
timeouts, dropped connections and other 5xx back off exponentially with jitter. The total
time spent waiting is capped (`HTTP_RETRY_BUDGET`), and a connection that cannot even be
opened is retried only briefly, so an offline machine fails each source in seconds.

An upstream cannot make us read without end: a response is read as a stream and abandoned
past `HTTP_MAX_BYTES` (decoded, so a compressed bomb counts at its real size; a permanent
error) or past `HTTP_DEADLINE` seconds from the first byte asked for to the last one read (a
server dripping one byte at a time; retried like a timeout). Redirects are followed by hand,
at most `MAX_REDIRECTS`, and only to the same host, to a host the source names as its own
(`SourceClient.redirect_hosts`, e.g. arxiv.org for export.arxiv.org), and never from https
down to http.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from app.ingest.parse.common import Parsed, ParseError

if TYPE_CHECKING:
    from app.config import Settings

RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_DEADLINE = 120.0
# Headers that describe the bytes on the wire, not the decoded body kept in memory.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
CONNECT_RETRIES = 2  # a host that cannot be reached at all is not worth minutes of retries
BACKOFF_BASE = 2.0
BACKOFF_MAX = 60.0


class SourceError(Exception):
    """An upstream could not be read; the message says which host and why."""


class _Transient(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None, connect: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.connect = connect


def user_agent(contact: str, base_url: str = "") -> str:
    try:
        version = metadata.version("papertrend")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "dev"
    site = f"+{base_url}; " if base_url else ""
    return f"papertrend/{version} ({site}mailto:{contact})"


class CrossProcessGate(Protocol):
    """arXiv's rule held against other processes: one request at a time, starts `interval` apart."""

    def hold(self, interval: float) -> AbstractContextManager[None]:
        """Wait for the other processes' request and spacing, then hold until the block ends.

        Raises SourceError when the shared state cannot be reached.
        """
        ...


class ArxivLimiter:
    """At most one request per `interval` seconds (start to start), and one request at a time.

    Threads of the process queue on a lock and are spaced with the injected clock; with a
    `gate`, each request is then also held against the other processes.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gate: CrossProcessGate | None = None,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.gate = gate
        self._lock = threading.Lock()
        self._next_start: float | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        # The lock is held for the whole request: a second caller waits for it to finish.
        # Threads queue here first, so a process holds at most one gate (and connection) at once.
        with self._lock:
            if self._next_start is not None:
                wait = self._next_start - self.clock()
                if wait > 0:
                    self.sleep(wait)
            gate = self.gate
            if gate is None:
                self._next_start = self.clock() + self.interval
                yield
                return
            with gate.hold(self.interval):
                self._next_start = self.clock() + self.interval
                yield


_shared_lock = threading.Lock()
_shared: ArxivLimiter | None = None


def shared_arxiv_limiter(interval: float) -> ArxivLimiter:
    """The one limiter all arXiv clients of this process share (its gate, if any, is kept)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ArxivLimiter(interval)
        _shared.interval = interval
        return _shared


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """GET with timeouts, retries within a time budget, and (for arXiv) the shared limiter."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        max_retries: int = 5,
        retry_budget: float = 60.0,
        limiter: ArxivLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        max_bytes: int = DEFAULT_MAX_BYTES,
        deadline: float = DEFAULT_DEADLINE,
        redirect_hosts: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.limiter = limiter
        self.sleep = sleep
        self.jitter = jitter
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.redirect_hosts = frozenset(h.lower() for h in redirect_hosts)
        self.clock = clock
        self.requests = 0

    def close(self) -> None:
        self.client.close()

    def _once(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        """One logical GET: the request, plus the redirects it is allowed to follow."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(url, params)
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                return response
            url, params = self._redirect_target(response), None
        raise SourceError(f"{urlsplit(url).netloc or url}: more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, response: httpx.Response) -> str:
        origin = response.request.url
        target = origin.join(response.headers["location"])
        host = (target.host or "").lower()
        allowed = host == (origin.host or "").lower() or host in self.redirect_hosts
        if target.scheme not in ("http", "https") or not allowed:
            raise SourceError(
                f"{origin.host} redirected to {target.scheme}://{target.host}, which is not its own"
            )
        if origin.scheme == "https" and target.scheme != "https":
            raise SourceError(f"{origin.host} redirected from https to plain http; refused")
        return str(target)

    def _request(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        host = urlsplit(url).netloc or url
        self.requests += 1
        try:
            if self.limiter is not None:
                with self.limiter.slot():
                    response = self._read(url, params, host)
            else:
                response = self._read(url, params, host)
        except httpx.ConnectTimeout as exc:
            raise _Transient(f"cannot connect to {host} (timed out)", connect=True) from exc
        except httpx.ConnectError as exc:
            raise _Transient(f"cannot connect to {host} ({_first_line(exc)})", connect=True) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"{host} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"{host}: {type(exc).__name__}: {_first_line(exc)}") from exc
        if response.status_code in RETRY_STATUSES:
            wait = _retry_after(response, datetime.now(UTC)) if response.status_code in {429, 503} else None
            raise _Transient(f"HTTP {response.status_code} from {host}", retry_after=wait)
        return response

    def _read(self, url: str, params: dict[str, Any] | None, host: str) -> httpx.Response:
        """The whole response, read as a stream within the size cap and the deadline."""
        ends_at = self.clock() + self.deadline
        with self.client.stream("GET", url, params=params) as streamed:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise SourceError(
                    f"{host} sent {int(declared)} bytes, more than HTTP_MAX_BYTES ({self.max_bytes})"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(
                        f"{host} sent more than HTTP_MAX_BYTES ({self.max_bytes} bytes); abandoned"
                    )
                if self.clock() > ends_at:
                    raise _Transient(
                        f"{host} took longer than HTTP_DEADLINE ({self.deadline:.0f}s) to answer"
                    )
                chunks.append(chunk)
            headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
            return httpx.Response(
                streamed.status_code, headers=headers, content=b"".join(chunks), request=streamed.request
            )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return exc.retry_after
        backoff = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (state.attempt_number - 1))
        return backoff * (0.5 + self.jitter() / 2)

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.connect and state.attempt_number > CONNECT_RETRIES:
            return True
        if state.attempt_number > self.max_retries:
            return True
        return state.idle_for + state.upcoming_sleep > self.retry_budget

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """The response (any status the caller must judge), or SourceError after the retries."""
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=self._wait,
            stop=self._stop,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, url, params)
        except _Transient as exc:
            stats = retrying.statistics
            tries = stats.get("attempt_number", 1)
            waited = stats.get("idle_for", 0.0)
            detail = f"after {tries} tries" + (f" over {waited:.0f}s" if waited >= 1 else "")
            if exc.retry_after is not None and exc.retry_after > self.retry_budget:
                detail += f"; asked to wait {exc.retry_after:.0f}s (Retry-After), more than HTTP_RETRY_BUDGET"
            raise SourceError(f"{exc} ({detail})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def make_client(
    *, timeout: float, contact: str, base_url: str = "", transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An httpx client with the product's User-Agent, a timeout on every phase, and one connection."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": user_agent(contact, base_url)},
        transport=transport,
        follow_redirects=False,  # followed by Fetcher, which checks where they lead
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


def build_fetcher(
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    *,
    arxiv: bool,
    limiter: ArxivLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    redirect_hosts: frozenset[str] = frozenset(),
) -> Fetcher:
    """A Fetcher from settings; arXiv clients get the shared limiter unless one is given."""
    client = make_client(
        timeout=settings.http_timeout,
        contact=settings.operator_contact,
        base_url=settings.base_url,
        transport=transport,
    )
    if arxiv and limiter is None:
        limiter = shared_arxiv_limiter(settings.arxiv_min_interval)
    return Fetcher(
        client,
        max_retries=settings.http_max_retries,
        retry_budget=settings.http_retry_budget,
        limiter=limiter if arxiv else None,
        sleep=sleep,
        max_bytes=settings.http_max_bytes,
        deadline=settings.http_deadline,
        redirect_hosts=redirect_hosts,
    )


ARXIV_HOSTS = frozenset(
    {"arxiv.org", "export.arxiv.org", "rss.arxiv.org", "oaipmh.arxiv.org", "www.arxiv.org"}
)


class SourceClient:
    """Shared plumbing of the source clients: a Fetcher, a base URL, request counting, close.

    Subclasses name the setting that holds their base URL, whether arXiv's limiter applies, and
    the hosts besides their own that a redirect may lead to.
    """

    url_setting: ClassVar[str]
    arxiv: ClassVar[bool] = True
    redirect_hosts: ClassVar[frozenset[str]] = ARXIV_HOSTS

    def __init__(self, fetcher: Fetcher, base_url: str) -> None:
        self.fetcher = fetcher
        self.base_url = base_url

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        limiter: ArxivLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Self:
        fetcher = build_fetcher(
            settings,
            transport,
            arxiv=cls.arxiv,
            limiter=limiter,
            sleep=sleep,
            redirect_hosts=cls.redirect_hosts,
        )
        client = cls(fetcher, getattr(settings, cls.url_setting))
        client.configure(settings)
        return client

    def configure(self, settings: Settings) -> None:
        """Read a client's own settings (page sizes...); called by `from_settings`."""

    def get_parsed(
        self,
        url: str,
        parse: Callable[[bytes], Parsed],
        *,
        upstream: str,
        attempts: int,
        params: dict[str, Any] | None = None,
    ) -> Parsed:
        """One page, parsed: an error status is a SourceError at once; an unreadable body (a
        truncated answer) is fetched again, `attempts` times in all, before it is one."""
        problem = ""
        for _ in range(attempts):
            response = self.fetcher.get(url, params=params)
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} from {upstream} ({url})")
            try:
                return parse(response.content)
            except ParseError as exc:
                problem = str(exc)
        raise SourceError(f"{upstream} sent {attempts} unreadable responses ({problem})")

    @property
    def requests(self) -> int:
        return self.fetcher.requests

    def close(self) -> None:
        self.fetcher.close()
