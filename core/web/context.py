"""What the web tool's views share: the store, the launch validator, keys, URLs, clock; and
the screen every request passes before a view runs (its Host, its parameters)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable

import attrs
from attrs import define
from flask import current_app, request

from lmsbridge.core.errors import NotFound
from lmsbridge.core.lti.deeplinking import SessionCodec
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.launch import LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls, host_allowed, split_host
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

WEB_KEY_NAME = "web_session_key"
# Query plus form values in one request. The picker posts one value per chosen item; more
# than this is no picker, and every value may become an SQL bind parameter (SQLite allows
# 32766 per statement, psycopg 65535).
MAX_PARAMETERS = 1000


@define
class ToolContext:
    store: Store
    validator: LaunchValidator
    keyring: ToolKeyring
    codec: SessionCodec
    # None: the URL the request came in on, for hosts ``allowed_hosts`` admits (loopback
    # only when that is None too).
    base_url: str | None
    clock: Callable[[], float] = time.time
    # Hosts requests may name; None: any with a base_url, else loopback only.
    allowed_hosts: frozenset[str] | None = None
    _base: ToolUrls | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.base_url is not None:
            self._base = ToolUrls(self.base_url)

    def urls(self) -> ToolUrls:
        # Without a base URL the Host was vetted by screen_request before any view ran.
        return self._base or ToolUrls(request.url_root)


def tool() -> ToolContext:
    return current_app.extensions["lmsbridge"]


def screen_request() -> None:
    """Refuse (LaunchError, 400) a request whose Host cannot, or may not, form the tool's
    URLs, or whose parameters no LTI request has: NUL characters or too many values."""
    ctx = tool()
    host = request.host  # werkzeug gives "" for a Host with characters no host has
    parts = split_host(host)
    if parts is None:
        raise LaunchError("host_malformed",
                          f"the Host header {host!r:.100} is not a host name or address", 400)
    if (ctx.allowed_hosts is not None or ctx.base_url is None) \
            and not host_allowed(*parts, ctx.allowed_hosts):
        how = ("is not in LMSBRIDGE_ALLOWED_HOSTS" if ctx.allowed_hosts is not None else
               "is not loopback, and no LMSBRIDGE_BASE_URL or LMSBRIDGE_ALLOWED_HOSTS is set")
        raise LaunchError("host_not_allowed", f"host {host!r:.100} {how}", 400)
    count = 0
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            count += 1
            if count > MAX_PARAMETERS:
                raise LaunchError("parameter_malformed",
                                  f"the request has more than {MAX_PARAMETERS} parameters", 400)
            if "\x00" in name or "\x00" in value:
                raise LaunchError("parameter_malformed",
                                  f"parameter {name!r:.60} contains a NUL character", 400)


def web_secret(store: Store) -> str:
    """The key that signs picker sessions: env, else one kept (encrypted) in the store."""
    if os.environ.get("LMSBRIDGE_WEB_SECRET"):
        return os.environ["LMSBRIDGE_WEB_SECRET"]
    try:
        return store.secrets.get("tool", WEB_KEY_NAME).reveal()
    except NotFound:
        store.secrets.set("tool", WEB_KEY_NAME, Secret(secrets.token_urlsafe(32)))
        # Read back: if two workers raced, both use whichever write landed last.
        return store.secrets.get("tool", WEB_KEY_NAME).reveal()
