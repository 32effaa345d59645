"""The Oracle client over real HTTP against the mock pod: auth renewal, retries, paging."""

from __future__ import annotations

import pytest
import requests
from oracle_helpers import ISSUER, KEYS, USER, Sleeps

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.auth import JwtMinter
from lmsbridge.adapters.oracle.client import (
    JwtAuth,
    OAuthClientCredentials,
    OracleClient,
    OracleError,
)
from lmsbridge.core.http import parse_retry_after
from lmsbridge.core.runtime import USER_AGENT, Runtime
from lmsbridge.core.secret import Secret

pytest_plugins = ["oracle_fixtures"]


class CountingMinter(JwtMinter):
    minted = 0

    def _mint(self, now):
        self.minted += 1
        return super()._mint(now)


def session() -> requests.Session:
    return Runtime.session(None)  # the runtime's session carries our User-Agent


def jwt_client(pod, sleeps: Sleeps | None = None, issuer: str = ISSUER,
               **kw) -> tuple[OracleClient, CountingMinter]:
    minter = CountingMinter(issuer=issuer, username=USER, private_key_pem=KEYS.private_key_pem,
                            certificate=KEYS.certificate_pem)
    client = OracleClient(pod.url, JwtAuth(minter), session(), timeout=5,
                          sleep=sleeps or Sleeps(), **kw)
    return client, minter


def statuses(pod) -> list[int | None]:
    return [entry.status for entry in pod.requests]


def test_one_token_serves_a_batch_of_calls_with_our_user_agent(pod):
    client, minter = jwt_client(pod)
    for _ in range(3):
        client.get_json(r.PROVIDERS_PATH)
    assert minter.minted == 1
    assert pod.state()["user_agents"] == [USER_AGENT]


def test_a_401_re_mints_once_and_repeats_the_call(pod):
    pod.faults.add("expired_token", times=1)
    client, minter = jwt_client(pod)
    assert client.get_json(r.PROVIDERS_PATH)["items"]
    assert (minter.minted, statuses(pod)) == (2, [401, 200])


def test_a_persistent_401_is_raised_with_oracles_reason_after_one_renewal(pod):
    client, minter = jwt_client(pod, issuer="wrong.issuer")
    with pytest.raises(OracleError) as err:
        client.get_json(r.PROVIDERS_PATH)
    assert (err.value.status, err.value.code) == (401, "issuer_mismatch")
    assert not err.value.transient
    assert statuses(pod) == [401, 401]


def test_throttling_waits_as_long_as_retry_after_says(pod):
    pod.faults.add("throttle", retry_after=7, times=2)
    sleeps = Sleeps()
    client, _ = jwt_client(pod, sleeps)
    client.get_json(r.PROVIDERS_PATH)
    assert sleeps.waits == [7, 7]
    assert statuses(pod) == [429, 429, 200]


@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 502},
    {"kind": "reset"},
    {"kind": "malformed_json"},
], ids=["503", "502", "reset", "malformed-json"])
def test_transient_failures_back_off_exponentially_then_succeed(pod, fault):
    pod.faults.extend([{**fault, "times": 3}])
    sleeps = Sleeps()
    client, _ = jwt_client(pod, sleeps, backoff=0.5)
    assert client.get_json(r.PROVIDERS_PATH)["items"]
    assert sleeps.waits == [0.5, 1.0, 2.0]


def test_giving_up_raises_a_transient_error_with_retry_after(pod):
    pod.faults.add("status", status=503, retry_after=30, times=None)
    client, _ = jwt_client(pod, max_attempts=3)
    with pytest.raises(OracleError) as err:
        client.get_json(r.PROVIDERS_PATH)
    assert err.value.transient and err.value.retry_after == 30
    assert len(pod.requests) == 3


def test_a_4xx_is_not_retried(pod):
    client, _ = jwt_client(pod)
    with pytest.raises(OracleError) as err:
        client.get_json(r.content_path("999"))
    assert err.value.status == 404 and len(pod.requests) == 1


def test_paging_follows_has_more_to_the_last_page(pod):
    client, _ = jwt_client(pod)
    pid = client.find_one(r.PROVIDERS_PATH, r.PROVIDER_CODE, "COURSERA")[r.PROVIDER_ID]
    for n in range(5):
        client.request("POST", r.content_path(pid), json={
            r.PROVIDER_CONTENT_ID: f"course:{n}", "ContentURL": f"https://x.example/{n}",
            "Title": f"T{n}"})
    seen = [i[r.PROVIDER_CONTENT_ID] for i in client.iter_collection(r.content_path(pid),
                                                                       limit=2)]
    assert seen == [f"course:{n}" for n in range(5)]
    pages = [e.query for e in pod.requests if e.method == "GET" and "child" in e.path]
    assert len(pages) == 3 and "offset=4" in pages[-1]
    assert client.find_one(r.content_path(pid), r.PROVIDER_CONTENT_ID, "course:9") is None


def test_oauth_client_credentials_are_fetched_once_and_renewed_on_401(pod):
    pod.add_oauth_client("app1", "client-secret-value", USER)
    auth = OAuthClientCredentials(token_url=pod.url + r.OAUTH_TOKEN_PATH, client_id="app1",
                                  client_secret=Secret("client-secret-value"),
                                  scope="urn:opc:resource:consumer::all", session=session())
    client = OracleClient(pod.url, auth, session(), sleep=Sleeps())
    client.get_json(r.PROVIDERS_PATH)
    client.get_json(r.PROVIDERS_PATH)
    pod.faults.add("expired_token", times=1)
    client.get_json(r.PROVIDERS_PATH)
    tokens = [e for e in pod.requests if e.path == r.OAUTH_TOKEN_PATH]
    assert len(tokens) == 2


def test_oauth_bad_secret_is_a_clear_error_without_the_secret(pod):
    pod.add_oauth_client("app1", "right", USER)
    auth = OAuthClientCredentials(token_url=pod.url + r.OAUTH_TOKEN_PATH, client_id="app1",
                                  client_secret=Secret("wrong-secret-xyz"), scope=None,
                                  session=session())
    client = OracleClient(pod.url, auth, session(), sleep=Sleeps())
    with pytest.raises(OracleError, match="invalid_client") as err:
        client.get_json(r.PROVIDERS_PATH)
    assert "wrong-secret-xyz" not in str(err.value) + repr(auth) + repr(client)


def test_no_token_or_key_reaches_errors_reprs_or_logs(pod, oracle_log):
    pod.faults.add("status", status=503, times=None)
    client, minter = jwt_client(pod, max_attempts=2)
    token = minter.token()
    with pytest.raises(OracleError) as err:
        client.get_json(r.PROVIDERS_PATH)
    assert "retrying" in oracle_log.text  # the log was captured, so its absence means something
    text = str(err.value) + repr(client) + oracle_log.text
    assert token not in text and token.split(".")[2] not in text
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize(("value", "seconds"), [
    ("12", 12.0), ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0), ("soon", None), (None, None),
])
def test_retry_after_accepts_seconds_and_http_dates(value, seconds):
    assert parse_retry_after(value, now=40.0) == seconds
