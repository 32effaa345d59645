"""The mock Oracle pod over real HTTP: auth as Oracle checks it, ADF conventions, LRS rules."""

from __future__ import annotations

import uuid

import pytest
import requests
from oracle_helpers import ISSUER, KEYS, NOW, USER

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.auth import JwtMinter, generate_keypair
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.conformance.suite.platform import SeedMember
from lmsbridge.core.model import Course, Program, Publication
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime

VERSION = {"X-Experience-API-Version": "1.0.3"}

pytest_plugins = ["oracle_fixtures"]


def minter(issuer: str = ISSUER, user: str = USER, keys=KEYS) -> JwtMinter:
    return JwtMinter(issuer=issuer, username=user, private_key_pem=keys.private_key_pem,
                     certificate=keys.certificate_pem)


def call(pod: MockOracle, method: str, path: str, m: JwtMinter | None = None, **kw):
    headers = kw.pop("headers", {})
    headers.update((m or minter()).authorization_header())
    return requests.request(method, pod.url + path, headers=headers, timeout=5, **kw)


def provider_id(pod: MockOracle) -> str:
    return pod.state()["providers"][0][r.PROVIDER_ID]


def content_body(key: str = "course:c1", **extra) -> dict:
    return {r.PROVIDER_CONTENT_ID: key, "ContentURL": "https://x.example/c1", "Title": "C1",
            **extra}


def statement(sid: str | None = None, email: str = "ann@example.com", **extra) -> dict:
    return {"id": sid or str(uuid.uuid4()), "actor": {"mbox": f"mailto:{email}"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://x.example/c1"}, "timestamp": "2026-11-22T10:00:00Z",
            **extra}


# ------------------------------------------------------------------------- auth


def error_code(response: requests.Response) -> str | None:
    assert response.headers["Content-Type"].startswith(r.ERROR_MEDIA_TYPE)
    return r.error_detail(response.json())[0]


def test_a_trusted_token_is_accepted(pod):
    response = call(pod, "GET", r.PROVIDERS_PATH)
    assert response.status_code == 200
    assert response.json()["items"][0][r.PROVIDER_CODE] == "COURSERA"


def test_no_bearer_is_401_with_an_adf_body(pod):
    response = requests.get(pod.url + r.PROVIDERS_PATH, timeout=5)
    assert response.status_code == 401
    assert error_code(response) == "missing_bearer"
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("make", "status", "code"), [
    (lambda: minter(issuer="Coursera.lmsbridge"), 401, "issuer_mismatch"),
    (lambda: minter(keys=generate_keypair("not uploaded", now=NOW)), 401, "unknown_x5t"),
    (lambda: minter(user="someone.else"), 401, "unknown_user"),
], ids=["issuer-mismatch", "certificate-not-uploaded", "unknown-user"])
def test_untrusted_tokens_are_refused_with_the_reason(pod, make, status, code):
    response = call(pod, "GET", r.PROVIDERS_PATH, make())
    assert (response.status_code, error_code(response)) == (status, code)


def test_a_user_without_the_provider_duty_is_403(pod):
    pod.add_user("user.norole", ["ORA_PER_EMPLOYEE_ABSTRACT"])
    response = call(pod, "GET", r.PROVIDERS_PATH, minter(user="user.norole"))
    assert (response.status_code, error_code(response)) == (403, "missing_role")


