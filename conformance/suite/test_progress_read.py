"""Progress reads (providers): everything, or what changed since a moment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lmsbridge.conformance.suite.harness import EPOCH, Connection, require
from lmsbridge.core.capabilities import Capability
from lmsbridge.core.model import Progress

pytestmark = pytest.mark.lmsbridge_capability(Capability.PROGRESS_READ)


def progress() -> list[Progress]:
    return [Progress(learner_id=f"learner-{n}", course_id="p1-c1", item_id=f"p1-c1-i{n % 3 + 1}",
                     email=f"l{n}@example.edu", score=float(n % 3), max_score=3.0,
                     updated_at=EPOCH + timedelta(hours=n))
            for n in range(1, 8)]


def _key(p: Progress) -> tuple:
    return (p.learner_id, p.course_id, p.item_id, p.score, p.updated_at)


def _read(conn: Connection, since):
    return conn.attempt(lambda: list(conn.registry.read_progress(conn.target, since,
                                                                 conn.runtime)))


def test_all_progress_is_read_across_pages(conn: Connection):
    conn.platform.max_page_size = 2
    seeded = progress()
    require(conn.platform, "seed_progress")(seeded)
    assert sorted(map(_key, _read(conn, None))) == sorted(map(_key, seeded))


def test_since_returns_only_what_changed_after_it(conn: Connection):
    conn.platform.max_page_size = 2
    seeded = progress()
    require(conn.platform, "seed_progress")(seeded)
    since = EPOCH + timedelta(hours=4, minutes=30)
    got = _read(conn, since)
    assert sorted(map(_key, got)) == sorted(_key(p) for p in seeded if p.updated_at > since)
