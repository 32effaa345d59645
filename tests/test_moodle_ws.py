"""A Moodle tenant with a wstoken: columns found among the course's LTI activities, grades
for many learners of one activity in one core_grades_update_grades call, the roster from
core_enrol_get_enrolled_users, and Moodle's errors (HTTP 200) told apart by errorcode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lmsbridge.adapters.moodle.mock import MockMoodle
from lmsbridge.adapters.moodle.ws import _error
from lmsbridge.conformance.suite.platform import LIS_ROLE, SeedMember
from lmsbridge.core.api import ITEM, ConfigError, Secret
from lmsbridge.core.model import Delivery, GradebookColumn, Outcome
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime

WHEN = datetime(2026, 11, 1, 9, tzinfo=UTC)
LEARNERS = [SeedMember(f"{n}", f"Learner {n}", f"l{n}@example.edu") for n in range(10, 15)]
TEACHER = SeedMember("20", "Tess Teacher", "tess@example.edu", ("Instructor",))


@pytest.fixture
def setup(store):
    registry = Registry.load()
    with MockMoodle() as mock:
        tenant = mock.connect(store, "moodle-ws", mode="ws")
        context = mock.seed_context("c1", [*LEARNERS, TEACHER])
        course = int(context.context_id)
        for n in (1, 2):
            mock.add_lti_activity(course, f"Quiz {n}", custom=f"{ITEM}=q{n}", grade=20.0)
        runtime = Runtime(store, timeout=5)
        yield registry, mock, tenant, context, runtime


def _columns(context, keys=("q1", "q2")):
    return [GradebookColumn("moodle-ws", context.context_id, f"item:{k}", f"Quiz {k}",
                            score_maximum=10) for k in keys]


def _deliveries(columns, score=5.0):
    return [Delivery("moodle-ws", c.context_id, c.key, f"learner-{m.user_id}", m.user_id,
                     score, 10, WHEN, column_ref=c.platform_ref)
            for c in columns for m in LEARNERS]


def _service_requests(mock) -> int:
    return sum(1 for r in mock.requests if not r.path.startswith("/_mock"))


def test_activity_columns_take_every_learner_in_one_call(setup):
    registry, mock, tenant, context, runtime = setup
    columns = registry.ensure_columns(tenant, context, _columns(context), runtime)
    assert [c.platform_ref.split(":")[:2] for c in columns] == [["moodle", "cm"]] * 2
    assert not mock.held_columns(context.context_id), "no AGS line item for an activity"
    before = _service_requests(mock)
    results = registry.write_grades(tenant, context, _deliveries(columns), runtime)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    calls = _service_requests(mock) - before
    assert calls == 2 and mock.ws_calls.count("core_grades_update_grades") == 2
    held = mock.held_grades(context.context_id)
    assert len(held) == 10 and {h.score for h in held} == {10.0}  # 5/10 of the item's 20
    # A re-send changes nothing.
    registry.write_grades(tenant, context, _deliveries(columns), runtime)
    assert {h.changes for h in mock.held_grades(context.context_id)} == {1}


def test_ags_needs_more_requests_per_grade(setup):
    """Requests per delivered grade: web services 2/10 = 0.2 here; AGS one score POST per
    grade (plus the token), measured on the same learners."""
    registry, mock, tenant, context, runtime = setup
    columns = registry.ensure_columns(tenant, context, _columns(context, ("x1", "x2")), runtime)
    assert all(c.platform_ref.startswith(mock.url) for c in columns)  # AGS line items
    before = _service_requests(mock)
    results = registry.write_grades(tenant, context, _deliveries(columns), runtime)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert _service_requests(mock) - before >= len(results)


def test_the_roster_comes_from_web_services_with_email_and_roles(setup):
    registry, mock, tenant, context, runtime = setup
    members = {m.user_id: m for m in registry.read_roster(tenant, context, runtime)}
    assert set(members) == {m.user_id for m in [*LEARNERS, TEACHER]}
    assert members["10"].email == "l10@example.edu"
    assert LIS_ROLE + "Instructor" in members["20"].roles
    assert "core_enrol_get_enrolled_users" in mock.ws_calls


def test_a_bad_token_is_a_config_error_naming_the_setting(setup, store):
    registry, mock, tenant, context, runtime = setup
    store.tenants.set_secret("moodle-ws", "wstoken", Secret("wrong"))
    with pytest.raises(ConfigError, match="Manage tokens"):
        list(registry.read_roster(tenant, context, runtime))


def test_a_function_missing_from_the_service_names_the_service(setup):
    registry, mock, tenant, context, runtime = setup
    columns = registry.ensure_columns(tenant, context, _columns(context), runtime)
    mock.ws_functions.discard("core_grades_update_grades")
    results = registry.write_grades(tenant, context, _deliveries(columns), runtime)
    assert {r.outcome for r in results} == {Outcome.RETRY}
    assert "External services > Functions" in results[0].detail


@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 503}, {"kind": "status", "status": 500, "after": True},
    {"kind": "reset"}, {"kind": "reset", "after": True}, {"kind": "malformed_json"},
    {"kind": "malformed_json", "after": True}, {"kind": "throttle", "retry_after": 2}],
    ids=lambda f: "-".join(str(v) for v in f.values()))
def test_a_fault_is_retried_and_loses_or_doubles_nothing(setup, fault):
    registry, mock, tenant, context, runtime = setup
    columns = registry.ensure_columns(tenant, context, _columns(context), runtime)
    mock.faults.add(method="POST", times=1, **fault)
    first = registry.write_grades(tenant, context, _deliveries(columns), runtime)
    assert Outcome.RETRY in {r.outcome for r in first}
    again = [d for d, r in zip(_deliveries(columns), first, strict=True)
             if r.outcome is Outcome.RETRY]
    assert {r.outcome for r in registry.write_grades(tenant, context, again, runtime)} == \
        {Outcome.DELIVERED}
    held = mock.held_grades(context.context_id)
    assert len(held) == 10 and {h.changes for h in held} == {1}


def test_missing_capability_names_the_capability():
    error = _error("core_grades_update_grades", {
        "exception": "required_capability_exception", "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (Update "
                   "grades).", "debuginfo": "moodle/grade:edit"})
    assert isinstance(error, ConfigError) and "moodle/grade:edit" in str(error)


def test_the_connection_check_says_what_is_missing(setup, store):
    registry, mock, tenant, context, runtime = setup
    assert registry.check_connection(tenant, runtime) == []
    mock.ws_functions.discard("core_grades_update_grades")
    (line,) = registry.check_connection(tenant, runtime)
    assert line.startswith("function core_grades_update_grades not in the token's service")
    store.tenants.set_secret("moodle-ws", "wstoken", Secret("wrong"))
    (line,) = registry.check_connection(tenant, runtime)
    assert "invalid" in line and "wrong" not in line


def test_roster_paging_follows_to_the_end_and_a_fault_mid_paging_raises(setup, store):
    from lmsbridge.adapters.moodle.webservices import ws_client
    from lmsbridge.adapters.moodle.ws import MoodleTransient

    registry, mock, tenant, context, runtime = setup
    client = ws_client(tenant, runtime)
    ids = [u["id"] for u in client.enrolled_users(int(context.context_id), page=2)]
    assert ids == [m.user_id for m in [*LEARNERS, TEACHER]]
    assert client.calls == 4  # three full pages, then an empty one ends it
    mock.faults.add("status", status=503, method="POST", skip=1, times=1)
    with pytest.raises(MoodleTransient):
        list(client.enrolled_users(int(context.context_id), page=2))
