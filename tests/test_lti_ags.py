"""AGS client against the mock platform over real HTTP: line items, scores, results, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import lti_service_fixtures as fixtures
import pytest
import requests
from lti_service_fixtures import CONTEXT

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.lti.ags import (
    AgsClient,
    LineItem,
    Score,
    format_timestamp,
    is_stale_score,
    scores_url,
)
from lmsbridge.core.lti.service_errors import ServiceError
from lmsbridge.core.model import Outcome

# Shared fixtures, made visible to pytest in this module.
keyring = fixtures.keyring
platform = fixtures.platform
registration = fixtures.registration
service = fixtures.service
sleeps = fixtures.sleeps
tokens = fixtures.tokens

T0 = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def ags(service) -> AgsClient:
    return AgsClient(service)


def state(platform) -> dict:
    return requests.get(f"{platform.url}/_mock/state", timeout=5).json()


def make_items(ags: AgsClient, platform: MockLtiPlatform, count: int) -> list[LineItem]:
    return [ags.create_line_item(platform.lineitems_url(CONTEXT), LineItem(
        label=f"Quiz {i}", score_maximum=10, resource_id=f"item:{i}", tag="quiz" if i % 2
        else "exam")) for i in range(count)]


def test_timestamps_are_utc_with_microseconds():
    assert format_timestamp(T0) == "2026-11-22T10:00:00.123456Z"
    plus_two = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(plus_two) == "2026-11-22T10:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone"):
        format_timestamp(datetime(2026, 11, 22))


def test_scores_url_extends_the_path_before_the_query():
    assert scores_url("https://lms/lineitems/7/lineitem?type_id=3") == \
        "https://lms/lineitems/7/lineitem/scores?type_id=3"
    assert scores_url("https://lms/li/7/") == "https://lms/li/7/scores"


def test_create_read_update_delete(ags, platform):
    url = platform.lineitems_url(CONTEXT)
    created = ags.create_line_item(url, LineItem(label="Essay", score_maximum=20,
                                                 resource_id="item:9", tag="item:9",
                                                 end_date_time="2026-12-01T00:00:00Z"))
    assert created.id.startswith(platform.url) and created.id.endswith("?type_id=7")
    assert ags.get_line_item(created.id) == created
    updated = ags.update_line_item(LineItem(label="Essay (final)", score_maximum=25,
                                            id=created.id, resource_id="item:9"))
    assert (updated.label, updated.score_maximum, updated.tag) == ("Essay (final)", 25, None)
    ags.delete_line_item(created.id)
    with pytest.raises(ServiceError) as gone:
        ags.get_line_item(created.id)
    assert gone.value.status == 404 and not gone.value.transient


def test_container_is_read_to_the_last_page_with_filters(ags, platform):
    make_items(ags, platform, 5)  # page size 2: three pages
    url = platform.lineitems_url(CONTEXT)
    assert [i.label for i in ags.line_items(url)] == [f"Quiz {i}" for i in range(5)]
    assert [i.resource_id for i in ags.line_items(url, tag="quiz")] == ["item:1", "item:3"]
    assert [i.label for i in ags.line_items(url, resource_id="item:4")] == ["Quiz 4"]
    assert list(ags.line_items(url, resource_link_id="nope")) == []
    assert len(list(ags.line_items(url, limit=1))) == 5
    pages = [r for r in state(platform)["requests"]
             if r["path"].endswith("/lineitems") and r["method"] == "GET"]
    assert len(pages) == 3 + 1 + 1 + 1 + 5  # unfiltered, 3 filtered single pages, limit=1


def test_invalid_line_item_is_refused_before_sending():
    with pytest.raises(ValueError, match="scoreMaximum"):
        LineItem(label="x", score_maximum=0)
    with pytest.raises(ValueError, match="label"):
        LineItem(label=" ", score_maximum=1)


def test_platform_refusal_names_the_problem(ags, platform):
    with pytest.raises(ServiceError, match="resourceLinkId 'ghost' is not a link here") as bad:
        ags.create_line_item(platform.lineitems_url(CONTEXT),
                             LineItem(label="x", score_maximum=1, resource_link_id="ghost"))
    assert bad.value.status == 400 and bad.value.outcome is Outcome.REJECTED


def test_score_is_delivered_then_stale_scores_are_current(ags, platform):
    item = make_items(ags, platform, 1)[0]
    first = ags.post_score(item.id, Score("user-1", T0, 7, 10, comment="Good"))
    assert first.outcome is Outcome.DELIVERED
    again = ags.post_score(item.id, Score("user-1", T0, 7, 10))
    older = ags.post_score(item.id, Score("user-1", T0 - timedelta(seconds=1), 3, 10))
    assert again.outcome is older.outcome is Outcome.CURRENT
    assert "before last updated timestamp" in older.detail
    newer = ags.post_score(item.id, Score("user-1", T0 + timedelta(microseconds=1), 8, 10))
    assert newer.outcome is Outcome.DELIVERED
    held = state(platform)["contexts"][CONTEXT]["line_items"][0]
    assert held["results"]["user-1"]["resultScore"] == 8
    sent = held["scores"]["user-1"][0]
    assert sent == {"userId": "user-1", "timestamp": "2026-11-22T10:00:00.123456Z",
                    "scoreGiven": 7, "scoreMaximum": 10, "comment": "Good",
                    "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
    posted = [r for r in state(platform)["requests"] if r["method"] == "POST"
              and r["path"].endswith("/scores")]
    assert {r["query"] for r in posted} == {"type_id=7"}  # the query stayed after /scores


def test_moodle_refuses_stale_scores_with_409(keyring, registration, service):
    with MockLtiPlatform(stale_score_style="moodle") as moodle:
        moodle.register_tool(client_id="tool-1", deployment_ids=["dep-1"], jwks=keyring.jwks())
        moodle.add_context("c")
        moodle.add_member("c", "u")
        item = moodle.add_line_item("c", label="Q", scoreMaximum=1)
        ags = AgsClient(type(service)(
            type(registration)(**moodle.registration("m")), service.tokens))
        assert ags.post_score(item["id"], Score("u", T0, 1, 1)).outcome is Outcome.DELIVERED
        stale = ags.post_score(item["id"], Score("u", T0, 1, 1))
        assert (stale.outcome, stale.status) == (Outcome.CURRENT, 409)


def test_stale_detection_rules():
    assert is_stale_score(409, "")
    assert is_stale_score(400, "Provided timestamp of X before last updated timestamp of Y")
    assert not is_stale_score(400, "Provided timestamp of nonsense not a valid timestamp")
    assert not is_stale_score(400, "The parameter userId is missing")
    assert not is_stale_score(404, "timestamp older")


def test_unknown_user_and_missing_maximum_are_rejected(ags, platform):
    item = make_items(ags, platform, 1)[0]
    stranger = ags.post_score(item.id, Score("nobody", T0, 1, 10))
    assert (stranger.outcome, stranger.status) == (Outcome.REJECTED, 422)
    assert "User not found" in stranger.detail
    with pytest.raises(ValueError, match="scoreMaximum is required"):
        Score("user-1", T0, score_given=1)


def test_throttled_score_is_retry_with_retry_after_and_not_resent(ags, platform, sleeps):
    item = make_items(ags, platform, 1)[0]
    platform.faults.add("throttle", method="POST", path="/scores$", retry_after=30)
    throttled = ags.post_score(item.id, Score("user-1", T0, 5, 10))
    assert (throttled.outcome, throttled.status, throttled.retry_after) == \
        (Outcome.RETRY, 429, 30)
    assert sleeps == []  # POSTs are the engine's to retry
    platform.faults.add("status", method="POST", path="/scores$", status=502)
    assert ags.post_score(item.id, Score("user-1", T0, 5, 10)).outcome is Outcome.RETRY
    platform.faults.add("reset", method="POST", path="/scores$")
    dropped = ags.post_score(item.id, Score("user-1", T0, 5, 10))
    assert (dropped.outcome, dropped.status) == (Outcome.RETRY, None)
    assert ags.post_score(item.id, Score("user-1", T0, 5, 10)).outcome is Outcome.DELIVERED


def test_applied_but_unanswered_score_is_current_when_sent_again(ags, platform):
    item = make_items(ags, platform, 1)[0]
    platform.faults.add("status", method="POST", path="/scores$", status=504, after=True)
    assert ags.post_score(item.id, Score("user-1", T0, 5, 10)).outcome is Outcome.RETRY
    assert ags.post_score(item.id, Score("user-1", T0, 5, 10)).outcome is Outcome.CURRENT


def test_reads_are_retried_in_place_honouring_retry_after(ags, platform, sleeps):
    make_items(ags, platform, 3)
    platform.faults.add("throttle", method="GET", path="/lineitems$", retry_after=2, skip=1)
    platform.faults.add("status", method="GET", path="/lineitems$", status=503)
    assert len(list(ags.line_items(platform.lineitems_url(CONTEXT)))) == 3
    assert sleeps == [0.5, 2]  # backoff for the 503 (no Retry-After), then what 429 asked


def test_a_wait_longer_than_the_policy_allows_goes_up(ags, platform, sleeps):
    platform.faults.add("throttle", method="GET", path="/lineitems$", retry_after=3600)
    with pytest.raises(ServiceError) as throttled:
        list(ags.line_items(platform.lineitems_url(CONTEXT)))
    assert (throttled.value.status, throttled.value.retry_after) == (429, 3600)
    assert throttled.value.transient and sleeps == []


def test_persistent_5xx_gives_up_after_the_attempts(ags, platform, sleeps):
    platform.faults.add("status", method="GET", status=500, times=None)
    with pytest.raises(ServiceError) as failing:
        list(ags.line_items(platform.lineitems_url(CONTEXT)))
    assert failing.value.status == 500 and len(sleeps) == 2


def test_expired_token_is_reminted_once(ags, platform, tokens):
    item = make_items(ags, platform, 1)[0]
    assert ags.post_score(item.id, Score("user-1", T0, 5, 10)).outcome is Outcome.DELIVERED
    platform.expire_tokens()  # the platform drops tokens before their expires_in
    later = T0 + timedelta(seconds=1)
    assert ags.post_score(item.id, Score("user-1", later, 5, 10)).outcome is Outcome.DELIVERED
    platform.faults.add("expired_token", path="/scores$", times=2)
    twice = ags.post_score(item.id, Score("user-1", later + timedelta(1), 5, 10))
    assert (twice.outcome, twice.status) == (Outcome.REJECTED, 401)  # one re-mint, no loop
    issued = [t["scopes"] for t in state(platform)["tokens"]]
    score = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    assert issued.count([score]) == 3  # first, after expiry, after the first 401 fault
    assert [r["status"] for r in state(platform)["requests"] if r["path"].endswith("/scores")] \
        == [200, 401, 200, 401, 401]


def test_missing_scope_is_forbidden_not_reminted(ags, platform, registration, tokens):
    lineitem = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
    item = make_items(ags, platform, 1)[0]
    minted = tokens.minted
    platform.faults.add("status", path="/scores$", status=403)
    refused = ags.post_score(item.id, Score("user-1", T0, 5, 10))
    assert (refused.outcome, refused.status) == (Outcome.REJECTED, 403)
    assert tokens.token(registration, [lineitem]) and tokens.minted == minted + 1


def test_results_are_read_to_the_last_page(ags, platform):
    item = make_items(ags, platform, 1)[0]
    for i in range(5):
        ags.post_score(item.id, Score(f"user-{i}", T0, i, 10))
    results = list(ags.results(item.id))
    assert [(r.user_id, r.result_score, r.result_maximum) for r in results] == \
        [(f"user-{i}", i, 10) for i in range(5)]
    only = list(ags.results(item.id, user_id="user-3"))
    assert [r.result_score for r in only] == [3] and only[0].score_of == item.id
