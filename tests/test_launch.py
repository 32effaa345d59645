"""OIDC login and resource-link launch, driven over the Flask test client with id_tokens
crafted by joserfc and the platform's JWKS served over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lti_web_fixtures import (
    CLIENT_ID,
    DEPLOYMENT,
    ISS,
    KID,
    TOOL,
    JwksServer,
    add_catalog,
    launch_claims,
    login,
    setup_tenant,
    sign,
)
from sqlalchemy import func, select

from lmsbridge.core.lti.claims import LTI
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.store.schema import (
    account_links,
    contexts,
    grades,
    launches,
    learners,
    licenses,
    nonces,
)
from lmsbridge.core.web import create_app

WRITTEN = (learners, account_links, licenses, launches, contexts, nonces)


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def tool(store, jwks_server, clock):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    app = create_app(store, jwks=JwksCache(), clock=clock, secret_key="test-secret")
    return app


@pytest.fixture
def client(tool):
    return tool.test_client()


def counts(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in WRITTEN}


def launch(client, token: str, state: str):
    return client.post("/lti/launch", data={"id_token": token, "state": state})


def test_login_redirects_to_the_platform_with_every_oidc_parameter(client):
    resp, state, nonce = login(client, lti_message_hint="hint-1")
    url = urlsplit(resp.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == ISS + "/auth"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q == {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                 "prompt": "none", "client_id": CLIENT_ID, "redirect_uri": TOOL + "/lti/launch",
                 "login_hint": "user-1", "lti_message_hint": "hint-1",
                 "state": state, "nonce": nonce}
    assert len(nonce) >= 40 and nonce != state
    cookie = resp.headers["Set-Cookie"]
    assert f"lmsbridge_lti_{state}={nonce}" in cookie and "HttpOnly" in cookie


def test_login_over_https_sets_a_samesite_none_secure_cookie(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    app = create_app(store, base_url="https://tool.example", secret_key="k")
    resp = app.test_client().post("/lti/login", base_url="https://tool.example", data={
        "iss": ISS, "login_hint": "u", "target_link_uri": "https://tool.example/lti/launch",
        "client_id": CLIENT_ID})
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie


@pytest.mark.parametrize(("params", "status", "rule"), [
    ({"iss": ""}, 400, "login_iss_missing"),
    ({"login_hint": ""}, 400, "login_login_hint_missing"),
    ({"target_link_uri": ""}, 400, "login_target_link_uri_missing"),
    ({"target_link_uri": "https://evil.example/lti/launch"}, 400, "target_link_uri_foreign"),
    ({"target_link_uri": TOOL + "/elsewhere"}, 400, "target_link_uri_foreign"),
    ({"iss": "https://other.example"}, 401, "registration_unknown"),
    ({"client_id": "nope"}, 401, "registration_unknown"),
    ({"lti_deployment_id": "dep-x"}, 401, "deployment_unknown"),
    ({"lti_storage_target": "<script>"}, 400, "login_lti_storage_target_malformed"),
])
def test_bad_logins_are_refused_with_a_page_naming_the_rule(client, params, status, rule, caplog):
    base = {"iss": ISS, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch",
            "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT}
    resp = client.get("/lti/login", query_string={**base, **params})
    assert resp.status_code == status
    assert f'<span id="rule">{rule}</span>' in resp.get_data(as_text=True)
    assert any(rule in r.getMessage() for r in caplog.records)
    assert "Set-Cookie" not in resp.headers


def test_shared_issuer_needs_the_deployment_id_to_pick_the_tenant(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    setup_tenant(store, jwks_server.url + "/jwks", tenant="uni-b", deployment="dep-2")
    client = create_app(store, secret_key="k").test_client()
    base = {"iss": ISS, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch",
            "client_id": CLIENT_ID}
    assert client.get("/lti/login", query_string=base).status_code == 400
    ok = client.get("/lti/login", query_string={**base, "lti_deployment_id": "dep-2"})
    assert ok.status_code == 302


def test_first_launch_links_the_account_takes_a_license_and_records_everything(client, store):
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(nonce)), state)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"] == "https://provider.example/learn/stats"
    with store.engine.connect() as conn:
        learner = conn.execute(select(learners)).one()
        assert (learner.email, learner.name) == ("ada@example.edu", "Ada Lovelace")
        link = conn.execute(select(account_links)).one()
        assert (link.issuer, link.sub, link.learner_id) == (ISS, "user-1", learner.id)
        lic = conn.execute(select(licenses)).one()
        assert (lic.program_id, lic.learner_id, lic.released_at) == ("prog-1", learner.id, None)
        row = conn.execute(select(launches)).one()
        assert (row.context_id, row.resource_link_id, row.program_id, row.course_id,
                row.item_id, row.learner_id) == ("ctx-1", "rl-1", "prog-1", "c1", None,
                                                 learner.id)
        ctx = conn.execute(select(contexts)).one()
        assert (ctx.title, ctx.lineitems_url, ctx.memberships_url) == (
            "Biology 101", ISS + "/ags/ctx-1/lineitems", ISS + "/nrps/ctx-1")
    # The state cookie is spent.
    assert f"lmsbridge_lti_{state}=;" in resp.headers["Set-Cookie"]


def test_second_launch_reuses_link_and_license(client, store):
    for _ in range(2):
        _, state, nonce = login(client)
        assert launch(client, sign(launch_claims(nonce)), state).status_code == 302
    c = counts(store)
    assert (c["learners"], c["account_links"], c["licenses"], c["launches"]) == (1, 1, 1, 2)


def test_first_sso_links_an_existing_learner_by_email(client, store):
    # A learner the provider reported in a program this tenant activated.
    with store.engine.begin() as conn:
        conn.execute(learners.insert().values(id="coursera-42", email="Ada@Example.edu"))
        conn.execute(grades.insert().values(
            learner_id="coursera-42", course_id="c1", item_id="q1", score=1.0, max_score=10.0,
            revision=1, updated_at=datetime.now(UTC)))
    _, state, nonce = login(client)
    assert launch(client, sign(launch_claims(nonce)), state).status_code == 302
    with store.engine.connect() as conn:
        assert conn.execute(select(account_links.c.learner_id)).scalar() == "coursera-42"
        assert conn.execute(select(func.count()).select_from(learners)).scalar() == 1


def _b64json(data) -> str:
    import base64
    import json
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _rules():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    return [
        # (name, claims overrides, header/key/... tweaks, status, rule)
        ("alg none", {}, {"header": {"alg": "none", "kid": KID}}, 401, "alg_not_allowed"),
        ("no kid", {}, {"header": {"alg": "RS256"}}, 401, "kid_missing"),
        ("unknown kid", {}, {"header": {"alg": "RS256", "kid": "zz"}}, 401, "kid_unknown"),
        ("bad signature", {}, {"key": other}, 401, "signature_invalid"),
        ("wrong issuer", {"iss": "https://evil.example"}, {}, 401, "registration_unknown"),
        ("wrong audience", {"aud": "someone-else"}, {}, 401, "registration_unknown"),
        ("azp mismatch", {"aud": [CLIENT_ID, "x"], "azp": "x"}, {}, 401, "registration_unknown"),
        ("aud list without azp", {"aud": [CLIENT_ID, "x"]}, {}, 401, "aud"),
        ("expired", {"exp": now - 3600, "iat": now - 3900}, {}, 401, "expired"),
        ("iat in the future", {"iat": now + 600}, {}, 401, "iat_future"),
        ("too old", {"iat": now - 3000, "exp": now + 300}, {}, 401, "too_old"),
        ("no exp", {"exp": None}, {}, 401, "exp_missing"),
        ("wrong version", {LTI + "version": "1.1"}, {}, 400, "version"),
        ("no version", {LTI + "version": None}, {}, 400, "version"),
        ("no message type", {LTI + "message_type": None}, {}, 400, "message_type_missing"),
        ("bad message type", {LTI + "message_type": "Foo"}, {}, 400,
         "message_type_unsupported"),
        ("no roles claim", {LTI + "roles": None}, {}, 400, "roles_missing"),
        ("no deployment", {LTI + "deployment_id": None}, {}, 400, "deployment_id_missing"),
        ("unknown deployment", {LTI + "deployment_id": "dep-x"}, {}, 401, "deployment_unknown"),
        ("no resource link", {LTI + "resource_link": None}, {}, 400,
         "resource_link_id_missing"),
        ("no user", {"sub": None}, {}, 400, "sub_missing"),
        ("foreign target", {LTI + "target_link_uri": "https://evil.example/lti/launch"}, {},
         400, "target_link_uri_foreign"),
        ("wrong nonce", {"nonce": "not-the-one"}, {}, 401, "nonce_mismatch"),
        ("context without id", {LTI + "context": {"title": "x"}}, {}, 400, "context_id_missing"),
    ]


@pytest.mark.parametrize(("claims", "tweak", "status", "rule"),
                         [r[1:] for r in _rules()], ids=[r[0] for r in _rules()])
def test_bad_launches_are_refused_naming_the_rule_and_write_nothing(
        client, store, claims, tweak, status, rule, caplog):
    _, state, nonce = login(client)
    claims = launch_claims(nonce, **claims)
    if "header" in tweak and tweak["header"].get("alg") == "none":
        token = f"{_b64json(tweak['header'])}.{_b64json(claims)}."  # joserfc won't make 'none'
    else:
        token = sign(claims, tweak.get("header"), **({"key": tweak["key"]} if "key" in tweak
                                                     else {}))
    before = counts(store)
    resp = launch(client, token, state)
    assert resp.status_code == status
    assert f'<span id="rule">{rule}</span>' in resp.get_data(as_text=True)
    assert any(rule in r.getMessage() for r in caplog.records if "rejected" in r.getMessage())
    assert counts(store) == before


def test_hs256_signed_with_the_public_key_is_refused(client, store):
    _, state, nonce = login(client)
    from joserfc import jwt
    from joserfc.jwk import OctKey
    token = jwt.encode({"alg": "HS256", "kid": KID}, launch_claims(nonce),
                       OctKey.import_key("x" * 32), algorithms=["HS256"])
    resp = launch(client, token, state)
    assert resp.status_code == 401 and "alg_not_allowed" in resp.get_data(as_text=True)


def test_replayed_id_token_is_refused(client, store):
    _, state, nonce = login(client)
    token = sign(launch_claims(nonce))
    assert launch(client, token, state).status_code == 302
    client.set_cookie(f"lmsbridge_lti_{state}", nonce, path="/lti/launch")
    again = launch(client, token, state)
    assert again.status_code == 401 and "nonce_replayed" in again.get_data(as_text=True)
    assert counts(store)["launches"] == 1


def test_launch_from_a_browser_that_did_not_log_in_is_refused(client, store, tool):
    _, state, nonce = login(client)
    other_browser = tool.test_client()
    resp = launch(other_browser, sign(launch_claims(nonce)), state)
    assert resp.status_code == 401 and "state_unknown" in resp.get_data(as_text=True)
    assert counts(store)["nonces"] == 0


@pytest.mark.parametrize("form", [{}, {"state": "s"}, {"id_token": "x"}])
def test_launch_without_token_or_state_is_a_400(client, form):
    assert client.post("/lti/launch", data=form).status_code == 400


def test_garbage_token_is_a_401(client):
    _, state, _ = login(client)
    resp = launch(client, "not.a.jwt", state)
    assert resp.status_code == 401 and "token_malformed" in resp.get_data(as_text=True)


@pytest.mark.parametrize("over", [
    {LTI + "roles": []},
    {LTI + "roles": ["http://example.com/unknown#Role"]},
    {LTI + "roles": ["Learner", "Instructor"]},
    {"name": None, "email": None},
    {LTI + "context": None},
], ids=["no role", "unknown role", "short roles", "no PII", "no context"])
def test_valid_edge_launches_succeed(client, store, over):
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(nonce, **over)), state)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert counts(store)["launches"] == 1


def test_no_pii_launch_creates_an_anonymous_learner(client, store):
    _, state, nonce = login(client)
    launch(client, sign(launch_claims(nonce, name=None, email=None)), state)
    with store.engine.connect() as conn:
        row = conn.execute(select(learners)).one()
    assert (row.email, row.name) == (None, None)


@pytest.mark.parametrize(("skew", "leeway", "ok"), [(30, None, True), (90, None, False),
                                                     (30, 0.0, False), (90, 120.0, True)])
def test_clock_skew_leeway_is_configurable(store, jwks_server, clock, skew, leeway, ok):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    client = create_app(store, clock=clock, leeway=leeway, secret_key="k").test_client()
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(nonce, now=clock.now + skew)), state)
    assert (resp.status_code == 302) is ok
    if not ok:
        assert "iat_future" in resp.get_data(as_text=True)


def test_option_a_item_link_redirects_to_the_item_or_its_course(store, jwks_server, clock):
    setup_tenant(store, jwks_server.url + "/jwks", grade_sync="item")
    add_catalog(store)
    client = create_app(store, clock=clock, secret_key="k").test_client()
    for item, where in [("q1", "https://provider.example/learn/stats/quiz1"),
                        ("q2", "https://provider.example/learn/stats")]:
        _, state, nonce = login(client)
        custom = {"provider_program_id": "prog-1", "provider_course_id": "c1",
                  "provider_item_id": item}
        resp = launch(client, sign(launch_claims(nonce, **{LTI + "custom": custom})), state)
        assert resp.headers["Location"] == where
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(launches.c.item_id)).scalars()) == ["q1", "q2"]


@pytest.mark.parametrize(("custom", "status", "rule"), [
    ({}, 400, "link_unrouted"),
    ({"provider_program_id": "prog-2", "provider_course_id": "w1"}, 403,
     "program_not_activated"),
    ({"provider_program_id": "prog-1", "provider_course_id": "nope"}, 404, "content_unknown"),
    ({"provider_program_id": "prog-1", "provider_course_id": "c1", "provider_item_id": "zz"},
     404, "content_unknown"),
])
def test_launches_to_unknown_or_inactive_content_get_a_clear_page(client, store, custom,
                                                                 status, rule):
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(nonce, **{LTI + "custom": custom})), state)
    assert resp.status_code == status and rule in resp.get_data(as_text=True)
    c = counts(store)
    assert (c["learners"], c["licenses"], c["launches"]) == (0, 0, 0)


def test_program_link_shows_its_courses(client):
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(
        nonce, **{LTI + "custom": {"provider_program_id": "prog-1"}})), state)
    assert resp.status_code == 200
    assert "https://provider.example/learn/python" in resp.get_data(as_text=True)


def test_no_seat_left_gets_a_clear_page_and_writes_nothing(store, jwks_server, clock):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store, seats=1)
    client = create_app(store, clock=clock, secret_key="k").test_client()
    _, state, nonce = login(client)
    assert launch(client, sign(launch_claims(nonce)), state).status_code == 302
    before = counts(store)
    _, state, nonce = login(client)
    resp = launch(client, sign(launch_claims(nonce, sub="user-2", email="b@example.edu")),
                  state)
    assert resp.status_code == 409
    assert "no_seat_left" in resp.get_data(as_text=True)
    after = counts(store)
    assert {k: after[k] - before[k] for k in after} == {
        "learners": 0, "account_links": 0, "licenses": 0, "launches": 0, "contexts": 0,
        "nonces": 1}


def test_jwks_endpoint_publishes_the_tool_key(client):
    doc = client.get("/.well-known/jwks.json").get_json()
    assert len(doc["keys"]) == 1
    assert {"kty", "kid", "alg", "use", "n", "e"} == set(doc["keys"][0])
    assert doc["keys"][0]["alg"] == "RS256"


def test_racing_launches_never_take_more_seats_than_the_program_has(store, jwks_server):
    import threading
    from datetime import UTC, datetime

    from lmsbridge.core.store.licenses import NoSeatLeft

    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store, seats=3)
    with store.engine.begin() as conn:
        conn.execute(learners.insert(), [{"id": f"l{i}"} for i in range(8)])
    start, results = threading.Barrier(8), []

    def take(learner: str) -> None:
        start.wait()
        try:
            with store.engine.begin() as conn:
                results.append(store.licenses.take(conn, 1, "prog-1", learner,
                                                   datetime.now(UTC)))
        except NoSeatLeft:
            results.append("full")

    threads = [threading.Thread(target=take, args=(f"l{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)) == ["True"] * 3 + ["full"] * 5
    assert counts(store)["licenses"] == 3


# Hostile but signed id_tokens: a page naming the rule on every database, never a 500, and
# nothing written (these were 500s, or for iat NaN a launch that skipped the age rule).

def _hostile_launches():
    from hostile_fixtures import nested

    def raw(extra: bytes):
        return lambda claims: json.dumps(claims).encode()[:-1] + b", " + extra + b"}"

    def over(**kw):
        return lambda claims: json.dumps({**claims, **kw}).encode()

    def ctx(**kw):
        return lambda c: json.dumps({**c, LTI + "context": {**c[LTI + "context"], **kw}}).encode()

    def rl(**kw):
        return lambda c: json.dumps({**c, LTI + "resource_link": {
            **c[LTI + "resource_link"], **kw}}).encode()

    return [
        ("nested payload", lambda c: nested(30_000), 401, "token_malformed"),
        ("nested claim", raw(b'"x": ' + nested(40)), 401, "token_malformed"),
        ("exp NaN", over(exp=float("nan")), 401, "exp_malformed"),
        ("exp 10**400", over(exp=10**400), 401, "exp_malformed"),
        ("exp 1e400", raw(b'"exp": 1e400'), 401, "exp_malformed"),
        ("iat NaN", over(iat=float("nan")), 401, "iat_malformed"),
        ("sub 256", over(sub="s" * 256), 400, "sub_malformed"),
        ("sub NUL", over(sub="user\x00-1"), 400, "sub_malformed"),
        ("context id 256", ctx(id="c" * 256), 400, "context_id_malformed"),
        ("context id NUL", ctx(id="ctx\x00"), 400, "context_id_malformed"),
        ("resource link id 256", rl(id="r" * 256), 400, "resource_link_id_malformed"),
        ("resource link id NUL", rl(id="rl\x00"), 400, "resource_link_id_malformed"),
        ("name NUL", over(name="Ada\x00"), 400, "name_malformed"),
        ("email NUL", over(email="ada\x00@example.edu"), 400, "email_malformed"),
        ("context title NUL", ctx(title="Bio\x00"), 400, "context_title_malformed"),
        ("custom NUL", over(**{LTI + "custom": {"provider_program_id": "prog\x00"}}), 400,
         "custom_malformed"),
        ("lone surrogate nonce", raw(b'"nonce": "\\ud800"'), 401, "token_malformed"),
    ]


@pytest.mark.parametrize(("payload", "status", "rule"), [c[1:] for c in _hostile_launches()],
                         ids=[c[0] for c in _hostile_launches()])
def test_hostile_signed_launches_are_refused_and_write_nothing(client, store, payload,
                                                               status, rule):
    from hostile_fixtures import compact, row_counts

    _, state, nonce = login(client)
    token = compact(json.dumps({"alg": "RS256", "kid": KID}).encode(),
                    payload(launch_claims(nonce)))
    before = row_counts(store.engine)
    resp = launch(client, token, state)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert f'<span id="rule">{rule}</span>' in resp.get_data(as_text=True)
    assert row_counts(store.engine) == before


def test_long_names_and_titles_are_cut_not_refused(client, store):
    from lmsbridge.core.lti.claims import MAX_TEXT

    _, state, nonce = login(client)
    claims = launch_claims(nonce, name="N" * 5000,
                           **{LTI + "context": {"id": "ctx-1", "title": "T" * 5000}})
    assert launch(client, sign(claims), state).status_code == 302
    with store.engine.connect() as conn:
        assert conn.execute(select(learners.c.name)).scalar() == "N" * MAX_TEXT
        assert conn.execute(select(contexts.c.title)).scalar() == "T" * MAX_TEXT
