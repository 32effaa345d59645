"""Catalog reads for a Common Cartridge: a program's courses and their gradable items in the
order the picker lists them (by name, then id), retired ones left out, in one connection."""

from __future__ import annotations

from attrs import frozen
from sqlalchemy import Engine, select

from lmsbridge.core.store.schema import courses, items, programs


@frozen
class CartridgeItem:
    id: str
    name: str


@frozen
class CartridgeCourse:
    id: str
    name: str
    items: tuple[CartridgeItem, ...]  # gradable, not retired


@frozen
class CartridgeProgram:
    id: str
    name: str
    courses: tuple[CartridgeCourse, ...]  # not retired


class CartridgeReads:
    def __init__(self, engine: Engine):
        self.engine = engine

    def program(self, program_id: str) -> CartridgeProgram | None:
        """The program with its courses and items; None when the store has no such program."""
        with self.engine.connect() as conn:
            name = conn.execute(select(programs.c.name).where(
                programs.c.id == program_id)).scalar()
            if name is None:
                return None
            course_rows = conn.execute(select(courses.c.id, courses.c.name).where(
                courses.c.program_id == program_id, courses.c.retired.is_(False))
                .order_by(courses.c.name, courses.c.id)).all()
            item_rows = conn.execute(select(items.c.course_id, items.c.id, items.c.name)
                                     .join(courses, (courses.c.id == items.c.course_id)
                                           & (courses.c.program_id == program_id))
                                     .where(items.c.gradable.is_(True),
                                            items.c.retired.is_(False))
                                     .order_by(items.c.name, items.c.id)).all()
        by_course: dict[str, list[CartridgeItem]] = {}
        for r in item_rows:
            by_course.setdefault(r.course_id, []).append(CartridgeItem(r.id, r.name))
        return CartridgeProgram(program_id, name, tuple(
            CartridgeCourse(c.id, c.name, tuple(by_course.get(c.id, ())))
            for c in course_rows))
