"""Launches end to end over real HTTP: the tool served on loopback, started by the project's
MockLtiPlatform (its login initiation, its OIDC auth endpoint, its deep_link_return check)
and by lti1p3platform signing a launch itself. A requests.Session plays the browser.
SQLite only: the point here is the protocol, not the database."""

from __future__ import annotations

import html
import re
import threading
from urllib.parse import unquote_plus, urlencode, urljoin

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from lti_web_fixtures import add_catalog
from sqlalchemy import select
from werkzeug.serving import make_server

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.conformance.mock import MockServer
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    account_links,
    contexts,
    launches,
    learners,
    licenses,
    published_links,
)
from lmsbridge.core.web import create_app

COURSE_URL = "https://provider.example/learn/stats"
ROUTE = {"provider_program_id": "prog-1", "provider_course_id": "c1"}


class Tool:
    """Our app on a loopback port, backed by a SQLite file."""

    def __init__(self, tmp_path, grade_sync: str = "course") -> None:
        self.store = Store.open(f"sqlite:///{tmp_path / 'tool.db'}", tmp_path / "tool.key")
        self.store.upgrade()
        self.store.tenants.add(Tenant("uni-a", "canvas", grade_sync=grade_sync))
        self.store.programs.activate("uni-a", "prog-1")
        add_catalog(self.store)
        self.server = make_server("127.0.0.1", 0, _Deferred(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = create_app(self.store, base_url=self.url, secret_key="e2e")
        self.server.app.target = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def register(self, **reg) -> None:
        self.store.platforms.add(PlatformRegistration(**reg))

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.store.dispose()


class _Deferred:
    """WSGI app set after the port is known (the tool's base URL names the port)."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


@pytest.fixture
def tool(tmp_path):
    tool = Tool(tmp_path)
    yield tool
    tool.close()


@pytest.fixture
def platform(tool):
    with MockLtiPlatform() as mock:
        mock.register_tool(client_id="lmsbridge-tool", deployment_ids=["deployment-1"],
                           jwks_url=tool.url + "/.well-known/jwks.json",
                           login_url=tool.url + "/lti/login", launch_url=tool.url + "/lti/launch")
        tool.register(**mock.registration("uni-a"))
        mock.add_user("u1", name="Ada Lovelace", email="ada@example.edu")
        mock.add_user("teacher", name="Grace Hopper", email="grace@example.edu")
        mock.add_context("ctx-1", title="Biology 101")
        mock.add_member("ctx-1", "u1")
        mock.add_member("ctx-1", "teacher", roles=["Instructor"])
        yield mock


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in
              re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields


def browse_launch(browser: requests.Session, login_url: str, params: dict[str, str]):
    """Login initiation → the platform's auth endpoint → its form post to our launch."""
    start = browser.post(login_url, data=params, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    auth = browser.get(start.headers["Location"], timeout=10)
    assert auth.status_code == 200, auth.text
    action, fields = form_fields(auth.text)
    return browser.post(action, data=fields, allow_redirects=False, timeout=10)


def test_resource_link_launch_started_by_the_mock_platform(tool, platform):
    platform.add_resource_link("ctx-1", "rl-1", title="Statistics", custom=ROUTE,
                               line_item={"label": "Statistics", "scoreMaximum": 100})
    login = platform.start_launch("u1", context="ctx-1", resource_link="rl-1")
    resp = browse_launch(requests.Session(), login.url, login.params)
    assert resp.status_code == 302, resp.text
    assert resp.headers["Location"] == COURSE_URL
    with tool.store.engine.connect() as conn:
        learner = conn.execute(select(learners)).one()
        assert (learner.name, learner.email) == ("Ada Lovelace", "ada@example.edu")
        link = conn.execute(select(account_links)).one()
        assert (link.issuer, link.sub, link.learner_id) == (platform.issuer, "u1", learner.id)
        seat = conn.execute(select(licenses)).one()
        assert (seat.program_id, seat.learner_id, seat.released_at) == ("prog-1", learner.id,
                                                                        None)
        row = conn.execute(select(launches)).one()
        assert (row.context_id, row.resource_link_id, row.course_id) == ("ctx-1", "rl-1", "c1")
        ctx = conn.execute(select(contexts)).one()
        assert (ctx.title, ctx.lineitems_url, ctx.memberships_url) == (
            "Biology 101", platform.lineitems_url("ctx-1"), platform.memberships_url("ctx-1"))
    assert platform.state()["launches"][0]["used"] is True


def test_rest_published_link_is_routed_by_its_launch_url_query(tool, platform):
    # Canvas module items made over REST carry no custom parameters, only the URL.
    url = f"{tool.url}/lti/launch?{urlencode(ROUTE)}"
    platform.add_resource_link("ctx-1", "rl-rest", title="Statistics", url=url)
    login = platform.start_launch("u1", context="ctx-1", resource_link="rl-rest")
    resp = browse_launch(requests.Session(), login.url, login.params)
    assert resp.status_code == 302 and resp.headers["Location"] == COURSE_URL
    with tool.store.engine.connect() as conn:
        assert conn.execute(select(launches.c.program_id, launches.c.course_id)).one() == (
            "prog-1", "c1")


def test_deep_linking_response_is_accepted_by_the_mock_and_its_link_then_launches(
        tool, platform):
    browser = requests.Session()
    login = platform.start_launch("teacher", roles=["Instructor"], context="ctx-1",
                                  message_type="LtiDeepLinkingRequest",
                                  deep_linking={"data": "opaque-7"})
    resp = browse_launch(browser, login.url, login.params)
    assert resp.status_code == 303, resp.text
    picker = browser.get(resp.headers["Location"], timeout=10)
    assert picker.status_code == 200 and "Statistics" in picker.text  # one program: courses
    action, fields = form_fields(picker.text)
    chosen = browser.post(urljoin(picker.url, action), data={**fields, "course": "c1"},
                          timeout=10)
    assert chosen.status_code == 200, chosen.text
    return_url, jwt_form = form_fields(chosen.text)
    done = browser.post(return_url, data=jwt_form, timeout=10)  # the mock verifies it
    assert done.status_code == 200, done.text
    [recorded] = platform.state()["deep_linking_responses"]
    assert recorded["accepted"] and recorded["data"] == "opaque-7"
    [item] = recorded["content_items"]
    assert item["custom"]["provider_course_id"] == "c1" and item["url"] == tool.url + \
        "/lti/launch"
    [created] = recorded["resource_links"]
    # Option B: a course link declares no column; grade sync makes them after first SSO.
    assert "lineItem" not in item and platform.state()["contexts"]["ctx-1"]["line_items"] == []

    # The learner's first launch of the new link binds it to the platform's link id.
    login = platform.start_launch("u1", context="ctx-1", resource_link=created)
    resp = browse_launch(requests.Session(), login.url, login.params)
    assert resp.status_code == 302 and resp.headers["Location"] == COURSE_URL
    with tool.store.engine.connect() as conn:
        row = conn.execute(select(published_links)).one()
    assert (row.context_id, row.resource_link_id, row.course_id) == ("ctx-1", created, "c1")


# ------------------------------------------------------------ lti1p3platform as the LMS


_PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM_PRIVATE = _PLATFORM_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()
PLATFORM_PUBLIC = _PLATFORM_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
LTI1P3_ISS = "https://lms.lti1p3platform.example"


class Lti1p3Keys(MockServer):
    """lti1p3platform's own JWKS (its Registration.get_jwks()) over HTTP."""

    name = "lti1p3platform-jwks"

    def routes(self, app: Flask) -> None:
        @app.get("/jwks")
        def jwks():
            return jsonify(self.platform.get_jwks())


def test_resource_link_launch_signed_by_lti1p3platform(tool):
    # Its message_launch / oidc_login / ltiplatform modules avoid pkg_resources (only its
    # framework.templates imports it), so the abstract classes are used directly.
    from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
    from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
    from lti1p3platform.oidc_login import OIDCLoginAbstract
    from lti1p3platform.registration import Registration

    class Platform(LTI1P3PlatformConfAbstract):
        def init_platform_config(self, **kwargs):
            pass

        def get_registration_by_params(self, **kwargs):
            return (Registration().set_iss(LTI1P3_ISS).set_client_id("lti1p3-client")
                    .set_deployment_id("dep-9").set_launch_url(tool.url + "/lti/launch")
                    .set_oidc_login_url(tool.url + "/lti/login")
                    .set_platform_public_key(PLATFORM_PUBLIC)
                    .set_platform_private_key(PLATFORM_PRIVATE))

    class Login(OIDCLoginAbstract):
        def set_lti_message_hint(self, **kwargs):
            self._lti_message_hint = kwargs["hint"]

        def get_redirect(self, url):
            return url

    class Launch(LTIAdvantageMessageLaunchAbstract):
        def render_launch_form(self, launch_data, **kwargs):
            return launch_data

    platform = Platform()
    keys = Lti1p3Keys()
    keys.platform = platform
    with keys:
        tool.register(tenant="uni-a", issuer=LTI1P3_ISS, client_id="lti1p3-client",
                      deployment_ids=("dep-9",), auth_login_url=LTI1P3_ISS + "/auth",
                      auth_token_url=LTI1P3_ISS + "/token", jwks_url=keys.url + "/jwks")
        login = Login(None, platform)
        login.set_lti_message_hint(hint="rl-9")
        browser = requests.Session()
        start = browser.get(login.initiate_login("student-9"), allow_redirects=False,
                            timeout=10)
        assert start.status_code == 302, start.text
        preflight = dict(re.findall(r"([^?&=]+)=([^&]*)", start.headers["Location"]
                                    .split("?", 1)[1]))
        preflight = {k: unquote_plus(v) for k, v in preflight.items()}

        class Request:
            get_data, form_data = preflight, {}

        launch = Launch(Request(), platform)
        launch.set_user_data("student-9", ["http://purl.imsglobal.org/vocab/lis/v2/"
                                           "membership#Learner"], "Alan Turing",
                             "alan@example.edu")
        launch.set_resource_link_claim("rl-9", title="Statistics")
        launch.set_launch_context_claim("ctx-9", context_title="Logic")
        launch.set_custom_parameters_claim(dict(ROUTE))
        launch.set_ags(LTI1P3_ISS + "/ags/ctx-9/lineitems")
        launch.set_nrps(LTI1P3_ISS + "/nrps/ctx-9")
        data = launch.lti_launch()
        assert data["launch_url"] == tool.url + "/lti/launch"
        resp = browser.post(data["launch_url"], data={"id_token": data["id_token"],
                                                      "state": data["state"]},
                            allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    assert resp.headers["Location"] == COURSE_URL
    with tool.store.engine.connect() as conn:
        link = conn.execute(select(account_links)).one()
        ctx = conn.execute(select(contexts)).one()
    assert (link.issuer, link.sub) == (LTI1P3_ISS, "student-9")
    assert (ctx.context_id, ctx.lineitems_url, ctx.memberships_url) == (
        "ctx-9", LTI1P3_ISS + "/ags/ctx-9/lineitems", LTI1P3_ISS + "/nrps/ctx-9")
