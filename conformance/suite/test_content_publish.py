"""Content publishing: links launch what they were made for, and are never duplicated."""

from __future__ import annotations

import pytest

from lmsbridge.conformance.suite._content import publications, title_of, whole_courses
from lmsbridge.conformance.suite.harness import Connection, members, require
from lmsbridge.core.capabilities import Capability

pytestmark = pytest.mark.lmsbridge_capability(Capability.CONTENT_PUBLISH)


def _publish(conn: Connection, context, pubs):
    out = conn.attempt(lambda: conn.registry.publish_content(conn.tenant, context, pubs,
                                                             conn.runtime))
    assert [p.key for p in out] == [p.key for p in pubs], "return publications in order"
    assert all(p.platform_ref for p in out), "every publication needs platform_ref"
    return out


def _held(conn: Connection, context):
    return require(conn.platform, "held_content")(context.context_id if context else None)


def test_published_links_point_at_their_content(conn: Connection):
    context = conn.seed("course-content", members(1))
    pubs = publications(conn.tenant.name, context.context_id if context else None,
                        whole_courses=whole_courses(conn.platform))
    out = _publish(conn, context, pubs)
    held = {h.platform_ref: h for h in _held(conn, context)}
    assert len(held) == len(pubs)
    for pub in out:
        link = held[pub.platform_ref]
        assert link.content_key == pub.key, f"{pub.key} launches {link.content_key}"
        assert link.title == title_of(pub)
        assert link.url.startswith(("https://", "http://"))
        assert not link.retired


def test_publishing_twice_creates_no_duplicate(conn: Connection):
    context = conn.seed("course-content-twice", members(1))
    pubs = publications(conn.tenant.name, context.context_id if context else None,
                        whole_courses=whole_courses(conn.platform))
    first = _publish(conn, context, pubs)
    second = _publish(conn, context, pubs)
    assert [p.platform_ref for p in second] == [p.platform_ref for p in first]
    assert len(_held(conn, context)) == len(pubs)


@pytest.mark.parametrize("fault", [{"kind": "status", "status": 502, "after": True},
                                   {"kind": "reset", "after": True},
                                   {"kind": "throttle"}],
                         ids=["502-after", "reset-after", "throttle"])
def test_a_lost_answer_while_publishing_leaves_no_duplicate(conn: Connection, fault: dict):
    context = conn.seed("course-content-fault", members(1))
    pubs = publications(conn.tenant.name, context.context_id if context else None,
                        whole_courses=whole_courses(conn.platform))
    conn.platform.faults.add(**fault, method="POST", times=2)
    out = _publish(conn, context, pubs)
    held = _held(conn, context)
    assert len(held) == len(pubs), f"duplicates or losses: {held}"
    assert {h.platform_ref for h in held} == {p.platform_ref for p in out}
