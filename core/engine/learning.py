"""Learning platforms (Oracle Learning): catalog pushed as content, progress as completions.

A learning platform has no course shells, launches or gradebook columns. Per sync:

- every live course of the tenant's activated programs is published (``Publication`` with no
  context); the adapter looks each one up and writes only what changed. What it answered is
  kept in ``published_links`` under :data:`CONTEXT` with ``resource_link_id`` = the
  publication key, so a course retired upstream reaches the adapter's retire hook through
  :func:`~lmsbridge.core.engine.catalog.retire_links` like any LMS link.
- deliveries are planned from ``course_progress`` and final grades (:func:`cells`):
  ``start:course:<id>`` for a learner who started a course, ``course:<id>`` with the final
  grade once they completed it. Planning, outbox and delivery are the LMS ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import define, field
from sqlalchemy import Select, and_, exists, func, literal, or_, select

from lmsbridge.core.capabilities import AdapterKind
from lmsbridge.core.keys import FINAL_ITEM
from lmsbridge.core.keys import course_sql as course_key
from lmsbridge.core.model import Course, Program, Publication, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    activations,
    course_progress,
    courses,
    grades,
    learners,
    programs,
    published_links,
)

#: The ``context_id`` of a learning tenant's rows (links, deliveries): it has no shells.
CONTEXT = "-"
START = "start:"


def is_learning(registry: Registry, tenant: Tenant) -> bool:
    return registry.adapter(tenant.kind).spec.kind == AdapterKind.LEARNING


def identify_by(tenant: Tenant) -> str:
    """``email`` or ``username``: how the platform knows a learner (the Oracle adapter
    validates the option; an invalid value fails there with a clear message)."""
    return "username" if tenant.options.get("identify_by") == "username" else "email"


@define
class ContentResult:
    # The adapter's own counts (created/updated/unchanged/skipped/failed) when it exposes
    # them on what it returns; otherwise only what the answer shows: published / failed.
    counts: dict[str, int] = field(factory=dict)
    errors: list[str] = field(factory=list)


def publications(store: Store, tenant: Tenant) -> list[Publication]:
    """Every live course of the tenant's activated programs, once per course."""
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        rows = conn.execute(
            select(programs.c.id.label("program_id"), programs.c.name.label("program_name"),
                   courses.c.id, courses.c.name, courses.c.url, courses.c.description)
            .join(activations, activations.c.program_id == programs.c.id)
            .join(courses, courses.c.program_id == programs.c.id)
            .where(activations.c.tenant_id == tid, courses.c.retired.is_(False))
            .order_by(courses.c.id, programs.c.id)).all()
    out: dict[str, Publication] = {}
    for r in rows:
        course = Course(r.id, r.program_id, r.name, url=r.url, description=r.description)
        out.setdefault(r.id, Publication(tenant.name, Program(r.program_id, r.program_name),
                                         course))
    return list(out.values())


def publish(store: Store, registry: Registry, runtime: Runtime, tenant: Tenant) -> ContentResult:
    result = ContentResult()
    pubs = publications(store, tenant)
    if not pubs:
        return result
    try:
        answered = registry.publish_content(tenant, None, pubs, runtime)
    except Exception as exc:  # the platform is down: completions may still go out later
        result.errors.append(f"publishing content: {type(exc).__name__}: {exc}")
        return result
    done = [p for p in answered if p.platform_ref]
    _record(store, tenant, done)
    counts = getattr(answered, "counts", None)
    if isinstance(counts, dict):
        result.counts = {k: int(v) for k, v in counts.items()}
    else:
        result.counts = {"published": len(done), "failed": len(answered) - len(done)}
    return result


def _record(store: Store, tenant: Tenant, done: Sequence[Publication]) -> None:
    pl = published_links
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        known = set(conn.execute(select(pl.c.resource_link_id).where(
            pl.c.tenant_id == tid, pl.c.context_id == CONTEXT)).scalars())
        for p in done:
            values = {"program_id": p.program.id, "course_id": p.course.id,
                      "platform_ref": p.platform_ref, "retired": False,
                      "grade_sync": tenant.grade_sync.value}
            if p.key in known:
                conn.execute(pl.update().where(pl.c.tenant_id == tid, pl.c.context_id == CONTEXT,
                                               pl.c.resource_link_id == p.key).values(**values))
            else:
                conn.execute(pl.insert().values(tenant_id=tid, context_id=CONTEXT,
                                                resource_link_id=p.key, **values))


# --- planning ------------------------------------------------------------------------------


def _identity(tenant: Tenant):
    return learners.c.username if identify_by(tenant) == "username" else learners.c.email


def _scope(tenant_id: int):
    """(learner, course) progress on live courses of the tenant's activated programs."""
    live = (select(courses.c.id).join(activations,
                                      activations.c.program_id == courses.c.program_id)
            .where(activations.c.tenant_id == tenant_id, courses.c.retired.is_(False)))
    return and_(course_progress.c.course_id.in_(live), course_progress.c.started_at.is_not(None))


def _has(column) -> object:
    return and_(column.is_not(None), func.length(func.trim(column)) > 0)


def cells(tenant: Tenant, tenant_id: int) -> Select:
    """The planner's cells (see :mod:`.eligibility`) for a learning tenant: a start per
    started course, a completion with the final grade per completed one."""
    cp, ident = course_progress, _identity(tenant)
    final = and_(grades.c.learner_id == cp.c.learner_id, grades.c.course_id == cp.c.course_id,
                 grades.c.item_id == FINAL_ITEM)
    completed = and_(cp.c.completed_at.is_not(None), exists().where(final))
    starts = (select(literal(CONTEXT).label("context_id"),
                     literal(START).concat(course_key(cp.c.course_id)).label("column_key"),
                     cp.c.learner_id, ident.label("lms_user_id"), literal(0.0).label("score"),
                     literal(1.0).label("max_score"), literal(1).label("revision"),
                     cp.c.started_at.label("updated_at"), cp.c.started_at)
              .join(learners, learners.c.id == cp.c.learner_id)
              .where(_scope(tenant_id), _has(ident), ~completed))
    completions = (select(literal(CONTEXT).label("context_id"),
                          course_key(cp.c.course_id).label("column_key"), cp.c.learner_id,
                          ident.label("lms_user_id"), grades.c.score, grades.c.max_score,
                          grades.c.revision, cp.c.completed_at.label("updated_at"),
                          cp.c.started_at)
                   .join(learners, learners.c.id == cp.c.learner_id)
                   .join(grades, final)
                   .where(_scope(tenant_id), _has(ident), cp.c.completed_at.is_not(None)))
    return starts.union_all(completions)


def without_identity(store: Store, tenant: Tenant) -> list[str]:
    """Learners with progress on the tenant's courses whom the platform could not be told
    about: no work email (or user name, per ``identify_by``). Reported, never sent."""
    cp, ident = course_progress, _identity(tenant)
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        return list(conn.execute(
            select(cp.c.learner_id).join(learners, learners.c.id == cp.c.learner_id)
            .where(_scope(tid), or_(ident.is_(None), func.length(func.trim(ident)) == 0))
            .distinct().order_by(cp.c.learner_id)).scalars())
