"""Login CSRF: a launch is accepted only for a login this tool started, in this browser.

The attacker can have the platform sign an id_token for themselves (their own account, a
nonce and state of their choosing, or a state and nonce our login issued to *their*
browser) and make the victim's browser post it to /lti/launch. Where third-party cookies
work the state cookie stops that; on the platform-storage path (no cookie) the tool checks
that the state is one its login issued, recently, that the nonce is the one issued for that
state, and that the nonce was read from platform storage by the tool's own page.
"""

from __future__ import annotations

import pytest
from lti_web_fixtures import (
    TOOL,
    Clock,
    JwksServer,
    add_catalog,
    launch_claims,
    login,
    setup_tenant,
    sign,
    storage_login,
    written,
)

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.oidc import LOGIN_TTL, LoginBinding
from lmsbridge.core.web import create_app

SAME_ORIGIN = {"Origin": TOOL}  # what a browser sends when the tool's own page posts


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(store, jwks_server, clock):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    return create_app(store, jwks=JwksCache(), clock=clock, secret_key="test-secret")


def storage_launch(client, token: str, state: str, nonce: str, headers=SAME_ORIGIN):
    """The second POST of the storage path: the nonce as read back from platform storage."""
    return client.post("/lti/launch", headers=headers, data={
        "id_token": token, "state": state, "lti_storage_nonce": nonce})


def refused(resp, rule: str, status: int = 401) -> bool:
    body = resp.get_data(as_text=True)
    return resp.status_code == status and f'<span id="rule">{rule}</span>' in body


def nothing_written(store) -> bool:
    return set(written(store).values()) == {0}


def test_forged_state_with_a_self_supplied_storage_nonce_is_refused(app, store):
    # Never through our login: the platform signed a token for the attacker's own nonce.
    nonce = "attacker-chosen-nonce-0123456789abcdefghijkl"
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), "forged-state", nonce)
    assert refused(resp, "state_invalid")
    assert nothing_written(store)


def test_issued_state_with_a_nonce_other_than_its_own_is_refused(app, store):
    _, state, issued = storage_login(app.test_client())
    nonce = "attacker-chosen-nonce-0123456789abcdefghijkl"
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), state, nonce)
    assert refused(resp, "nonce_mismatch")
    # Nor the nonce of another login of ours.
    _, _, other = storage_login(app.test_client())
    resp = storage_launch(app.test_client(), sign(launch_claims(other)), state, other)
    assert refused(resp, "nonce_mismatch")
    assert issued != other
    assert nothing_written(store)


def test_tampered_state_is_refused(app, store):
    _, state, nonce = storage_login(app.test_client())
    login_id, rest = state.split(".", 1)
    tampered = ("A" if login_id[0] != "A" else "B") + login_id[1:] + "." + rest
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), tampered, nonce)
    assert refused(resp, "state_invalid")
    assert nothing_written(store)


def test_state_issued_with_another_secret_is_refused(app, store, clock):
    state, nonce = LoginBinding("another-tool's-secret", clock).issue()
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), state, nonce)
    assert refused(resp, "state_invalid")
    assert nothing_written(store)


def test_expired_login_is_refused_on_the_storage_path(app, store, clock):
    _, state, nonce = storage_login(app.test_client())
    clock.now += LOGIN_TTL + 1
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce, now=clock.now)), state,
                          nonce)
    assert refused(resp, "state_expired")
    assert nothing_written(store)


def test_expired_login_is_refused_on_the_cookie_path(app, store, clock):
    client = app.test_client()
    _, state, nonce = login(client)  # the test client keeps the cookie (its expiry is real time)
    clock.now += LOGIN_TTL + 1
    resp = client.post("/lti/launch", data={"id_token": sign(launch_claims(nonce, now=clock.now)),
                                            "state": state})
    assert refused(resp, "state_expired")
    assert nothing_written(store)


def test_login_within_its_lifetime_launches_through_storage(app, store, clock):
    _, state, nonce = storage_login(app.test_client())
    clock.now += LOGIN_TTL - 1
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce, now=clock.now)), state,
                          nonce)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert written(store)["launches"] == 1


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"}, {}],
                         ids=["cross-site", "opaque", "no-origin"])
def test_our_own_pair_relayed_from_another_site_is_refused(app, store, headers):
    # The attacker ran our login in their own browser: the state, its nonce and the id_token
    # are all genuine. They relay them through a form on their site, which the victim's
    # browser posts; only our launch page may post a nonce read from platform storage.
    _, state, nonce = storage_login(app.test_client())
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), state, nonce,
                          headers=headers)
    assert refused(resp, "storage_cross_site")
    assert nothing_written(store)


def test_our_origin_is_recognised_however_it_is_spelled(app, store):
    _, state, nonce = storage_login(app.test_client())
    resp = storage_launch(app.test_client(), sign(launch_claims(nonce)), state, nonce,
                          headers={"Origin": "HTTP://LocalHost:80"})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def test_forged_state_with_a_forged_cookie_is_refused(app, store):
    nonce = "attacker-chosen-nonce-0123456789abcdefghijkl"
    client = app.test_client()
    client.set_cookie("lmsbridge_lti_forged-state", nonce, path="/lti/launch")
    resp = client.post("/lti/launch", data={"id_token": sign(launch_claims(nonce)),
                                            "state": "forged-state"})
    assert refused(resp, "state_invalid")
    assert nothing_written(store)


def test_the_state_hides_the_nonce_and_every_login_gets_its_own_pair():
    now = [1_800_000_000.0]
    binding = LoginBinding("secret", lambda: now[0])
    pairs = [binding.issue() for _ in range(3)]
    assert len({s for s, _ in pairs}) == len({n for _, n in pairs}) == 3
    for state, nonce in pairs:
        assert nonce not in state and len(nonce) >= 40
        binding.check(state, nonce)
    now[0] += LOGIN_TTL + 1
    with pytest.raises(LaunchError) as err:
        binding.check(*pairs[0])
    assert (err.value.rule, err.value.status) == ("state_expired", 401)


@pytest.mark.parametrize(("state", "nonce", "rule"), [
    ("\ud800.x.y", "n", "state_invalid"), ("forged", "\udfff", "state_invalid"),
    ("", "n", "state_invalid"), ("a.b", "", "state_invalid")])
def test_odd_text_is_refused_not_an_error(state, nonce, rule):
    with pytest.raises(LaunchError) as err:
        LoginBinding("secret").check(state, nonce)
    assert err.value.rule == rule


def test_a_lone_surrogate_nonce_for_a_real_state_is_a_mismatch():
    binding = LoginBinding("secret")
    state, _ = binding.issue()
    with pytest.raises(LaunchError) as err:
        binding.check(state, "\udfff")
    assert err.value.rule == "nonce_mismatch"
