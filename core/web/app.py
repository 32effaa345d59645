"""The WSGI app: ``create_app()`` for gunicorn (``gunicorn 'lmsbridge.core.web:create_app()'``)
and for ``lmsbridge serve``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from flask import Flask

from lmsbridge.core import config
from lmsbridge.core.lti.deeplinking import SessionCodec
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.launch import DEFAULT_LEEWAY, LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.store import Store
from lmsbridge.core.web import lti_views, picker_views
from lmsbridge.core.web.context import ToolContext, web_secret
from lmsbridge.core.web.templates import LOADER

BASE_URL_ENV = "LMSBRIDGE_BASE_URL"
LEEWAY_ENV = "LMSBRIDGE_LTI_LEEWAY"


def create_app(store: Store | None = None, *, base_url: str | None = None,
               leeway: float | None = None, jwks: JwksCache | None = None,
               clock: Callable[[], float] = time.time,
               secret_key: str | None = None) -> Flask:
    """The LTI tool. Without arguments it reads the settings (env, lmsbridge.toml) like the
    CLI: the database, ``LMSBRIDGE_BASE_URL`` (the tool's public URL) and
    ``LMSBRIDGE_LTI_LEEWAY`` (seconds of clock skew allowed, default 60)."""
    if store is None:
        settings = config.load()
        store = Store.open(settings.database_url, settings.secret_key_file)
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    if base_url is not None:
        ToolUrls(base_url)  # fail at start-up, not at the first launch
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
    )
    app.register_blueprint(lti_views.bp)
    app.register_blueprint(picker_views.bp)
    return app
