"""Deep linking: the content picker and its LtiDeepLinkingResponse, checked by an independent
platform implementation (lti1p3platform) and, in a real headless Chromium, end to end."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response, jsonify, request
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from lti_web_fixtures import (
    CLIENT_ID,
    DEPLOYMENT,
    ISS,
    TOOL,
    JwksServer,
    add_catalog,
    deep_link_claims,
    login,
    setup_tenant,
    sign,
)
from sqlalchemy import select
from werkzeug.serving import make_server

from lmsbridge.conformance.mock import MockServer
from lmsbridge.core.lti.claims import DL, LTI
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.store.schema import published_links
from lmsbridge.core.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
RETURN_URL = ISS + "/deep_link_return"


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


class Lti1p3Platform(LTI1P3PlatformConfAbstract):
    """lti1p3platform's platform side, knowing our tool key set."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.tool_jwks = kwargs["tool_jwks"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return (Registration().set_iss(ISS).set_client_id(CLIENT_ID)
                .set_deployment_id(DEPLOYMENT).set_tool_key_set(self.tool_jwks))


def _picker(client, grade_sync_claims: dict[str, Any] | None = None):
    _, state, nonce = login(client)
    claims = deep_link_claims(nonce, RETURN_URL, **(grade_sync_claims or {}))
    resp = client.post("/lti/launch", data={"id_token": sign(claims), "state": state})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"]


def _returned_jwt(resp) -> str:
    body = resp.get_data(as_text=True)
    assert f'action="{RETURN_URL}"' in body
    return body.split('name="JWT" value="')[1].split('"')[0]


