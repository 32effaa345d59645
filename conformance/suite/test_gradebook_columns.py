"""Gradebook columns: created once, with the right label and maximum, never duplicated."""

from __future__ import annotations

import pytest

from lmsbridge.conformance.suite.harness import Connection, column_set, members, require
from lmsbridge.core.capabilities import Capability

pytestmark = pytest.mark.lmsbridge_capability(Capability.GRADEBOOK_COLUMNS)

# Faults that lose the answer after the platform created the column: the retry must find it.
LOST_ANSWERS = {
    "500-after": {"kind": "status", "status": 500, "after": True},
    "502-after": {"kind": "status", "status": 502, "after": True},
    "reset-after": {"kind": "reset", "after": True},
    "malformed-json-after": {"kind": "malformed_json", "after": True},
    "503-before": {"kind": "status", "status": 503},
    "throttle": {"kind": "throttle", "retry_after": 1},
    "expired-token": {"kind": "expired_token"},
}


def _held(conn: Connection, context_id: str):
    return require(conn.platform, "held_columns")(context_id)


def test_columns_are_created_with_label_and_maximum(conn: Connection):
    context = conn.seed("course-cols", members(2))
    columns = column_set(conn.tenant.name, context.context_id)
    made = conn.ensure_columns(context, columns)
    held = {c.platform_ref: c for c in _held(conn, context.context_id)}
    assert len(held) == len(columns)
    for asked, got in zip(columns, made, strict=True):
        column = held[got.platform_ref]
        assert column.label == asked.label
        assert column.score_maximum == pytest.approx(asked.score_maximum)


def test_running_twice_creates_no_duplicates(conn: Connection):
    context = conn.seed("course-twice", members(2))
    columns = column_set(conn.tenant.name, context.context_id)
    first = conn.ensure_columns(context, columns)
    second = conn.ensure_columns(context, columns)
    assert [c.platform_ref for c in second] == [c.platform_ref for c in first]
    assert len(_held(conn, context.context_id)) == len(columns)


def test_only_the_missing_column_is_created(conn: Connection):
    context = conn.seed("course-grow", members(2))
    columns = column_set(conn.tenant.name, context.context_id, 4)
    first = conn.ensure_columns(context, columns[:2])
    grown = conn.ensure_columns(context, columns)
    assert [c.platform_ref for c in grown[:2]] == [c.platform_ref for c in first]
    assert len({c.platform_ref for c in grown}) == 4
    assert len(_held(conn, context.context_id)) == 4


def test_columns_are_found_across_pages(conn: Connection):
    conn.platform.max_page_size = 2
    context = conn.seed("course-paged", members(2))
    columns = column_set(conn.tenant.name, context.context_id, 5)
    first = conn.ensure_columns(context, columns)
    again = conn.ensure_columns(context, columns)
    assert [c.platform_ref for c in again] == [c.platform_ref for c in first]
    assert len(_held(conn, context.context_id)) == 5


@pytest.mark.parametrize("fault", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_fault_while_creating_leaves_no_duplicate(conn: Connection, fault: dict):
    context = conn.seed("course-faults", members(2))
    columns = column_set(conn.tenant.name, context.context_id)
    conn.platform.faults.add(**{**fault, "method": "POST", "times": 2})
    made = conn.ensure_columns(context, columns)
    held = _held(conn, context.context_id)
    assert len(held) == len(columns), f"duplicates or losses: {held}"
    assert {c.platform_ref for c in made} == {c.platform_ref for c in held}
