"""The request dependencies of every route, as `Annotated` aliases.

A route names what it needs in its signature and FastAPI supplies it:

    @router.get("/preferences/{token}")
    def page(request: Request, token: str, session: SessionDep, now: NowDep) -> HTMLResponse: ...

* `SessionDep`: one session and one transaction per request, committed when the route
  returns without an exception, before the response is sent, and rolled back otherwise
  (services never commit);
* `SettingsDep`: the app's settings;
* `NowDep`: the one clock (the test clock on `app.state.clock` when set, else UTC now);
* `MailSetupDep`, `SenderDep`: the mail adapters and the sender;
* `StateDep`: the typed app state, for what has no alias of its own (encoder, index, signer);
* `ClientIpDep`: the address the request came from, as the limits see it (behind trusted
  proxies, IPv6 by /64);
* `SiteUrlDep`: the public URL of the site for absolute links (`site_url(request)` outside
  a signature).

`make lint` refuses `Depends(...)` inside `app/web` and `app/api`
(`scripts/check_dependencies.py`): a new dependency gets an alias here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope
from app.http.client import limit_key
from app.http.state import AppState, state_of
from app.mail.compose import MailSetup
from app.mail.senders import Sender

# The cheap ones are coroutines: FastAPI runs a plain `def` dependency in a worker thread.


async def app_state(request: Request) -> AppState:
    return state_of(request)


async def app_settings(request: Request) -> Settings:
    return state_of(request).settings


async def current_time(request: Request) -> datetime:
    return state_of(request).now()


def peer_address(request: Request) -> str:
    """The client's address: the TCP peer, or the client a trusted proxy reports
    (`app.http.client.TrustedProxies`); "unknown" when the server does not know it."""
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """What the per-client limits count for this request (IPv6 by /64, see `app.http.client`)."""
    return limit_key(peer_address(request))


async def client_ip(request: Request) -> str:
    return client_key(request)


def site_url(request: Request) -> str:
    """The public URL for absolute links (feeds, API): BASE_URL when set, else this request's origin."""
    return str(state_of(request).settings.base_url or request.base_url).rstrip("/")


async def public_site_url(request: Request) -> str:
    return site_url(request)


def request_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route succeeds, rolled back on error."""
    with session_scope(state_of(request).session_factory) as session:
        yield session


def mail_setup(request: Request) -> MailSetup:
    # A plain function: the first call builds the setup (reads the DKIM key file).
    return state_of(request).mail_setup


async def mail_sender(request: Request) -> Sender:
    return state_of(request).sender


StateDep = Annotated[AppState, Depends(app_state)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
NowDep = Annotated[datetime, Depends(current_time)]
ClientIpDep = Annotated[str, Depends(client_ip)]
SiteUrlDep = Annotated[str, Depends(public_site_url)]
# "function" scope: the transaction commits before the response is sent. With the default ("request")
# the commit would come after the client already read "You are subscribed", and a failed commit would
# have answered success for a change that was never stored.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]
MailSetupDep = Annotated[MailSetup, Depends(mail_setup)]
SenderDep = Annotated[Sender, Depends(mail_sender)]
