"""LTI platform storage (lti_storage_target): state kept through the platform's postMessage
frame when the browser blocks the tool's third-party cookie. SQLite only."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lti_web_fixtures import (
    CLIENT_ID,
    DEPLOYMENT,
    ISS,
    TOOL,
    JwksServer,
    add_catalog,
    launch_claims,
    setup_tenant,
    sign,
)
from sqlalchemy import func, select

from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import launches
from lmsbridge.core.web import create_app


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "web.key")
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def app(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    return create_app(store, jwks=JwksCache(), secret_key="k")


def _js(page: str, name: str) -> str:
    """A value the page's script holds as ``name = "…"`` or ``name: "…"`` (tojson)."""
    return re.search(rf'{name}\s*[:=]\s*"([^"]*)"', page).group(1)


def storage_login(client, target: str = "_parent") -> tuple[str, str, str]:
    resp = client.get("/lti/login", query_string={
        "iss": ISS, "login_hint": "user-1", "target_link_uri": TOOL + "/lti/launch",
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT, "lti_storage_target": target})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    page = resp.get_data(as_text=True)
    next_url = _js(page, "next").replace("\\u0026", "&")
    query = parse_qs(urlsplit(next_url).query)
    return page, query["state"][0], query["nonce"][0]


def test_login_puts_the_nonce_into_platform_storage_before_going_on(app):
    page, state, nonce = storage_login(app.test_client(), "lti_storage_frame")
    assert '"lti.put_data"' in page and "lti.put_data.response" in page
    assert _js(page, "target") == "lti_storage_frame"
    assert _js(page, "origin") == ISS  # the platform's origin, never "*"
    assert f'"lmsbridge_state_{state}"' in page and f'"{nonce}"' in page
    assert urlsplit(_js(page, "next")).path == "/auth"


def test_cookieless_launch_asks_platform_storage_then_succeeds_with_its_answer(app, store):
    client = app.test_client()
    _, state, nonce = storage_login(client)
    token = sign(launch_claims(nonce))
    cookieless = app.test_client()  # the iframe's browser context sent no cookie
    first = cookieless.post("/lti/launch", data={"id_token": token, "state": state,
                                                  "lti_storage_target": "_parent"})
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert '"lti.get_data"' in page and f'"lmsbridge_state_{state}"' in page
    assert _js(page, "origin") == ISS
    fields = {n: html.unescape(v) for n, v in
              re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    assert fields == {"id_token": token, "state": state, "lti_storage_nonce": ""}
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(launches)).scalar() == 0
    # The page fills lti_storage_nonce with the platform's answer and posts again.
    again = cookieless.post("/lti/launch", data={**fields, "lti_storage_nonce": nonce})
    assert again.status_code == 302, again.get_data(as_text=True)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(launches)).scalar() == 1


@pytest.mark.parametrize(("answer", "status", "rule"), [
    ("", 401, "state_unknown"),  # the platform had nothing stored for this state
    ("someone-elses-nonce", 401, "nonce_mismatch"),
])
def test_wrong_or_empty_storage_answer_is_refused(app, answer, status, rule):
    _, state, nonce = storage_login(app.test_client())
    resp = app.test_client().post("/lti/launch", data={
        "id_token": sign(launch_claims(nonce)), "state": state, "lti_storage_nonce": answer})
    assert resp.status_code == status and rule in resp.get_data(as_text=True)