def _verify(app, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(app.test_client().get("/.well-known/jwks.json").get_json())
    return jose_jwt.decode(token, keys, algorithms=["RS256"]).claims


def test_course_links_go_back_signed_and_lti1p3platform_accepts_them(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks", grade_sync="final",
                 activate=("prog-1", "prog-2"))
    add_catalog(store)
    app = create_app(store, jwks=JwksCache(), secret_key="k")
    client = app.test_client()
    picker = _picker(client, {"data": "opaque-123"})
    page = client.get(picker).get_data(as_text=True)
    assert "Data Science" in page and "Writing" in page  # two programs: choose one first
    s = parse_qs(urlsplit(picker).query)["s"][0]
    courses = client.get("/lti/picker", query_string={"s": s, "program": "prog-1"})
    assert 'value="c1"' in courses.get_data(as_text=True)
    resp = client.post("/lti/picker/submit", data={"s": s, "program": "prog-1",
                                                   "course": ["c1", "c2"]})
    assert resp.status_code == 200
    token = _returned_jwt(resp)

    platform = Lti1p3Platform(tool_jwks=client.get("/.well-known/jwks.json").get_json())
    platform.get_registration()
    items = platform.validate_deeplinking_resp({"JWT": token})
    assert [i["custom"]["provider_course_id"] for i in items] == ["c1", "c2"]

    claims = _verify(app, token)
    assert claims["iss"] == CLIENT_ID and claims["aud"] == ISS
    assert claims[LTI + "deployment_id"] == DEPLOYMENT
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[DL + "data"] == "opaque-123" and len(claims["nonce"]) > 20
    assert items[0]["lineItem"] == {"scoreMaximum": 100.0, "label": "Statistics",
                                    "resourceId": "c1", "tag": "final"}
    assert items[0]["url"] == TOOL + "/lti/launch"
    with store.engine.connect() as conn:
        rows = conn.execute(select(published_links)).all()
    assert sorted((r.course_id, r.item_id, r.grade_sync) for r in rows) == [
        ("c1", None, "final"), ("c2", None, "final")]


def test_data_is_left_out_when_the_request_had_none_and_one_item_when_not_multiple(
        store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks", grade_sync="item")
    add_catalog(store)
    app = create_app(store, jwks=JwksCache(), secret_key="k")
    client = app.test_client()
    picker = _picker(client, {"accept_multiple": False, "accept_lineitem": True})
    s = parse_qs(urlsplit(picker).query)["s"][0]
    # One activated program: the picker starts at its courses; Option A then lists items.
    assert "Statistics" in client.get(picker).get_data(as_text=True)
    items_page = client.get("/lti/picker", query_string={"s": s, "program": "prog-1",
                                                         "course": "c1"}).get_data(as_text=True)
    assert 'type="radio"' in items_page and "Reading" not in items_page  # not gradable
    two = client.post("/lti/picker/submit", data={"s": s, "program": "prog-1", "course": "c1",
                                                  "item": ["q1", "q2"]})
    assert two.status_code == 400 and "accept_multiple" in two.get_data(as_text=True)
    one = client.post("/lti/picker/submit", data={"s": s, "program": "prog-1", "course": "c1",
                                                  "item": ["q1"]})
    claims = _verify(app, _returned_jwt(one))
    assert DL + "data" not in claims
    [item] = claims[DL + "content_items"]
    assert item["custom"] == {"provider_program_id": "prog-1", "provider_course_id": "c1",
                              "provider_item_id": "q1", "lmsbridge_link": item["custom"][
                                  "lmsbridge_link"]}
    assert item["lineItem"]["scoreMaximum"] == 10.0


@pytest.mark.parametrize(("form", "status", "rule"), [
    ({"s": "forged"}, 401, "picker_session_invalid"),
    ({"program": "prog-2"}, 403, "program_not_activated"),
    ({"course": "w1"}, 404, "content_unknown"),
    ({}, 400, "nothing_chosen"),
])
def test_picker_refuses_bad_submissions(store, jwks_server, form, status, rule):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    client = create_app(store, jwks=JwksCache(), secret_key="k").test_client()
    s = parse_qs(urlsplit(_picker(client)).query)["s"][0]
    resp = client.post("/lti/picker/submit", data={"s": s, "program": "prog-1", **form})
    assert resp.status_code == status and rule in resp.get_data(as_text=True)
    with store.engine.connect() as conn:
        assert conn.execute(select(published_links)).first() is None


def test_platform_that_accepts_no_resource_links_gets_a_clear_refusal(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    client = create_app(store, jwks=JwksCache(), secret_key="k").test_client()
    s = parse_qs(urlsplit(_picker(client, {"accept_types": ["file"]})).query)["s"][0]
    resp = client.post("/lti/picker/submit", data={"s": s, "program": "prog-1", "course": "c1"})
    assert resp.status_code == 400 and "accept_types" in resp.get_data(as_text=True)


class BrowserPlatform(MockServer):
    """An LMS for the browser: its OIDC auth endpoint form-posts a deep-linking id_token back,
    its deep_link_return endpoint keeps the JWT it got."""

    name = "dl-platform"

    def reset(self) -> None:
        super().reset()
        self.returned: list[str] = []

    def routes(self, app: Flask) -> None:
        @app.get("/jwks")
        def jwks():
            from lti_web_fixtures import _KEY, KID

            from lmsbridge.core.lti.jwks import public_jwks
            return jsonify(public_jwks([(KID, _KEY)]))

        @app.get("/auth")
        def auth():
            q = request.args
            claims = deep_link_claims(q["nonce"], self.url + "/deep_link_return",
                                      data="round-trip")
            claims[LTI + "target_link_uri"] = q["redirect_uri"]
            token = sign(claims)
            return Response(
                f'<form id="f" method="post" action="{q["redirect_uri"]}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{q["state"]}"></form>'
                '<script>document.getElementById("f").submit()</script>', mimetype="text/html")

        @app.post("/deep_link_return")
        def deep_link_return():
            with self.lock:
                self.returned.append(request.form["JWT"])
            return Response('<p id="done">links received</p>', mimetype="text/html")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at "
                    "/usr/bin/chromium (apt-get install chromium, or `make browser`)")
def test_picker_in_real_chromium_returns_the_chosen_items(tmp_path):
    from playwright.sync_api import sync_playwright

    from lmsbridge.core.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "k.key")
    store.upgrade()
    platform = BrowserPlatform().start()
    try:
        issuer = platform.url
        setup_tenant(store, issuer + "/jwks", grade_sync="item", issuer=ISS)
        add_catalog(store)
        # The registration's auth URL must be the browser platform's.
        from lmsbridge.core.store.schema import platforms
        with store.engine.begin() as conn:
            conn.execute(platforms.update().values(auth_login_url=issuer + "/auth",
                                                   jwks_url=issuer + "/jwks"))
        app = create_app(store, secret_key="k")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        tool = f"http://127.0.0.1:{server.server_port}"
        login_url = (f"{tool}/lti/login?iss={ISS}&login_hint=u1&client_id={CLIENT_ID}"
                     f"&lti_deployment_id={DEPLOYMENT}&target_link_uri={tool}/lti/launch")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"])
            try:
                page = browser.new_page()
                page.goto(login_url)
                page.click("a.course >> text=Statistics")
                page.check("input[value=q1]")
                page.check("input[value=q2]")
                page.click("#publish")
                page.wait_for_selector("#done")
            finally:
                browser.close()
        server.shutdown()
        [token] = platform.returned
        claims = _verify(app, token)
        assert claims[DL + "data"] == "round-trip"
        got = [(i["custom"]["provider_item_id"], i["lineItem"]["scoreMaximum"])
               for i in claims[DL + "content_items"]]
        assert sorted(got) == [("q1", 10.0), ("q2", 5.0)]
    finally:
        platform.stop()
        store.dispose()


