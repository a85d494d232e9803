"""Request plumbing shared by the site (`app.web`) and the JSON API (`app.api`).

One way to do each thing in a route:

* `app.http.state`: `AppState`, the typed view of `app.state` (`state_of(request)`), and
  `init_state`, which `create_app` calls;
* `app.http.deps`: the dependency aliases `SessionDep`, `SettingsDep`, `NowDep`,
  `MailSetupDep`, `SenderDep`, `StateDep`, `ClientIpDep`, `SiteUrlDep` (and `site_url`);
* `app.http.subscribe`: `SubscribeDep`, the one subscribe path of the form and the API;
* `app.http.queries`: the SQL of request-level protections (failed sign-ins, shared by every process).

It sits below `web | api` and `browse` and above the domain packages (import-linter's layers).

The ASGI middleware that settles a request before any route sees it lives here too:
`app.http.client` (the client address behind TRUSTED_PROXIES, and the key the limits count)
and `app.http.limits` (request bodies capped per route before they are read).
"""

from app.http.deps import (
    ClientIpDep,
    MailSetupDep,
    NowDep,
    SenderDep,
    SessionDep,
    SettingsDep,
    SiteUrlDep,
    StateDep,
    site_url,
)
from app.http.state import AppState, init_state, state_of
from app.http.subscribe import Submitted, SubscribeDep, Subscriptions

__all__ = [
    "AppState",
    "ClientIpDep",
    "MailSetupDep",
    "NowDep",
    "SenderDep",
    "SessionDep",
    "SettingsDep",
    "SiteUrlDep",
    "StateDep",
    "Submitted",
    "SubscribeDep",
    "Subscriptions",
    "init_state",
    "site_url",
    "state_of",
]
