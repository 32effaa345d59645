"""Canvas REST path specifics the conformance suite does not cover: throttling from
X-Rate-Limit-Remaining and 403/429, configuration errors, Progress failures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lmsbridge.adapters.canvas.mock import CanvasMock
from lmsbridge.conformance.suite.platform import SeedMember
from lmsbridge.core.errors import AdapterError, ConfigError
from lmsbridge.core.model import Delivery, GradebookColumn, Outcome, Publication, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime


@pytest.fixture
def setup(store):
    registry = Registry.load()
    with CanvasMock() as mock:
        tenant = mock.connect(store, "state-u")
        context = mock.seed_context("7", [SeedMember("u1", "Ann", "ann@example.edu")])
        runtime = Runtime(store, timeout=5)
        (column,) = registry.ensure_columns(tenant, context, [GradebookColumn(
            "state-u", "7", "item:q1", "Quiz", score_maximum=10)], runtime)
        yield registry, mock, tenant, context, runtime, column


def _delivery(column, score=4.0) -> Delivery:
    return Delivery("state-u", "7", column.key, "learner-1", "u1", score, 10,
                    datetime(2026, 11, 1, tzinfo=UTC), column_ref=column.platform_ref)


def test_a_nearly_empty_rate_bucket_defers_writes_with_a_wait(setup):
    registry, mock, tenant, context, runtime, column = setup
    mock.rate_limit_remaining = 40.0
    before = len(mock.requests)
    (result,) = registry.write_grades(tenant, context, [_delivery(column)], runtime)
    # The first request of a call learns the bucket is low; nothing follows it (not even the
    # Progress poll), and the engine is told how long the bucket needs to drain.
    assert result.outcome is Outcome.RETRY and result.retry_after == pytest.approx(6.0)
    assert [r.path.rsplit("/", 1)[-1] for r in mock.requests[before:]] == ["update_grades"]


@pytest.mark.parametrize("status", [403, 429])
def test_both_throttle_signals_mean_retry(setup, status):
    registry, mock, tenant, context, runtime, column = setup
    mock.throttle_status = status
    mock.faults.add("throttle", retry_after=9 if status == 429 else None)
    (result,) = registry.write_grades(tenant, context, [_delivery(column)], runtime)
    assert result.outcome is Outcome.RETRY
    if status == 429:
        assert result.retry_after == 9
    (result,) = registry.write_grades(tenant, context, [_delivery(column)], runtime)
    assert result.outcome is Outcome.DELIVERED
    assert [g.score for g in mock.held_grades("7")] == [4.0]


def test_a_failed_grading_job_is_rejected_with_canvas_words(setup):
    registry, mock, tenant, context, runtime, column = setup
    bad = Delivery("state-u", "7", column.key, "learner-9", "nobody", 1, 10,
                   datetime(2026, 11, 1, tzinfo=UTC), column_ref=column.platform_ref)
    (result,) = registry.write_grades(tenant, context, [bad], runtime)
    assert result.outcome is Outcome.REJECTED and "'nobody'" in result.detail


def test_missing_column_ref_is_found_by_integration_id(setup):
    registry, mock, tenant, context, runtime, column = setup
    delivery = Delivery("state-u", "7", column.key, "learner-1", "u1", 3, 10,
                        datetime(2026, 11, 1, tzinfo=UTC))
    (result,) = registry.write_grades(tenant, context, [delivery], runtime)
    assert result.outcome is Outcome.DELIVERED
    assert [g.column_ref for g in mock.held_grades("7")] == [column.platform_ref]


def test_without_an_api_token_the_lti_path_is_taken(store):
    registry = Registry.load()
    tenant = store.tenants.add(Tenant("lti-only", "canvas"))
    from lmsbridge.core.model import Context
    # No launch has given this course its NRPS URL yet: the error says so.
    with pytest.raises(ConfigError, match="no NRPS memberships URL"):
        list(registry.read_roster(tenant, Context("lti-only", "7"), Runtime(store)))


def test_without_an_api_token_publishing_names_what_is_missing(store):
    from lmsbridge.conformance.suite._content import publications
    registry = Registry.load()
    tenant = store.tenants.add(Tenant("lti-only", "canvas"))
    with pytest.raises(AdapterError, match="needs the REST API.*no api_token"):
        registry.publish_content(tenant, None, publications("lti-only", "7")[:1],
                                 Runtime(store))


def test_publishing_needs_tool_url(setup, store):
    registry, mock, tenant, context, runtime, column = setup
    bare = store.tenants.update(Tenant("state-u", "canvas", base_url=mock.url))
    from lmsbridge.conformance.suite._content import publications
    with pytest.raises(ConfigError, match="needs option tool_url"):
        registry.publish_content(bare, context, publications("state-u", "7")[:1], runtime)
    assert isinstance(publications("state-u", "7")[0], Publication)
