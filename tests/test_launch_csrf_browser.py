"""Login CSRF on the platform-storage path, in a real headless Chromium.

The attacker ran our login in their own browser: the state, its nonce and their id_token
are all genuine. A page on their site (http://127.0.0.1, another site than the tool on
https://localhost) posts them to /lti/launch with ``lti_storage_nonce`` filled in, as the
tool's own launch page would after reading platform storage. Chromium names the attacker's
site as the Origin and the tool refuses; the same form served by the tool is accepted, so
the poster's origin is the only difference.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

import pytest
from flask import Flask, Response
from lti_web_fixtures import (
    JwksServer,
    add_catalog,
    launch_claims,
    setup_tenant,
    sign,
    storage_login,
)
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from lmsbridge.core.lti.claims import LTI
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import courses, launches
from lmsbridge.core.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium, or `make browser`)"),
]


def relay_page(action: str, fields: dict[str, str]) -> Response:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return Response(f'<!doctype html><form id="f" method="post" action="{html.escape(action)}">'
                    f'{inputs}</form><script>document.getElementById("f").submit()</script>',
                    content_type="text/html; charset=utf-8")


class OtherSite(JwksServer):
    """The platform's keys, the course page a launch lands on, and the attacker's relay."""

    name = "other-site"

    def reset(self) -> None:
        super().reset()
        self.relay: tuple[str, dict[str, str]] = ("", {})

    def routes(self, app: Flask) -> None:
        super().routes(app)

        @app.get("/relay")
        def relay() -> Response:
            with self.lock:
                return relay_page(*self.relay)

        @app.get("/landed")
        def landed() -> Response:
            return Response('<!doctype html><h1 id="landed">course</h1>',
                            content_type="text/html; charset=utf-8")


@pytest.fixture
def setup(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "web.key")
    store.upgrade()
    site = OtherSite().start()
    app = create_app(store, jwks=JwksCache(), secret_key="k")
    relayed: list[tuple[str, dict[str, str]]] = []

    @app.get("/_test/relay")  # the same relay, served by the tool: a same-origin post
    def own_relay() -> Response:
        return relay_page(*relayed[0])

    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context="adhoc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tool = f"https://localhost:{server.server_port}"
    try:
        setup_tenant(store, site.url + "/jwks")
        add_catalog(store)
        with store.engine.begin() as conn:
            conn.execute(update(courses).where(courses.c.id == "c1")
                         .values(url=site.url + "/landed"))
        # The attacker's own login (same tool secret), then their id_token for its nonce.
        _, state, nonce = storage_login(app.test_client())
        token = sign(launch_claims(nonce, **{LTI + "target_link_uri": tool + "/lti/launch"}))
        fields = {"id_token": token, "state": state, "lti_storage_nonce": nonce}
        site.relay = (tool + "/lti/launch", fields)
        relayed.append(site.relay)
        yield store, site, tool
    finally:
        server.shutdown()
        thread.join()
        site.stop()
        store.dispose()


def _launches(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(launches)).scalar()


def test_relayed_storage_launch_is_refused_and_the_tools_own_post_is_not(setup, tmp_path):
    from playwright.sync_api import sync_playwright

    store, site, tool = setup
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.goto(site.url + "/relay")
            page.wait_for_url(tool + "/lti/launch")
            assert page.locator("#rule").inner_text() == "storage_cross_site"
            assert _launches(store) == 0
            # Control: the very same fields, posted by a page of the tool.
            page.goto(tool + "/_test/relay")
            page.wait_for_url(site.url + "/landed")
            assert _launches(store) == 1
        finally:
            browser.close()
