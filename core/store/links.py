"""Published links as the LTI tool sees them, and the content a link may name.

The deep-linking picker writes links under a pending resource link id; a link's first launch
binds it to the platform's id; a launch whose link names no content is routed through the
link's row. The content reads are those the picker offers and a launch resolves: courses of
a program and gradable items of a course, retired ones left out where a picker lists them.
Methods taking ``conn`` run in the caller's transaction, the others on their own connection.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen
from sqlalchemy import Connection, Engine, select, update

from lmsbridge.core.store.schema import activations, courses, items, programs, published_links
from lmsbridge.core.store.schema import tenants as tenants_table


@frozen
class LinkTarget:
    """The content a published link points at."""

    program_id: str
    course_id: str | None
    item_id: str | None


@frozen
class NewLink:
    """A published_links row to write (``context_id`` "" when the platform sent none)."""

    context_id: str
    resource_link_id: str
    program_id: str
    course_id: str
    item_id: str | None
    grade_sync: str


@frozen
class Content:
    """A course or an item: its id, name, and where it opens (None: not known yet)."""

    id: str
    name: str
    url: str | None = None
    max_score: float | None = None  # items only


class Links:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- published links -------------------------------------------------------------------

    @staticmethod
    def find(conn: Connection, tenant_id: int, context_id: str,
             resource_link_id: str) -> LinkTarget | None:
        row = conn.execute(select(published_links).where(
            published_links.c.tenant_id == tenant_id,
            published_links.c.context_id == context_id,
            published_links.c.resource_link_id == resource_link_id)).first()
        return None if row is None else LinkTarget(row.program_id, row.course_id, row.item_id)

    @staticmethod
    def bind(conn: Connection, tenant_id: int, context_id: str, resource_link_id: str,
             pending_id: str) -> None:
        """The link published under ``pending_id`` takes the platform's ids, unless a link of
        this tenant already has them (bound before, or published twice: the first binding
        stands)."""
        if conn.execute(select(published_links.c.id).where(
                published_links.c.tenant_id == tenant_id,
                published_links.c.context_id == context_id,
                published_links.c.resource_link_id == resource_link_id)).first():
            return
        conn.execute(update(published_links).where(
            published_links.c.tenant_id == tenant_id,
            published_links.c.resource_link_id == pending_id,
        ).values(resource_link_id=resource_link_id, context_id=context_id))

    @staticmethod
    def publish(conn: Connection, tenant: str, links: Sequence[NewLink]) -> None:
        """Write ``links`` for the tenant named ``tenant`` (which exists)."""
        tid = conn.execute(select(tenants_table.c.id).where(
            tenants_table.c.name == tenant)).scalar_one()
        for link in links:
            conn.execute(published_links.insert().values(
                tenant_id=tid, context_id=link.context_id,
                resource_link_id=link.resource_link_id, program_id=link.program_id,
                course_id=link.course_id, item_id=link.item_id, grade_sync=link.grade_sync))

    # --- what a launch resolves --------------------------------------------------------------

    @staticmethod
    def program_activated(conn: Connection, tenant_id: int, program_id: str) -> bool:
        return conn.execute(select(activations.c.id).where(
            activations.c.tenant_id == tenant_id,
            activations.c.program_id == program_id)).first() is not None

    @staticmethod
    def course(conn: Connection, program_id: str, course_id: str) -> Content | None:
        """The course, retired or not."""
        row = conn.execute(select(courses.c.name, courses.c.url).where(
            courses.c.program_id == program_id, courses.c.id == course_id)).first()
        return None if row is None else Content(course_id, row.name, row.url)

    @staticmethod
    def item(conn: Connection, course_id: str, item_id: str) -> Content | None:
        """The item, retired or not."""
        row = conn.execute(select(items.c.name, items.c.url).where(
            items.c.course_id == course_id, items.c.id == item_id)).first()
        return None if row is None else Content(item_id, row.name, row.url)

    def course_homes(self, program_id: str) -> list[tuple[str, str | None]]:
        """(name, url) of the program's courses, by name."""
        with self.engine.connect() as conn:
            return [(r.name, r.url) for r in conn.execute(
                select(courses.c.name, courses.c.url).where(
                    courses.c.program_id == program_id, courses.c.retired.is_(False))
                .order_by(courses.c.name))]

    # --- what the picker offers --------------------------------------------------------------

    def program_courses(self, program_id: str) -> tuple[str | None, list[Content]]:
        """The program's name (None: the store has no row for it) and its courses, by name."""
        with self.engine.connect() as conn:
            name = conn.execute(select(programs.c.name).where(
                programs.c.id == program_id)).scalar()
            rows = conn.execute(select(courses.c.id, courses.c.name).where(
                courses.c.program_id == program_id, courses.c.retired.is_(False))
                .order_by(courses.c.name)).all()
        return name, [Content(r.id, r.name) for r in rows]

    def gradable_items(self, course_id: str) -> list[Content]:
        """The course's gradable items, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(items.c.id, items.c.name).where(
                items.c.course_id == course_id, items.c.gradable.is_(True),
                items.c.retired.is_(False)).order_by(items.c.name)).all()
        return [Content(r.id, r.name) for r in rows]

    def chosen_items(self, program_id: str, course_id: str | None,
                     item_ids: Sequence[str]) -> list[Content]:
        """Those of ``item_ids`` that are gradable items of the program's course."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(items.c.id, items.c.name, items.c.max_score)
                                .join(courses, (courses.c.id == items.c.course_id)
                                      & (courses.c.program_id == program_id))
                                .where(items.c.course_id == course_id,
                                       items.c.id.in_(list(item_ids)),
                                       items.c.gradable.is_(True),
                                       items.c.retired.is_(False))).all()
        return [Content(r.id, r.name, max_score=r.max_score) for r in rows]

    def chosen_courses(self, program_id: str, course_ids: Sequence[str]) -> list[Content]:
        """Those of ``course_ids`` that are courses of the program."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(courses.c.id, courses.c.name).where(
                courses.c.program_id == program_id, courses.c.id.in_(list(course_ids)),
                courses.c.retired.is_(False))).all()
        return [Content(r.id, r.name) for r in rows]
