"""Catalog reads (providers): the activated programs with every course and item."""

from __future__ import annotations

import pytest

from lmsbridge.conformance.suite.harness import Connection, require
from lmsbridge.core.capabilities import Capability
from lmsbridge.core.model import Course, Item, Program

pytestmark = pytest.mark.lmsbridge_capability(Capability.CATALOG_READ)


def catalog() -> list[Program]:
    programs = []
    for p in range(1, 4):
        courses = [Course(f"p{p}-c{c}", f"prog-{p}", f"Course {p}.{c}",
                          url=f"https://provider.example/learn/p{p}-c{c}",
                          items=[Item(f"p{p}-c{c}-i{i}", f"p{p}-c{c}", f"Item {i}",
                                      gradable=i != 3, max_score=float(i))
                                 for i in range(1, 4)])
                   for c in range(1, 4)]
        programs.append(Program(f"prog-{p}", f"Program {p}", courses=courses))
    return programs


def _shape(program: Program) -> tuple:
    return (program.id, program.name, sorted(
        (c.id, c.name, sorted((i.id, i.name, i.gradable, i.max_score) for i in c.items))
        for c in program.courses))


def test_activated_programs_are_read_whole_across_pages(conn: Connection):
    conn.platform.max_page_size = 2
    seeded = catalog()
    require(conn.platform, "seed_catalog")(seeded)
    wanted = ["prog-1", "prog-3"]
    got = conn.attempt(lambda: list(conn.registry.read_catalog(conn.target, wanted,
                                                               conn.runtime)))
    assert sorted(map(_shape, got)) == sorted(_shape(p) for p in seeded if p.id in wanted)


def test_a_catalog_read_recovers_from_a_fault(conn: Connection):
    conn.platform.max_page_size = 2
    seeded = catalog()
    require(conn.platform, "seed_catalog")(seeded)
    conn.platform.faults.add("status", status=503, method="GET", skip=1, times=1)
    got = conn.attempt(lambda: list(conn.registry.read_catalog(conn.target, ["prog-2"],
                                                               conn.runtime)))
    assert [_shape(p) for p in got] == [_shape(seeded[1])]
