"""Canvas's LTI Advantage path (a tenant without api_token) and the mock's Canvas ways:
the submission extension on scores, 400 on an older timestamp, 422 without scoreMaximum,
403 "Rate Limit Exceeded" throttling, NRPS pages of 50, Canvas's issuer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lmsbridge.adapters.canvas.lti import NRPS_PAGE, SUBMISSION_CLAIM
from lmsbridge.adapters.canvas.mock import CanvasMock
from lmsbridge.adapters.canvas.mock_lti import ISSUER
from lmsbridge.conformance.suite.platform import SeedMember
from lmsbridge.core.lti.ags import SCOPE_SCORE, SCORE_TYPE, scores_url
from lmsbridge.core.lti.service import NO_RETRY, ServiceClient
from lmsbridge.core.lti.service_errors import ServiceError
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import Delivery, GradebookColumn, Outcome
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime

WHEN = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture
def setup(store):
    registry = Registry.load()
    with CanvasMock() as mock:
        tenant = mock.connect(store, "lti-u", mode="lti")
        people = [SeedMember("u1", "Ann", "ann@example.edu"),
                  SeedMember("u2", "Bob", "bob@example.edu")]
        context = mock.seed_context("7", people)
        runtime = Runtime(store, timeout=5)
        (column,) = registry.ensure_columns(tenant, context, [GradebookColumn(
            "lti-u", "7", "item:q1", "Quiz", score_maximum=10)], runtime)
        yield registry, mock, tenant, context, runtime, column


def _delivery(column, user="u1", score=4.0, when=WHEN) -> Delivery:
    return Delivery("lti-u", "7", column.key, f"learner-{user}", user, score, 10, when,
                    column_ref=column.platform_ref)


def test_the_tenant_has_no_token_and_canvas_issues_as_canvas(setup, store):
    registry, mock, tenant, context, runtime, column = setup
    assert store.platforms.list("lti-u")[0].issuer == ISSUER == "https://canvas.instructure.com"
    assert column.platform_ref.startswith(mock.url + "/lti/contexts/7/lineitems/")
    assert [c.key for c in mock.held_columns("7")] == ["item:q1"]
    assert not mock.assignments, "a tenant without api_token must not touch the REST API"


def test_scores_carry_the_submission_extension(setup):
    registry, mock, tenant, context, runtime, column = setup
    (result,) = registry.write_grades(tenant, context, [_delivery(column)], runtime)
    assert result.outcome is Outcome.DELIVERED
    (item,) = mock.lti.line_items["7"].values()
    (sent,) = item["scores"]["u1"]
    assert sent[SUBMISSION_CLAIM]["new_submission"] is False
    assert sent["scoreGiven"] == 4.0 and sent["scoreMaximum"] == 10


def test_an_older_timestamp_is_current_and_changes_nothing(setup):
    registry, mock, tenant, context, runtime, column = setup
    registry.write_grades(tenant, context, [_delivery(column, score=6.0)], runtime)
    older = _delivery(column, score=2.0, when=WHEN - timedelta(hours=1))
    (result,) = registry.write_grades(tenant, context, [older], runtime)
    assert result.outcome is Outcome.CURRENT
    assert "before last updated timestamp" in result.detail
    (held,) = mock.held_grades("7")
    assert (held.score, held.changes) == (6.0, 1)


def test_a_refusal_is_rejected_with_canvas_reason(setup):
    registry, mock, tenant, context, runtime, column = setup
    stranger = _delivery(column, user="nobody")
    (result,) = registry.write_grades(tenant, context, [stranger], runtime)
    assert result.outcome is Outcome.REJECTED
    assert "422" in result.detail and "User not found in course" in result.detail


def test_the_mock_answers_422_to_score_given_without_maximum(setup, store):
    registry, mock, tenant, context, runtime, column = setup
    service = ServiceClient(store.platforms.list("lti-u")[0], TokenService(runtime.keyring),
                            retry=NO_RETRY)
    body = {"userId": "u1", "scoreGiven": 3, "timestamp": WHEN.isoformat(),
            "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
    with pytest.raises(ServiceError) as caught:
        service.request("POST", scores_url(column.platform_ref), scopes=[SCOPE_SCORE],
                        json_body=body, content_type=SCORE_TYPE)
    assert caught.value.status == 422
    assert "ScoreMaximum not supplied" in str(caught.value)


def test_403_rate_limit_exceeded_is_retry_and_stops_the_call(setup):
    registry, mock, tenant, context, runtime, column = setup
    mock.faults.add("throttle", method="POST", times=1)
    results = registry.write_grades(tenant, context, [_delivery(column, "u1"),
                                                      _delivery(column, "u2")], runtime)
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert "Rate Limit Exceeded" in results[0].detail
    assert results[1].detail.startswith("not sent: ")
    assert mock.held_grades("7") == []


def test_nrps_is_read_in_pages_of_50(store):
    registry = Registry.load()
    with CanvasMock() as mock:
        tenant = mock.connect(store, "nrps-u", mode="lti")
        people = [SeedMember(f"u{n:03d}", f"P {n}", None) for n in range(NRPS_PAGE + 7)]
        context = mock.seed_context("9", people)
        roster = list(registry.read_roster(tenant, context, Runtime(store, timeout=5)))
        pages = [r for r in mock.requests if r.path.endswith("/memberships")]
    assert {m.user_id for m in roster} == {p.user_id for p in people}
    assert len(pages) == 2 and "limit=50" in pages[0].query
    assert mock.lti.max_page_size == 50  # Canvas's cap, whatever a client asks for
