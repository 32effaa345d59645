"""The catalog as the provider has it (``programs``, ``courses``, ``items``), and the
published links that point at content retired upstream.

Content missing upstream is marked retired, never deleted: links, grades and history still
name it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from attrs import define, field, frozen
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from lmsbridge.core.model import Course, Item, Program
from lmsbridge.core.store import watermarks
from lmsbridge.core.store.programs import Programs
from lmsbridge.core.store.schema import courses, items, programs, published_links, tenants
from lmsbridge.core.store.tenants import TenantRef


@define
class CatalogChanges:
    added_courses: list[str] = field(factory=list)  # new, or back upstream
    retired_courses: list[str] = field(factory=list)
    retired_items: list[str] = field(factory=list)  # "<course id>/<item id>"


@frozen
class RetiringLink:
    """A live published link to content retired upstream."""

    id: int
    tenant: TenantRef
    context_id: str
    program: Program
    course: Course
    item: Item | None
    platform_ref: str | None


class Catalog:
    def __init__(self, engine: Engine):
        self.engine = engine

    def store(self, upstream: Iterable[tuple[Program, str]], at: datetime,
              watermark: str) -> CatalogChanges:
        """Store every (program, name of the provider that has it) and retire what left it,
        with the ``watermark`` set to ``at``, in one transaction."""
        changes = CatalogChanges()
        with self.engine.begin() as conn:
            for program, provider_name in upstream:
                _store_program(conn, program, at, changes,
                               Programs.provider_id(conn, provider_name))
            watermarks.write(conn, watermark, at)
        return changes

    def retiring_links(self, tenant_id: int | None = None) -> list[RetiringLink]:
        """Live links (of one tenant, or every tenant's) to retired courses or items."""
        pl = published_links
        query = (select(pl.c.id, pl.c.tenant_id, tenants.c.name.label("tenant"),
                        pl.c.context_id, pl.c.program_id, pl.c.course_id, pl.c.item_id,
                        pl.c.platform_ref, programs.c.name.label("program_name"),
                        courses.c.name.label("course_name"),
                        courses.c.retired.label("c_retired"), items.c.name.label("item_name"),
                        items.c.retired.label("i_retired"), items.c.max_score,
                        items.c.gradable)
                 .join(tenants, tenants.c.id == pl.c.tenant_id)
                 .join(programs, programs.c.id == pl.c.program_id)
                 .join(courses, (courses.c.program_id == pl.c.program_id)
                       & (courses.c.id == pl.c.course_id))
                 .outerjoin(items, (items.c.course_id == pl.c.course_id)
                            & (items.c.id == pl.c.item_id))
                 .where(pl.c.retired.is_(False))
                 .where(courses.c.retired.is_(True) | items.c.retired.is_(True)))
        if tenant_id is not None:
            query = query.where(pl.c.tenant_id == tenant_id)
        with self.engine.connect() as conn:
            return [_retiring(r) for r in conn.execute(query)]

    def mark_links_retired(self, link_ids: Sequence[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(published_links.update()
                         .where(published_links.c.id.in_(list(link_ids))).values(retired=True))


def _retiring(row) -> RetiringLink:
    course = Course(row.course_id, row.program_id, row.course_name, retired=row.c_retired)
    item = None
    if row.item_id is not None:
        item = Item(row.item_id, row.course_id, row.item_name or row.item_id,
                    gradable=bool(row.gradable if row.gradable is not None else True),
                    max_score=row.max_score or 1.0, retired=bool(row.i_retired))
    return RetiringLink(row.id, TenantRef(row.tenant, row.tenant_id), row.context_id,
                        Program(row.program_id, row.program_name), course, item,
                        row.platform_ref)


def _store_program(conn: Connection, program: Program, at: datetime, changes: CatalogChanges,
                   provider_id: int) -> None:
    values = {"name": program.name, "seats": program.seats, "synced_at": at,
              "provider_id": provider_id}
    if conn.execute(select(programs.c.id).where(programs.c.id == program.id)).first():
        conn.execute(programs.update().where(programs.c.id == program.id).values(**values))
    else:
        conn.execute(programs.insert().values(id=program.id, **values))
    known = {r.id: r for r in conn.execute(
        select(courses.c.id, courses.c.retired).where(courses.c.program_id == program.id))}
    for course in program.courses:
        values = {"name": course.name, "url": course.url, "description": course.description,
                  "retired": False, "synced_at": at}
        if course.id in known:
            conn.execute(courses.update().where((courses.c.program_id == program.id)
                                                & (courses.c.id == course.id)).values(**values))
            if known[course.id].retired:
                changes.added_courses.append(course.id)  # back upstream
        else:
            conn.execute(courses.insert().values(program_id=program.id, id=course.id,
                                                 **values))
            changes.added_courses.append(course.id)
        _store_items(conn, course, changes)
    upstream_ids = {c.id for c in program.courses}
    for cid, row in known.items():
        if cid not in upstream_ids and not row.retired:
            conn.execute(courses.update().where((courses.c.program_id == program.id)
                                                & (courses.c.id == cid)).values(retired=True))
            conn.execute(items.update().where(items.c.course_id == cid).values(retired=True))
            changes.retired_courses.append(cid)


def _store_items(conn: Connection, course: Course, changes: CatalogChanges) -> None:
    known = {r.id: r.retired for r in conn.execute(
        select(items.c.id, items.c.retired).where(items.c.course_id == course.id))}
    for item in course.items:
        values = {"name": item.name, "gradable": item.gradable, "max_score": item.max_score,
                  "retired": False}
        if item.id in known:
            conn.execute(items.update().where((items.c.course_id == course.id)
                                              & (items.c.id == item.id)).values(**values))
        else:
            conn.execute(items.insert().values(course_id=course.id, id=item.id, **values))
    upstream_ids = {i.id for i in course.items}
    for iid, retired in known.items():
        if iid not in upstream_ids and not retired:
            conn.execute(items.update().where((items.c.course_id == course.id)
                                              & (items.c.id == iid)).values(retired=True))
            changes.retired_items.append(f"{course.id}/{iid}")
