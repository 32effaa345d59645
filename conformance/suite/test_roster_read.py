"""Roster reads: every member across every page, with roles and (where given) email."""

from __future__ import annotations

import pytest

from lmsbridge.conformance.suite.harness import Connection, members
from lmsbridge.conformance.suite.platform import LIS_ROLE
from lmsbridge.core.capabilities import Capability

pytestmark = pytest.mark.lmsbridge_capability(Capability.ROSTER_READ)


def _read(conn: Connection, context):
    return conn.attempt(lambda: list(conn.registry.read_roster(conn.tenant, context,
                                                               conn.runtime)))


def test_every_member_is_read_across_pages_with_roles(conn: Connection):
    conn.platform.max_page_size = 3
    people = members(learners=8, instructors=2)
    context = conn.seed("course-roster", people)
    roster = _read(conn, context)
    by_id = {m.user_id: m for m in roster}
    assert len(by_id) == len(roster), "a member was returned twice"
    assert set(by_id) == {p.user_id for p in people}, "paging was not followed to the end"
    for person in people:
        member = by_id[person.user_id]
        for role in person.roles:
            assert LIS_ROLE + role in member.roles, (person.user_id, member.roles)
        if member.email is not None:
            assert member.email == person.email
        elif getattr(conn.platform, "roster_has_email", False):
            pytest.fail(f"the platform gives email, the adapter dropped it ({person.user_id})")
        assert member.name in (None, person.name)


def test_a_fault_mid_paging_never_yields_a_short_roster(conn: Connection):
    conn.platform.max_page_size = 2
    people = members(learners=6, instructors=0)
    context = conn.seed("course-roster-fault", people)
    conn.platform.faults.add("status", status=503, method="GET", skip=1, times=1)
    try:
        roster = list(conn.registry.read_roster(conn.tenant, context, conn.runtime))
    except Exception:  # raising is right: the caller reads again
        roster = _read(conn, context)
    assert {m.user_id for m in roster} == {p.user_id for p in people}


@pytest.mark.parametrize("kind", ["reset", "malformed_json", "expired_token", "throttle"])
def test_a_roster_read_recovers_from(conn: Connection, kind: str):
    conn.platform.max_page_size = 2
    people = members(learners=5, instructors=1)
    context = conn.seed("course-roster-recover", people)
    conn.platform.faults.add(kind, method="GET", skip=1, times=1)
    assert {m.user_id for m in _read(conn, context)} == {p.user_id for p in people}
