"""What the web tool's views share: the store, the launch validator, keys, URLs, clock."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable

from attrs import define
from flask import current_app, request

from lmsbridge.core.errors import NotFound
from lmsbridge.core.lti.deeplinking import SessionCodec
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.launch import LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

WEB_KEY_NAME = "web_session_key"


@define
class ToolContext:
    store: Store
    validator: LaunchValidator
    keyring: ToolKeyring
    codec: SessionCodec
    base_url: str | None  # None: the URL the request came in on (behind no proxy)
    clock: Callable[[], float] = time.time

    def urls(self) -> ToolUrls:
        return ToolUrls(self.base_url or request.url_root)


def tool() -> ToolContext:
    return current_app.extensions["lmsbridge"]


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
