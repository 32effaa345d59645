"""LTI platform storage (lti_storage_target) in a real headless Chromium, cross-site.

The tool is served over https on ``localhost`` and framed by a course page of the mock
platform on ``http://127.0.0.1``: different sites, so the tool's ``SameSite=None; Secure``
state cookie is a third-party cookie there. The course page holds a platform storage frame
that answers ``lti.put_data`` / ``lti.get_data`` (LTI Client Side postMessages) for the
tool's origin only. With third-party cookies blocked the launch must succeed through the
storage frame (login puts the nonce, the launch page gets it back and posts again); with them
allowed it goes through the cookie, as a control that the browser set-up is what decides.
"""

from __future__ import annotations

import functools
import html
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Response
from flask import request as flask_request
from sqlalchemy import select
from werkzeug.serving import make_server

from lmsbridge.conformance.lti import MockLtiPlatform, ToolRegistration
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import courses, launches, programs
from lmsbridge.core.web import create_app
from lmsbridge.core.web.lti_views import STATE_COOKIE

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
CLIENT_ID, DEPLOYMENT = "tool-client-1", "dep-1"
STORAGE_FRAME = "lti_storage_frame"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                       "/usr/bin/chromium (apt-get install chromium, or `make browser`)"),
]

# The platform side of LTI postMessage storage: answers only the tool's origin, keeps each
# origin's data apart, and logs what it was asked (the test reads the log).
_STORAGE_SCRIPT = """<script>
var toolOrigin = %s, data = {};
window.ltiLog = [];
window.addEventListener("message", function (e) {
  var d = e.data || {};
  if (e.origin !== toolOrigin || typeof d !== "object") return;
  var slot = e.origin + " " + d.key, reply = {message_id: d.message_id, key: d.key};
  if (d.subject === "lti.put_data") {
    data[slot] = d.value;
    reply.subject = "lti.put_data.response"; reply.value = d.value;
  } else if (d.subject === "lti.get_data") {
    reply.subject = "lti.get_data.response";
    if (slot in data) reply.value = data[slot];
    else reply.error = {code: "bad_request", message: "no value for " + d.key};
  } else return;
  window.ltiLog.push({subject: d.subject, key: d.key, found: "value" in reply});
  e.source.postMessage(reply, e.origin);
});
</script>"""


class StoragePlatform(MockLtiPlatform):
    """The mock LMS with a course page that frames the tool and answers LTI postMessage
    storage, either in a named frame beside the tool (Canvas-style) or in the course page
    itself (``_parent``), and that sends ``lti_storage_target`` with the id_token as it does
    with the login initiation."""

    tool_origin = ""
    storage_target = STORAGE_FRAME

    def routes(self, app: Flask) -> None:
        super().routes(app)
        authorize = app.view_functions["authorize"]

        @functools.wraps(authorize)
        def authorize_with_storage_target() -> Response:
            resp = authorize()
            page = resp.get_data(as_text=True)
            field = (f'<input type="hidden" name="lti_storage_target" '
                     f'value="{html.escape(self.storage_target)}">')
            assert page.count("<noscript>") == 1
            resp.set_data(page.replace("<noscript>", field + "<noscript>"))
            return resp

        app.view_functions["authorize"] = authorize_with_storage_target

        @app.get("/course")
        def course() -> Response:
            target = self.storage_target
            src = f"{flask_request.args['login']}&{urlencode({'lti_storage_target': target})}"
            storage = (_STORAGE_SCRIPT % json.dumps(self.tool_origin) if target == "_parent"
                       else f'<iframe name="{html.escape(target)}" src="/storage" hidden>'
                            f"</iframe>")
            return Response(
                f'<!doctype html><meta charset="utf-8"><title>Course</title>{storage}'
                f'<iframe name="tool" src="{html.escape(src)}" width="900" height="600">'
                f"</iframe>", content_type="text/html; charset=utf-8")

        @app.get("/storage")
        def storage() -> Response:
            return Response('<!doctype html><meta charset="utf-8"><title>storage</title>'
                            + _STORAGE_SCRIPT % json.dumps(self.tool_origin),
                            content_type="text/html; charset=utf-8")

        @app.get("/provider/course")
        def provider_course() -> Response:  # where the tool sends the learner: the course
            return Response('<!doctype html><h1 id="provider-course">Statistics</h1>',
                            content_type="text/html; charset=utf-8")


