"""Content retirement: what was removed upstream shows as retired on the platform."""

from __future__ import annotations

import pytest

from lmsbridge.conformance.suite._content import publications, whole_courses
from lmsbridge.conformance.suite.harness import Connection, members, require
from lmsbridge.core.capabilities import Capability

pytestmark = pytest.mark.lmsbridge_capability(Capability.CONTENT_RETIRE)


def test_retired_content_shows_as_retired_and_the_rest_stays(conn: Connection):
    context = conn.seed("course-retire", members(1))
    pubs = publications(conn.tenant.name, context.context_id if context else None, items=2,
                        whole_courses=whole_courses(conn.platform))
    if Capability.CONTENT_PUBLISH not in conn.adapter.spec.capabilities:
        pytest.skip("retirement is checked on content this adapter published; "
                    "it does not publish content")
    published = conn.attempt(lambda: conn.registry.publish_content(
        conn.tenant, context, pubs, conn.runtime))
    gone = published[-1:]
    retired = conn.attempt(lambda: conn.registry.retire_content(
        conn.tenant, context, gone, conn.runtime))
    assert [p.key for p in retired] == [p.key for p in gone]
    assert all(p.retired for p in retired)
    again = conn.attempt(lambda: conn.registry.retire_content(
        conn.tenant, context, gone, conn.runtime))
    assert all(p.retired for p in again), "retiring twice must be harmless"
    held = {h.platform_ref: h for h in require(conn.platform, "held_content")(
        context.context_id if context else None)}
    assert held[gone[0].platform_ref].retired
    assert not any(held[p.platform_ref].retired for p in published[:-1])
