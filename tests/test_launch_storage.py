"""LTI platform storage (lti_storage_target): state kept through the platform's postMessage
frame when the browser blocks the tool's third-party cookie. SQLite only."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from lti_web_fixtures import (
    ISS,
    TOOL,
    JwksServer,
    add_catalog,
    launch_claims,
    page_value,
    setup_tenant,
    sign,
    storage_login,
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


def test_login_puts_the_nonce_into_platform_storage_before_going_on(app):
    page, state, nonce = storage_login(app.test_client(), "lti_storage_frame")
    assert '"lti.put_data"' in page and "lti.put_data.response" in page
    assert page_value(page, "target") == "lti_storage_frame"
    assert page_value(page, "origin") == ISS  # the platform's origin, never "*"
    assert f'"lmsbridge_state_{state}"' in page and f'"{nonce}"' in page
    assert urlsplit(page_value(page, "next")).path == "/auth"


def test_cookieless_launch_asks_platform_storage_then_succeeds_with_its_answer(app, store):
    client = app.test_client()
    _, state, nonce = storage_login(client)
    token = sign(launch_claims(nonce))
    cookieless = app.test_client()  # the iframe's browser context sent no cookie
    first = cookieless.post("/lti/launch", data={"id_token": token, "state": state,
                                                  "lti_storage_target": "_parent"})
    assert first.status_code == 200
    assert first.headers["Referrer-Policy"] == "same-origin"  # keeps the relaunch's Origin
    page = first.get_data(as_text=True)
    assert '"lti.get_data"' in page and f'"lmsbridge_state_{state}"' in page
    assert page_value(page, "origin") == ISS
    fields = {n: html.unescape(v) for n, v in
              re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    assert fields == {"id_token": token, "state": state, "lti_storage_nonce": ""}
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(launches)).scalar() == 0
    # The page fills lti_storage_nonce with the platform's answer and posts again.
    # Posted by the tool's own page: the browser sends the tool's origin.
    again = cookieless.post("/lti/launch", data={**fields, "lti_storage_nonce": nonce},
                            headers={"Origin": TOOL})
    assert again.status_code == 302, again.get_data(as_text=True)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(launches)).scalar() == 1


@pytest.mark.parametrize(("answer", "status", "rule"), [
    ("", 401, "state_unknown"),  # the platform had nothing stored for this state
    ("someone-elses-nonce", 401, "nonce_mismatch"),
])
def test_wrong_or_empty_storage_answer_is_refused(app, answer, status, rule):
    _, state, nonce = storage_login(app.test_client())
    resp = app.test_client().post("/lti/launch", headers={"Origin": TOOL}, data={
        "id_token": sign(launch_claims(nonce)), "state": state, "lti_storage_nonce": answer})
    assert resp.status_code == status and rule in resp.get_data(as_text=True)