@pytest.fixture(params=[STORAGE_FRAME, "_parent"])
def setup(request, tmp_path):
    """The mock platform on http://127.0.0.1, the tool on https://localhost, one launch."""
    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "web.key")
    store.upgrade()
    platform = StoragePlatform(tool=ToolRegistration(client_id=CLIENT_ID,
                                                     deployment_ids=(DEPLOYMENT,))).start()
    app = create_app(store, secret_key="k")
    seen: list[dict[str, Any]] = []
    target = request.param

    @app.before_request
    def record() -> None:
        if flask_request.path == "/lti/launch":
            seen.append({"state_cookie": any(n.startswith(STATE_COOKIE)
                                             for n in flask_request.cookies),
                         "fields": sorted(flask_request.form)})

    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context="adhoc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tool = f"https://localhost:{server.server_port}"
    try:
        platform.tool_origin, platform.storage_target = tool, target
        platform.register_tool(client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT],
                               jwks_url=tool + "/.well-known/jwks.json",
                               login_url=tool + "/lti/login", launch_url=tool + "/lti/launch")
        store.tenants.add(Tenant("uni-a", "canvas", grade_sync="course"))
        store.platforms.add(PlatformRegistration(**platform.registration("uni-a")))
        store.programs.activate("uni-a", "prog-1")
        _catalog(store, platform.url + "/provider/course")
        platform.add_user("u1", name="Ada Lovelace", email="ada@example.edu")
        platform.add_context("ctx-1", title="Biology 101")
        platform.add_member("ctx-1", "u1", roles=["Learner"])
        platform.add_resource_link("ctx-1", "rl-1", title="Statistics", custom={
            "provider_program_id": "prog-1", "provider_course_id": "c1"})
        login = platform.start_launch("u1", context="ctx-1", resource_link="rl-1")
        course = f"{platform.url}/course?{urlencode({'login': login.get_url()})}"
        yield store, platform, course, seen
    finally:
        server.shutdown()
        thread.join()
        platform.stop()
        store.dispose()


def _catalog(store: Store, course_url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(programs.insert(), [{"id": "prog-1", "name": "Data Science", "seats": None}])
        conn.execute(courses.insert(), [{"program_id": "prog-1", "id": "c1",
                                         "name": "Statistics", "url": course_url}])


def _run(course_url: str, profile: Path, *, block_third_party_cookies: bool
         ) -> list[dict[str, Any]]:
    """Open the course page; wait for the provider's course page inside the tool frame.
    Returns the storage frame's log.

    The cookie setting is Chromium's own preference (Settings > Third-party cookies), set in
    a fresh regular profile, so neither build defaults nor incognito rules decide it."""
    from playwright.sync_api import sync_playwright

    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps({"profile": {
        "cookie_controls_mode": 1 if block_third_party_cookies else 0,  # 1: block 3P
        "block_third_party_cookies": block_third_party_cookies}}))
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=ARGS, ignore_https_errors=True)
        try:
            # Page timers stand still: the tool's login page has a 2 s fallback (go on and rely
            # on the cookie when no storage answer comes); frozen, only the answer moves it on.
            context.clock.install()
            context.clock.pause_at(datetime.now(UTC) + timedelta(minutes=1))
            page = context.new_page()
            page.goto(course_url)
            tool = page.frame(name="tool")
            tool.wait_for_url("**/provider/course")
            tool.wait_for_selector("#provider-course")
            storage = page.frame(name=STORAGE_FRAME) or page.main_frame
            return storage.evaluate("window.ltiLog")
        finally:
            context.close()


def _launch_rows(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(launches.c.sub, launches.c.program_id,
                                   launches.c.course_id)).all()


def test_blocked_third_party_cookies_launch_through_platform_storage(setup, tmp_path):
    store, platform, course_url, seen = setup
    log = _run(course_url, tmp_path / "profile", block_third_party_cookies=True)
    # Login put the nonce into the platform's frame; the launch read it back.
    assert [(e["subject"], e["found"]) for e in log] == [("lti.put_data", True),
                                                         ("lti.get_data", True)]
    assert log[0]["key"] == log[1]["key"]
    # The state cookie never reached the tool: the first POST carried no cookie and got the
    # get_data page; the second brought the nonce from platform storage.
    assert seen == [
        {"state_cookie": False, "fields": ["id_token", "lti_storage_target", "state"]},
        {"state_cookie": False, "fields": ["id_token", "lti_storage_nonce", "state"]},
    ]
    assert _launch_rows(store) == [("u1", "prog-1", "c1")]
    assert platform.state()["auth_errors"] == []


def test_allowed_third_party_cookies_launch_through_the_cookie(setup, tmp_path):
    """Control: the same launch with third-party cookies allowed uses the state cookie, so
    the test above really ran with the cookie blocked."""
    store, _platform, course_url, seen = setup
    log = _run(course_url, tmp_path / "profile", block_third_party_cookies=False)
    assert [e["subject"] for e in log] == ["lti.put_data"]
    assert seen == [{"state_cookie": True,
                     "fields": ["id_token", "lti_storage_target", "state"]}]
    assert _launch_rows(store) == [("u1", "prog-1", "c1")]