def test_oauth_client_credentials_issue_a_working_token(pod):
    pod.add_oauth_client("app1", "s3cret", USER)
    bad = requests.post(pod.url + r.OAUTH_TOKEN_PATH, auth=("app1", "wrong"),
                        data={"grant_type": "client_credentials"}, timeout=5)
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    good = requests.post(pod.url + r.OAUTH_TOKEN_PATH, auth=("app1", "s3cret"),
                         data={"grant_type": "client_credentials"}, timeout=5)
    token = good.json()["access_token"]
    response = requests.get(pod.url + r.PROVIDERS_PATH, timeout=5,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    forged = requests.get(pod.url + r.PROVIDERS_PATH, timeout=5,
                          headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401


# ------------------------------------------------------------------------- provider content


def test_content_create_upsert_and_patch_follow_adf_rules(pod):
    path = r.content_path(provider_id(pod))
    created = call(pod, "POST", path, json=content_body(),
                   headers={"Content-Type": r.ITEM_MEDIA_TYPE})
    assert created.status_code == 201
    cid = created.json()[r.CONTENT_ID]
    assert created.headers["Location"].endswith(r.content_path(provider_id(pod), cid))

    duplicate = call(pod, "POST", path, json=content_body(Title="C1 again"))
    assert duplicate.status_code == 400
    upsert = call(pod, "POST", path, json=content_body(Title="C1 again"),
                  headers={r.UPSERT_MODE: "true"})
    assert (upsert.status_code, upsert.json()[r.CONTENT_ID]) == (200, cid)

    item = r.content_path(provider_id(pod), cid)
    plain_json = call(pod, "PATCH", item, json={"Title": "New"})
    assert plain_json.status_code == 415
    patched = call(pod, "PATCH", item, data='{"Title": "New"}',
                   headers={"Content-Type": r.ITEM_MEDIA_TYPE})
    assert (patched.status_code, patched.json()["Title"]) == (200, "New")
    assert [c["Title"] for c in pod.content_items()] == ["New"]


def test_content_payload_is_checked(pod):
    path = r.content_path(provider_id(pod))
    unknown = call(pod, "POST", path, json=content_body(Colour="red"))
    assert unknown.status_code == 400 and "Colour" in r.error_detail(unknown.json())[1]
    missing = call(pod, "POST", path, json={r.PROVIDER_CONTENT_ID: "course:x"})
    assert missing.status_code == 400
    bad_status = call(pod, "POST", path, json=content_body(Status="GONE"))
    assert bad_status.status_code == 400


def test_collections_page_with_limit_offset_has_more_and_q(pod):
    path = r.content_path(provider_id(pod))
    for n in range(5):
        call(pod, "POST", path, json=content_body(f"course:c{n}"))
    first = call(pod, "GET", path, params={"limit": 2, "totalResults": "true"}).json()
    assert (first["count"], first["hasMore"], first["totalResults"]) == (2, True, 5)
    last = call(pod, "GET", path, params={"limit": 2, "offset": 4}).json()
    assert (last["count"], last["hasMore"]) == (1, False)
    found = call(pod, "GET", path, params={"q": f"{r.PROVIDER_CONTENT_ID}='course:c3'"}).json()
    assert [i[r.PROVIDER_CONTENT_ID] for i in found["items"]] == ["course:c3"]
    bad = call(pod, "GET", path, params={"q": "this is not ADF"})
    assert bad.status_code == 400


def test_unknown_provider_is_404(pod):
    response = call(pod, "GET", r.content_path("999"))
    assert response.status_code == 404


# ------------------------------------------------------------------------- statements


def test_statements_need_the_version_header(pod):
    response = call(pod, "POST", r.STATEMENTS_PATH, json=[statement()])
    assert response.status_code == 400


def test_lrs_semantics_new_same_conflict_and_duplicate_ids(pod):
    s1, s2 = statement(), statement(email="bob@example.com")
    first = call(pod, "POST", r.STATEMENTS_PATH, json=[s1, s2], headers=dict(VERSION))
    assert (first.status_code, sorted(first.json())) == (200, sorted([s1["id"], s2["id"]]))
    assert first.headers["X-Experience-API-Version"] == "1.0.3"
    again = call(pod, "POST", r.STATEMENTS_PATH, json=[s1, s2], headers=dict(VERSION))
    assert again.status_code == 204
    s3 = statement()
    partly_new = call(pod, "POST", r.STATEMENTS_PATH, json=[s1, s3], headers=dict(VERSION))
    assert partly_new.json() == [s3["id"]]
    conflict = call(pod, "POST", r.STATEMENTS_PATH, headers=dict(VERSION),
                    json=[statement(), {**s1, "timestamp": "2026-11-23T10:00:00Z"}])
    assert conflict.status_code == 409
    dup = statement()
    twice = call(pod, "POST", r.STATEMENTS_PATH, json=[dup, dup], headers=dict(VERSION))
    assert twice.status_code == 400
    # A refused batch stores nothing of it.
    assert len(pod.state()["statements"]) == 3


def test_put_stores_by_statement_id(pod):
    s = statement()
    put = call(pod, "PUT", r.STATEMENTS_PATH, params={"statementId": s["id"]}, json=s,
               headers=dict(VERSION))
    assert put.status_code == 204
    got = call(pod, "GET", r.STATEMENTS_PATH, params={"statementId": s["id"]},
               headers=dict(VERSION))
    assert got.json()["timestamp"] == s["timestamp"]
    assert got.json()["authority"]["account"]["name"] == USER


# ------------------------------------------------------------------------- control & faults


def test_throttle_fault_answers_429_with_retry_after(pod):
    pod.faults.add("throttle", path=r.CONTENT_CHILD, retry_after=7)
    response = call(pod, "GET", r.content_path(provider_id(pod)))
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert response.json()["status"] == "429"
    assert call(pod, "GET", r.content_path(provider_id(pod))).status_code == 200


def test_expired_token_fault_is_an_adf_401(pod):
    pod.faults.add("expired_token")
    response = call(pod, "GET", r.PROVIDERS_PATH)
    assert (response.status_code, error_code(response)) == (401, "expired")


def test_mock_is_seeded_and_read_back_over_http():
    keys = generate_keypair("http seeded")
    with MockOracle() as mock:
        seed = mock.url + "/_mock/oracle"
        assert requests.post(seed + "/trust", json={"issuer": "iss-http", "certificate":
                             keys.certificate_pem.decode()}, timeout=5).status_code == 201
        assert requests.post(seed + "/users", json={"name": "u.http"}, timeout=5).ok
        assert requests.post(seed + "/users", json={}, timeout=5).status_code == 400
        ok = call(mock, "GET", r.PROVIDERS_PATH, minter("iss-http", "u.http", keys))
        assert ok.status_code == 200
        state = requests.get(mock.url + "/_mock/state", timeout=5).json()
        assert "iss-http" in state["trusted_issuers"]
        assert state["requests"][-1]["status"] == 200
        requests.post(mock.url + "/_mock/reset", timeout=5)
        assert call(mock, "GET", r.PROVIDERS_PATH, minter("iss-http", "u.http", keys)
                    ).status_code == 401


# ------------------------------------------------------------------------- suite protocol


def test_connect_makes_a_tenant_the_adapter_can_use(store):
    with MockOracle() as pod:
        tenant = pod.connect(store, "suite-t")
        assert tenant.kind == "oracle" and tenant.base_url == pod.url
        assert pod.state()["trusted_issuers"].keys() == {"lmsbridge.suite-t"}
        course = Course("c1", "p", "Course 1", url="https://x.example/c1")
        pubs = [Publication("suite-t", Program("p", "P"), course)]
        registry, runtime = Registry.load(), Runtime(store, timeout=5)
        (out,) = registry.publish_content(tenant, None, pubs, runtime)
        (held,) = pod.held_content(None)
        assert (held.platform_ref, held.title, held.url, held.content_key, held.retired) == \
            (out.platform_ref, "Course 1", "https://x.example/c1", "course:c1", False)
        registry.retire_content(tenant, None, pubs, runtime)
        assert pod.held_content(None)[0].retired


def test_held_grades_are_the_latest_completion_per_learner_and_content(pod):
    assert pod.seed_context("ignored", [SeedMember("u1", "Ann", "ann@example.com")]) is None
    pid = provider_id(pod)
    ref = call(pod, "POST", r.content_path(pid), json=content_body()).json()[r.CONTENT_ID]

    def completion(raw: float, at: str) -> dict:
        return statement(timestamp=at, result={"score": {"raw": raw, "min": 0, "max": 10}})

    batch = [completion(4, "2026-11-01T10:00:00Z"), completion(7, "2026-11-02T10:00:00Z"),
             completion(7, "2026-11-03T10:00:00Z"),
             {**statement(), "verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"}}]
    assert call(pod, "POST", r.STATEMENTS_PATH, json=batch, headers=dict(VERSION)).ok
    (grade,) = pod.held_grades(None)
    # Matched to the seeded learner by work email; 4 -> 7 -> 7 changed the score twice.
    assert (grade.column_ref, grade.user_id, grade.score, grade.max_score, grade.changes) == \
        (ref, "u1", 7, 10, 2)


def test_pages_are_capped_at_max_page_size(pod):
    pid = provider_id(pod)
    for n in range(4):
        call(pod, "POST", r.content_path(pid), json=content_body(f"course:c{n}"))
    pod.max_page_size = 3
    page = call(pod, "GET", r.content_path(pid), params={"limit": 100}).json()
    assert (page["count"], page["hasMore"]) == (3, True)
