"""The WSGI app: ``create_app()`` for gunicorn (``gunicorn 'lmsbridge.core.web:create_app()'``)
and for ``lmsbridge serve``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask

from lmsbridge.core import config
from lmsbridge.core.lti.deeplinking import SessionCodec
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.launch import DEFAULT_LEEWAY, LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls, parse_allowed_hosts
from lmsbridge.core.store import Store
from lmsbridge.core.store.database import WEB_LOCK_WAIT_MS, make_engine
from lmsbridge.core.web import errors, lti_views, picker_views
from lmsbridge.core.web.context import ToolContext, screen_request, web_secret
from lmsbridge.core.web.templates import LOADER

BASE_URL_ENV = "LMSBRIDGE_BASE_URL"
LEEWAY_ENV = "LMSBRIDGE_LTI_LEEWAY"
ALLOWED_HOSTS_ENV = "LMSBRIDGE_ALLOWED_HOSTS"


def web_store(database_url: str, key_file: Path) -> Store:
    """A store for the web tool: like the CLI's, but a request waits at most
    ``WEB_LOCK_WAIT_MS`` for a lock (then gets a 503) instead of the engine's 10 s."""
    return Store(make_engine(database_url, lock_wait_ms=WEB_LOCK_WAIT_MS), key_file)


def create_app(store: Store | None = None, *, base_url: str | None = None,
               leeway: float | None = None, jwks: JwksCache | None = None,
               clock: Callable[[], float] = time.time,
               secret_key: str | None = None,
               allowed_hosts: str | Iterable[str] | None = None) -> Flask:
    """The LTI tool. Without arguments it reads the settings (env, lmsbridge.toml) like the
    CLI: the database, ``LMSBRIDGE_BASE_URL`` (the tool's public URL),
    ``LMSBRIDGE_ALLOWED_HOSTS`` (comma-separated hosts requests may name) and
    ``LMSBRIDGE_LTI_LEEWAY`` (seconds of clock skew allowed, default 60).

    Without a base URL the tool's URLs come from each request's Host, so only loopback
    hosts or those ``allowed_hosts`` lists are served; others get a 400 naming the Host.
    """
    if store is None:
        settings = config.load()
        store = web_store(settings.database_url, settings.secret_key_file)
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    if base_url is not None:
        ToolUrls(base_url)  # fail at start-up, not at the first launch
    if allowed_hosts is None:
        allowed_hosts = os.environ.get(ALLOWED_HOSTS_ENV) or None
    hosts = parse_allowed_hosts(allowed_hosts)  # ValueError at start-up names a bad entry
    if leeway is None:
        leeway = float(os.environ.get(LEEWAY_ENV, DEFAULT_LEEWAY))
    keyring = ToolKeyring(store)
    keyring.current()  # make the first signing key now, so the JWKS is never empty

    app = Flask(__name__)
    app.jinja_loader = LOADER
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # an id_token is at most 64 KB
    app.extensions["lmsbridge"] = ToolContext(
        store=store,
        validator=LaunchValidator(store, jwks or JwksCache(), clock=clock, leeway=leeway),
        keyring=keyring,
        codec=SessionCodec(secret_key or web_secret(store)),
        base_url=base_url,
        clock=clock,
        allowed_hosts=hosts,
    )
    app.before_request(screen_request)
    errors.register(app)
    app.register_blueprint(lti_views.bp)
    app.register_blueprint(picker_views.bp)
    return app
