"""One deep-linking response per picker session: a replayed or doubled submission of the
same session is refused and writes nothing, on each backend."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from lti_web_fixtures import (
    ISS,
    JwksServer,
    add_catalog,
    deep_link_claims,
    login,
    setup_tenant,
    sign,
)
from sqlalchemy import select

from lmsbridge.core.lti.deeplinking import SESSION_MAX_AGE, SESSION_PREFIX
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.store.schema import nonces, published_links
from lmsbridge.core.web import create_app

RETURN_URL = ISS + "/deep_link_return"
SECRET = "picker-secret"


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def app(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks", grade_sync="final")
    add_catalog(store)
    return create_app(store, jwks=JwksCache(), secret_key=SECRET)


def picker_session(client) -> str:
    """A deep-linking launch; returns the picker session token ``s``."""
    _, state, nonce = login(client)
    resp = client.post("/lti/launch", data={
        "id_token": sign(deep_link_claims(nonce, RETURN_URL)), "state": state})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return parse_qs(urlsplit(resp.headers["Location"]).query)["s"][0]


def submit(client, s: str, *course_ids: str):
    return client.post("/lti/picker/submit", data={"s": s, "program": "prog-1",
                                                   "course": list(course_ids)})


def links(store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(r.course_id for r in conn.execute(select(published_links.c.course_id)))


def used(resp) -> bool:
    body = resp.get_data(as_text=True)
    return (resp.status_code == 400 and '<span id="rule">picker_session_used</span>' in body
            and 'name="JWT"' not in body)


def test_a_session_sends_one_response_and_its_replays_are_refused(app, store):
    client = app.test_client()
    s = picker_session(client)
    first = submit(client, s, "c1", "c2")
    assert first.status_code == 200 and 'name="JWT"' in first.get_data(as_text=True)
    for _ in range(19):
        assert used(submit(client, s, "c1", "c2"))
    assert used(submit(app.test_client(), s, "c2"))  # other choices, another browser
    assert links(store) == ["c1", "c2"]


def test_a_refused_submission_leaves_the_session_usable(app, store):
    client = app.test_client()
    s = picker_session(client)
    nothing = submit(client, s)
    assert nothing.status_code == 400 and "nothing_chosen" in nothing.get_data(as_text=True)
    unknown = submit(client, s, "w1")
    assert unknown.status_code == 404 and "content_unknown" in unknown.get_data(as_text=True)
    assert submit(client, s, "c1").status_code == 200
    assert links(store) == ["c1"]


def test_each_session_has_its_own_single_use(app, store):
    client = app.test_client()
    one, two = picker_session(client), picker_session(client)
    assert submit(client, one, "c1").status_code == 200
    assert submit(client, two, "c2").status_code == 200
    assert used(submit(client, one, "c2")) and used(submit(client, two, "c1"))
    assert links(store) == ["c1", "c2"]


def test_the_use_is_kept_until_the_session_expires(app, store):
    client = app.test_client()
    before = int(time.time())
    s = picker_session(client)
    after = int(time.time()) + 1
    assert submit(client, s, "c1").status_code == 200
    with store.engine.connect() as conn:
        [row] = conn.execute(select(nonces).where(nonces.c.value.like(SESSION_PREFIX + "%")))
    kept = row.expires_at.replace(tzinfo=UTC) if row.expires_at.tzinfo is None else row.expires_at
    assert (datetime.fromtimestamp(before + SESSION_MAX_AGE, UTC) <= kept
            <= datetime.fromtimestamp(after + SESSION_MAX_AGE, UTC))


def test_concurrent_submits_of_one_session_yield_exactly_one_response(app, store):
    s = picker_session(app.test_client())
    n = 8
    start, results = threading.Barrier(n), []
    lock = threading.Lock()

    def post() -> None:
        client = app.test_client()
        start.wait()
        resp = submit(client, s, "c1", "c2")
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) == 1 and 'name="JWT"' in ok[0].get_data(as_text=True)
    assert sum(used(r) for r in results) == n - 1
    assert links(store) == ["c1", "c2"]


def test_a_session_token_without_an_id_is_refused(app, store):
    # Signed with the tool's secret but made before sessions had an id: it cannot be
    # used up, so it is not accepted.
    client = app.test_client()
    s = picker_session(client)
    values = URLSafeTimedSerializer(SECRET, salt="lmsbridge.picker").loads(s)
    del values["id"]
    old = URLSafeTimedSerializer(SECRET, salt="lmsbridge.picker").dumps(values)
    resp = submit(client, old, "c1")
    assert resp.status_code == 401 and "picker_session_invalid" in resp.get_data(as_text=True)
    assert links(store) == []
