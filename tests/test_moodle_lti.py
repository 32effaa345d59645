"""Moodle's LTI Advantage path and the mock's Moodle ways: the site URL as issuer, the tool
type id as deployment, Moodle's endpoint paths, ``?type_id=`` line item URLs, 409 on an
older timestamp (CURRENT), Moodle's NRPS roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from lmsbridge.adapters.moodle.mock import MockMoodle
from lmsbridge.conformance.suite.platform import LIS_ROLE, SeedMember
from lmsbridge.core.model import Delivery, GradebookColumn, Outcome
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime

WHEN = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture
def setup(store):
    registry = Registry.load()
    with MockMoodle(type_id=5) as mock:
        tenant = mock.connect(store, "moodle-u", mode="lti")
        people = [SeedMember("u1", "Ann", "ann@example.edu"),
                  SeedMember("t1", "Tess", "tess@example.edu", ("Instructor",)),
                  SeedMember("a1", "Tom", "tom@example.edu", ("TeachingAssistant",))]
        context = mock.seed_context("c7", people)
        runtime = Runtime(store, timeout=5)
        (column,) = registry.ensure_columns(tenant, context, [GradebookColumn(
            "moodle-u", context.context_id, "item:q1", "Quiz", score_maximum=10)], runtime)
        yield registry, mock, tenant, context, runtime, column


def _delivery(column, user="u1", score=4.0, when=WHEN) -> Delivery:
    return Delivery("moodle-u", column.context_id, column.key, f"learner-{user}", user, score, 10, when,
                    column_ref=column.platform_ref)


def test_the_site_url_issues_and_the_tool_type_is_the_deployment(setup, store):
    registry, mock, tenant, context, runtime, column = setup
    (reg,) = store.platforms.list("moodle-u")
    assert reg.issuer == mock.url and tuple(reg.deployment_ids) == ("5",)
    assert reg.auth_token_url == mock.url + "/mod/lti/token.php"
    assert reg.auth_login_url == mock.url + "/mod/lti/auth.php"
    assert reg.jwks_url == mock.url + "/mod/lti/certs.php"
    assert requests.get(reg.jwks_url, timeout=5).json()["keys"]
    assert tenant.kind == "moodle"


def test_line_item_urls_carry_the_type_id_and_scores_land(setup):
    registry, mock, tenant, context, runtime, column = setup
    assert column.platform_ref.startswith(
        f"{mock.url}/lti/contexts/{context.context_id}/lineitems/")
    assert column.platform_ref.endswith("?type_id=5")
    (result,) = registry.write_grades(tenant, context, [_delivery(column)], runtime)
    assert result.outcome is Outcome.DELIVERED
    (held,) = mock.held_grades(context.context_id)
    assert (held.user_id, held.score, held.changes) == ("u1", 4.0, 1)
    # A second ensure creates nothing.
    registry.ensure_columns(tenant, context, [GradebookColumn(
        "moodle-u", context.context_id, "item:q1", "Quiz", score_maximum=10)], runtime)
    assert [c.key for c in mock.held_columns(context.context_id)] == ["item:q1"]


def test_an_older_timestamp_is_refused_with_409_and_is_current(setup):
    registry, mock, tenant, context, runtime, column = setup
    registry.write_grades(tenant, context, [_delivery(column, score=6.0)], runtime)
    older = _delivery(column, score=2.0, when=WHEN - timedelta(hours=1))
    (result,) = registry.write_grades(tenant, context, [older], runtime)
    assert result.outcome is Outcome.CURRENT
    assert "409" in result.detail
    (held,) = mock.held_grades(context.context_id)
    assert (held.score, held.changes) == (6.0, 1)


def test_the_roster_has_moodles_roles(setup):
    registry, mock, tenant, context, runtime, column = setup
    members = {m.user_id: m for m in registry.read_roster(tenant, context, runtime)}
    assert list(members["u1"].roles) == [LIS_ROLE + "Learner"]
    assert list(members["t1"].roles) == [LIS_ROLE + "Instructor"]
    assert list(members["a1"].roles) == [LIS_ROLE + "Instructor"]
    assert members["u1"].email == "ann@example.edu"


def test_the_hook_serves_the_moodle_mock():
    mock = Registry.load().mock_platform("moodle")
    assert isinstance(mock, MockMoodle) and mock.connect_modes
