"""Gradebook columns a tenant's option needs, created through the adapter only when missing.

- ``item``: one column per live item link (``item:<id>``), bound to that link.
- ``course``: after the first launch through a course link, one column per gradable item of
  the course (``item:<id>``) — not before (the seed's Option B).
- ``final``: one column per live course link (``course:<id>``) for the final grade.

A column recorded in ``gradebook_columns`` with its platform id is never asked for again.
"""

from __future__ import annotations

from attrs import define, field
from sqlalchemy import and_, exists, select

from lmsbridge.core.engine.contexts import load_context
from lmsbridge.core.engine.eligibility import is_bound
from lmsbridge.core.model import GradebookColumn, GradeSync, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    courses,
    gradebook_columns,
    items,
    launches,
    published_links,
)


@define
class ColumnResult:
    created: int = 0
    wanted: list[GradebookColumn] = field(factory=list)  # missing before this run
    errors: list[str] = field(factory=list)


def needed(store: Store, tenant: Tenant) -> list[GradebookColumn]:
    """Columns the option calls for that are not recorded as existing yet."""
    pl = published_links
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        live = and_(pl.c.tenant_id == tid, pl.c.grade_sync == tenant.grade_sync.value,
                    pl.c.retired.is_(False), pl.c.needs_republish.is_(False), is_bound())
        wanted: list[GradebookColumn] = []
        if tenant.grade_sync == GradeSync.ITEM:
            rows = conn.execute(
                select(pl.c.context_id, pl.c.resource_link_id, pl.c.item_id, items.c.name,
                       items.c.max_score)
                .join(items, and_(items.c.course_id == pl.c.course_id,
                                  items.c.id == pl.c.item_id))
                .where(live, pl.c.item_id.is_not(None)))
            wanted = [GradebookColumn(tenant.name, r.context_id, f"item:{r.item_id}", r.name,
                                      r.max_score, r.resource_link_id) for r in rows]
        elif tenant.grade_sync == GradeSync.COURSE:
            launched = exists().where(launches.c.tenant_id == tid,
                                      launches.c.context_id == pl.c.context_id,
                                      launches.c.resource_link_id == pl.c.resource_link_id)
            rows = conn.execute(
                select(pl.c.context_id, items.c.id, items.c.name, items.c.max_score)
                .join(items, items.c.course_id == pl.c.course_id)
                .where(live, pl.c.item_id.is_(None), launched, items.c.gradable.is_(True),
                       items.c.retired.is_(False))
                .distinct().order_by(pl.c.context_id, items.c.id))
            wanted = [GradebookColumn(tenant.name, r.context_id, f"item:{r.id}", r.name,
                                      r.max_score) for r in rows]
        else:
            rows = conn.execute(
                select(pl.c.context_id, pl.c.resource_link_id, pl.c.course_id, courses.c.name)
                .join(courses, and_(courses.c.program_id == pl.c.program_id,
                                    courses.c.id == pl.c.course_id))
                .where(live, pl.c.item_id.is_(None)))
            wanted = [GradebookColumn(tenant.name, r.context_id, f"course:{r.course_id}",
                                      r.name, 1.0, r.resource_link_id) for r in rows]
        have = {(r.context_id, r.key) for r in conn.execute(
            select(gradebook_columns.c.context_id, gradebook_columns.c.key).where(
                gradebook_columns.c.tenant_id == tid,
                gradebook_columns.c.platform_ref.is_not(None)))}
    unique = {(c.context_id, c.key): c for c in wanted}
    return [c for k, c in sorted(unique.items()) if k not in have]


def ensure(store: Store, registry: Registry, runtime: Runtime, tenant: Tenant,
           *, dry_run: bool = False) -> ColumnResult:
    result = ColumnResult(wanted=needed(store, tenant))
    if dry_run:
        return result
    by_context: dict[str, list[GradebookColumn]] = {}
    for column in result.wanted:
        by_context.setdefault(column.context_id, []).append(column)
    for context_id, columns in by_context.items():
        context = load_context(store, tenant, context_id)
        try:
            made = registry.ensure_columns(tenant, context, columns, runtime)
        except Exception as exc:  # one course shell failing must not stop the others
            result.errors.append(f"columns in {context_id}: {type(exc).__name__}: {exc}")
            continue
        record(store, tenant, made)
        result.created += sum(1 for c in made if c.platform_ref)
    return result


def record(store: Store, tenant: Tenant, columns: list[GradebookColumn]) -> None:
    gc = gradebook_columns
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        for c in columns:
            if not c.platform_ref:
                continue
            where = and_(gc.c.tenant_id == tid, gc.c.context_id == c.context_id,
                         gc.c.key == c.key)
            values = {"label": c.label, "score_maximum": c.score_maximum,
                      "resource_link_id": c.resource_link_id, "platform_ref": c.platform_ref}
            if conn.execute(select(gc.c.id).where(where)).first():
                conn.execute(gc.update().where(where).values(**values))
            else:
                conn.execute(gc.insert().values(tenant_id=tid, context_id=c.context_id,
                                                key=c.key, **values))


def refs(store: Store, tenant: Tenant) -> dict[tuple[str, str], str]:
    """(context_id, column key) -> the platform's column id."""
    gc = gradebook_columns
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        return {(r.context_id, r.key): r.platform_ref for r in conn.execute(
            select(gc.c.context_id, gc.c.key, gc.c.platform_ref).where(
                gc.c.tenant_id == tid, gc.c.platform_ref.is_not(None)))}
