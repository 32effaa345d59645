"""Grade writes: right values, harmless re-sends, nothing lost or doubled under faults."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from lmsbridge.conformance.suite._content import whole_courses
from lmsbridge.conformance.suite.harness import (
    Connection,
    column_set,
    grade_deliveries,
    members,
    require,
)
from lmsbridge.conformance.suite.platform import SeedMember
from lmsbridge.core.capabilities import Capability
from lmsbridge.core.model import (
    Context,
    Course,
    Delivery,
    GradebookColumn,
    Item,
    Outcome,
    Program,
    Publication,
    evolve,
)

pytestmark = pytest.mark.lmsbridge_capability(Capability.GRADE_WRITE)

#: One fault of each kind, fired twice; ``after`` ones apply the write and lose the answer.
FAULTS = {
    "429-retry-after": {"kind": "status", "status": 429, "retry_after": 3},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "500-after": {"kind": "status", "status": 500, "after": True},
    "reset": {"kind": "reset"},
    "reset-after": {"kind": "reset", "after": True},
    "malformed-json": {"kind": "malformed_json"},
    "malformed-json-after": {"kind": "malformed_json", "after": True},
    "expired-token": {"kind": "expired_token"},
    "throttle": {"kind": "throttle", "retry_after": 2},
}


def gradebook(conn: Connection, context_id: str, people: Sequence[SeedMember],
              count: int = 2) -> tuple[Context | None, list[GradebookColumn]]:
    """A context with columns to grade into: made by ensure_columns where the adapter has
    them, else the platform refs of published items (learning platforms)."""
    context = conn.seed(context_id, people)
    ctx_id = context.context_id if context else context_id
    columns = column_set(conn.tenant.name, ctx_id, count)
    spec = conn.adapter.spec
    if Capability.GRADEBOOK_COLUMNS in spec.capabilities:
        return context, conn.ensure_columns(context, columns)
    if Capability.CONTENT_PUBLISH not in spec.capabilities:
        pytest.fail("grade writes need columns or published content to write into")
    program = Program("prog-g", "Program G")
    ctx_id = context.context_id if context else None
    if whole_courses(conn.platform):
        # Platforms tracking whole courses (Oracle Learning): one course per column, whose
        # completion score is the grade, keyed by the course's publication key.
        pubs = [Publication(conn.tenant.name, program,
                            Course(f"course-g{n}", "prog-g", c.label,
                                   url=f"https://provider.example/learn/course-g{n}"),
                            None, context_id=ctx_id)
                for n, c in enumerate(columns, 1)]
    else:
        course = Course("course-g", "prog-g", "Course G",
                        items=[Item(c.key.split(":", 1)[1], "course-g", c.label,
                                    max_score=c.score_maximum) for c in columns])
        pubs = [Publication(conn.tenant.name, program, course, item, context_id=ctx_id)
                for item in course.items]
    published = conn.attempt(lambda: conn.registry.publish_content(
        conn.tenant, context, pubs, conn.runtime))
    return context, [evolve(c, key=p.key, platform_ref=p.platform_ref)
                     for c, p in zip(columns, published, strict=True)]


def assert_held_exactly(conn: Connection, context_id: str | None,
                        deliveries: Sequence[Delivery], changes: int = 1) -> None:
    held = require(conn.platform, "held_grades")(context_id)
    got = {(g.column_ref, g.user_id): g for g in held}
    assert len(got) == len(held), "the platform holds two grades for one user and column"
    want = {(d.column_ref, d.lms_user_id): d for d in deliveries}
    assert set(got) == set(want), "grades lost or written where they do not belong"
    for key, delivery in want.items():
        grade = got[key]
        assert math.isclose(grade.score, delivery.score, abs_tol=0.005), (key, grade)
        assert math.isclose(grade.max_score, delivery.max_score, abs_tol=0.005), (key, grade)
        assert grade.changes == changes, f"{key} was changed {grade.changes} times"


def _ctx_id(context: Context | None, fallback: str) -> str:
    return context.context_id if context else fallback


def test_grades_land_with_the_right_values(conn: Connection):
    people = members(4)
    context, columns = gradebook(conn, "course-grades", people)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-grades"),
                                  columns, people)
    outcomes = conn.deliver(context, deliveries)
    assert outcomes[Outcome.DELIVERED] + outcomes[Outcome.CURRENT] == len(deliveries)
    assert_held_exactly(conn, context and context.context_id, deliveries)


def test_a_resend_changes_nothing(conn: Connection):
    people = members(3)
    context, columns = gradebook(conn, "course-resend", people)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-resend"),
                                  columns, people)
    conn.deliver(context, deliveries)
    again = conn.write_once(context, deliveries)
    assert {r.outcome for r in again} <= {Outcome.DELIVERED, Outcome.CURRENT}
    assert_held_exactly(conn, context and context.context_id, deliveries)


def test_a_newer_grade_replaces_the_old_one(conn: Connection):
    people = members(3)
    context, columns = gradebook(conn, "course-newer", people, count=1)
    ctx_id = _ctx_id(context, "course-newer")
    conn.deliver(context, grade_deliveries(conn.tenant.name, ctx_id, columns, people))
    newer = grade_deliveries(conn.tenant.name, ctx_id, columns, people, revision=1)
    conn.deliver(context, newer)
    assert_held_exactly(conn, context and context.context_id, newer, changes=2)


def test_429_retry_after_is_reported_and_nothing_is_lost(conn: Connection):
    people = members(2)
    context, columns = gradebook(conn, "course-429", people, count=1)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-429"), columns,
                                  people)
    conn.platform.faults.add("status", status=429, retry_after=7, times=1)
    first = conn.write_once(context, deliveries)
    assert {r.outcome for r in first} == {Outcome.RETRY}
    assert {r.retry_after for r in first} == {7}, "Retry-After must reach the engine"
    conn.deliver(context, deliveries)
    assert_held_exactly(conn, context and context.context_id, deliveries)


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_fault_loses_or_doubles_nothing(conn: Connection, fault: dict):
    people = members(3)
    context, columns = gradebook(conn, "course-fault", people)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-fault"),
                                  columns, people)
    rule = conn.platform.faults.add(**fault, times=2)
    conn.deliver(context, deliveries)
    assert rule.fired == 2, "the fault never hit the adapter's requests"
    assert_held_exactly(conn, context and context.context_id, deliveries)


def test_a_slow_answer_past_the_timeout_is_retried_without_doubling(conn: Connection):
    people = members(2)
    context, columns = gradebook(conn, "course-slow", people, count=1)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-slow"), columns,
                                  people)
    conn.runtime.timeout = 0.5
    # The platform applies the write, then answers after the client gave up.
    rule = conn.platform.faults.add("slow", delay=2.0, after=True, times=1)
    conn.deliver(context, deliveries)
    assert rule.fired == 1
    assert_held_exactly(conn, context and context.context_id, deliveries)


def test_a_full_sync_under_a_10_percent_fault_rate_delivers_every_grade_once(conn: Connection):
    people = members(8)
    context, columns = gradebook(conn, "course-chaos", people, count=3)
    deliveries = grade_deliveries(conn.tenant.name, _ctx_id(context, "course-chaos"),
                                  columns, people)
    kinds = [spec for name, spec in FAULTS.items() if name != "429-retry-after"]
    # k rules of rate r fire on 1-(1-r)^k of requests: 10% overall.
    rate = 1 - 0.9 ** (1 / len(kinds))
    for seed, spec in enumerate(kinds):
        conn.platform.faults.add(**spec, rate=rate, seed=seed, times=None)
    conn.deliver(context, deliveries)
    # Then everything again, as a re-run of the same sync would: nothing may change.
    conn.deliver(context, deliveries)
    conn.platform.faults.clear()
    assert_held_exactly(conn, context and context.context_id, deliveries)
