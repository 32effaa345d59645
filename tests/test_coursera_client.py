"""The provider client against the provider mock over real HTTP: auth, paging, retries."""

import pytest
import requests

from lmsbridge.adapters.coursera.client import CourseraClient
from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.adapters.coursera.retry import ProviderError
from lmsbridge.core.http import parse_retry_after
from lmsbridge.core.secret import Secret


@pytest.fixture
def mock():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as server:
        server.add_program("p1", "Data Science", seats=10)
        for n in range(5):
            server.add_course("p1", f"c{n}", f"Course {n}")
        yield server


def client(mock, sleeps=None, secret="s3cret", **kw):
    return CourseraClient(mock.url, "org-1", "cid", Secret(secret),
                          sleep=(sleeps.append if sleeps is not None else lambda s: None),
                          **kw)


def test_pages_follow_paging_next_to_the_last_page(mock):
    contents = list(client(mock, page_size=2).contents("p1"))
    assert [c["contentId"] for c in contents] == [f"c{n}" for n in range(5)]
    pages = [r.query for r in mock.requests if r.path.endswith("/contents")]
    assert pages == ["start=0&limit=2", "start=2&limit=2", "start=4&limit=2"]


def test_one_token_serves_many_requests_and_an_expired_one_is_renewed(mock):
    c = client(mock)
    list(c.programs())
    list(c.contents("p1"))
    assert mock.state()["tokens_issued"] == 1
    mock.faults.add("expired_token", path="/programs$")
    assert [p["id"] for p in c.programs()] == ["p1"]
    assert mock.state()["tokens_issued"] == 2


def test_throttling_waits_what_retry_after_says(mock):
    sleeps = []
    mock.faults.add("throttle", path="/programs$", retry_after=7, times=2)
    assert [p["id"] for p in client(mock, sleeps).programs()] == ["p1"]
    assert sleeps == [7.0, 7.0]


def test_5xx_is_retried_with_backoff_then_gives_up_with_a_clear_error(mock):
    sleeps = []
    mock.faults.add("status", status=503, path="/programs$", times=None)
    with pytest.raises(ProviderError, match="still failing after retries.*503"):
        list(client(mock, sleeps, attempts=3).programs())
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)
    assert sum(1 for r in mock.requests if r.path.endswith("/programs")) == 3


def test_truncated_json_is_retried(mock):
    mock.faults.add("malformed_json", path="/programs$")
    assert [p["id"] for p in client(mock).programs()] == ["p1"]


def test_wrong_secret_is_a_clear_error_without_the_secret(mock):
    with pytest.raises(ProviderError, match="refused client id 'cid'") as info:
        list(client(mock, secret="wrong-value").programs())
    assert "wrong-value" not in str(info.value)
    assert "wrong-value" not in repr(client(mock, secret="wrong-value"))


def test_unknown_org_is_a_clear_error(mock):
    c = CourseraClient(mock.url, "other-org", "cid", Secret("s3cret"), sleep=lambda s: None)
    with pytest.raises(ProviderError, match="404 no business with id other-org"):
        list(c.programs())


def test_mock_refuses_requests_without_a_token_and_bad_paging(mock):
    url = f"{mock.url}/api/businesses.v1/org-1/programs"
    assert requests.get(url, timeout=5).status_code == 401
    token = requests.post(f"{mock.url}/oauth2/client_credentials/token",
                          data={"grant_type": "client_credentials"}, auth=("cid", "s3cret"),
                          timeout=5).json()["access_token"]
    bad = requests.get(url, params={"limit": "500"}, timeout=5,
                       headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and "limit" in bad.json()["message"]


def test_enrollment_reports_filter_on_modified_since(mock):
    mock.set_progress("l1", "c0", item_id="q1", score=0.5, at_ms=1_000)
    mock.set_progress("l2", "c0", item_id="q1", score=0.7, at_ms=5_000)
    c = client(mock)
    assert [r["userId"] for r in c.enrollment_reports()] == ["l1", "l2"]
    assert [r["userId"] for r in c.enrollment_reports(since_ms=2_000)] == ["l2"]


def test_control_endpoints_change_the_catalog_while_it_runs(mock):
    assert requests.post(f"{mock.url}/_mock/courses", timeout=5,
                         json={"program_id": "p1", "id": "new", "name": "New"}).status_code == 201
    assert requests.post(f"{mock.url}/_mock/items", timeout=5,
                         json={"course_id": "new", "id": "q", "name": "Quiz"}).status_code == 201
    assert requests.post(f"{mock.url}/_mock/progress", timeout=5,
                         json={"learner_id": "l", "course_id": "new", "item_id": "q",
                               "score": 1}).status_code == 201
    bad = requests.post(f"{mock.url}/_mock/courses", json={"program_id": "nope", "id": "x",
                                                           "name": "X"}, timeout=5)
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    state = requests.get(f"{mock.url}/_mock/state", timeout=5).json()
    assert "new" in state["programs"]["p1"]["contentIds"] and state["enrollments"] == 1
    assert requests.delete(f"{mock.url}/_mock/courses/p1/new", timeout=5).status_code == 201
    assert [c["contentId"] for c in client(mock).contents("p1")][-1] == "c4"


@pytest.mark.parametrize("value, expected", [
    ("12", 12.0), (None, None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected
