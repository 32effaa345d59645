"""What a learning platform (Oracle Learning) is sent, read from our tables: the courses to
publish as content, the starts and completions to plan, and the typed values each due
delivery carries to the adapter (:class:`~lmsbridge.core.model.Completion`).

A learning tenant has no course shells: its links and deliveries use :data:`CONTEXT`, and a
delivery's ``column_key`` is ``start:course:<id>`` (a start) or ``course:<id>`` (a
completion with the final grade), made and parsed by :mod:`lmsbridge.core.keys` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, Select, and_, exists, func, literal, or_, select

from lmsbridge.core import keys
from lmsbridge.core.model import (
    Completion,
    Course,
    Delivery,
    LearnerIdentity,
    LearningContent,
    LearningEvent,
    Program,
    Publication,
    Tenant,
    evolve,
)
from lmsbridge.core.store.schema import (
    activations,
    course_progress,
    courses,
    grades,
    learners,
    programs,
    published_links,
)
from lmsbridge.core.store.tenants import TenantRef

#: The ``context_id`` of a learning tenant's rows (links, deliveries): it has no shells.
CONTEXT = "-"


def identify_by(tenant: Tenant) -> str:
    """``email`` or ``username``: how the platform knows a learner (the Oracle adapter
    validates the option; an invalid value fails there with a clear message)."""
    return "username" if tenant.options.get("identify_by") == "username" else "email"


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
    """The planner's cells (see :mod:`.grade_options`) for a learning tenant: a start per
    started course, a completion with the final grade per completed one. The learner is
    addressed by our id; its identity is read when the delivery goes out."""
    cp, ident = course_progress, _identity(tenant)
    final = and_(grades.c.learner_id == cp.c.learner_id, grades.c.course_id == cp.c.course_id,
                 grades.c.item_id == keys.FINAL_ITEM)
    completed = and_(cp.c.completed_at.is_not(None), exists().where(final))
    starts = (select(literal(CONTEXT).label("context_id"),
                     keys.start_sql(cp.c.course_id).label("column_key"),
                     cp.c.learner_id, cp.c.learner_id.label("lms_user_id"),
                     literal(0.0).label("score"), literal(1.0).label("max_score"),
                     literal(1).label("revision"), cp.c.started_at.label("updated_at"),
                     cp.c.started_at)
              .join(learners, learners.c.id == cp.c.learner_id)
              .where(_scope(tenant_id), _has(ident), ~completed))
    completions = (select(literal(CONTEXT).label("context_id"),
                          keys.course_sql(cp.c.course_id).label("column_key"), cp.c.learner_id,
                          cp.c.learner_id.label("lms_user_id"), grades.c.score,
                          grades.c.max_score, grades.c.revision,
                          cp.c.completed_at.label("updated_at"), cp.c.started_at)
                   .join(learners, learners.c.id == cp.c.learner_id)
                   .join(grades, final)
                   .where(_scope(tenant_id), _has(ident), cp.c.completed_at.is_not(None)))
    return starts.union_all(completions)


class Learning:
    def __init__(self, engine: Engine):
        self.engine = engine

    def publications(self, tenant: TenantRef) -> list[Publication]:
        """Every live course of the tenant's activated programs, once per course."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(programs.c.id.label("program_id"),
                       programs.c.name.label("program_name"),
                       courses.c.id, courses.c.name, courses.c.url, courses.c.description)
                .join(activations, activations.c.program_id == programs.c.id)
                .join(courses, courses.c.program_id == programs.c.id)
                .where(activations.c.tenant_id == tenant.id, courses.c.retired.is_(False))
                .order_by(courses.c.id, programs.c.id)).all()
        out: dict[str, Publication] = {}
        for r in rows:
            course = Course(r.id, r.program_id, r.name, url=r.url, description=r.description)
            out.setdefault(r.id, Publication(tenant.name, Program(r.program_id, r.program_name),
                                             course))
        return list(out.values())

    def record_published(self, tenant: TenantRef, grade_sync: str,
                         done: Sequence[Publication]) -> None:
        """Keep what the platform answered in ``published_links`` under :data:`CONTEXT`, so
        a course retired upstream reaches the retire hook like any LMS link."""
        pl = published_links
        with self.engine.begin() as conn:
            known = set(conn.execute(select(pl.c.resource_link_id).where(
                pl.c.tenant_id == tenant.id, pl.c.context_id == CONTEXT)).scalars())
            for p in done:
                values = {"program_id": p.program.id, "course_id": p.course.id,
                          "platform_ref": p.platform_ref, "retired": False,
                          "grade_sync": grade_sync}
                if p.key in known:
                    conn.execute(pl.update().where(
                        pl.c.tenant_id == tenant.id, pl.c.context_id == CONTEXT,
                        pl.c.resource_link_id == p.key).values(**values))
                else:
                    conn.execute(pl.insert().values(tenant_id=tenant.id, context_id=CONTEXT,
                                                    resource_link_id=p.key, **values))

    def without_identity(self, tenant: TenantRef, settings: Tenant) -> list[str]:
        """Learners with progress on the tenant's courses whom the platform could not be told
        about: no work email (or user name, per ``identify_by``). Reported, never sent."""
        cp, ident = course_progress, _identity(settings)
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(cp.c.learner_id).join(learners, learners.c.id == cp.c.learner_id)
                .where(_scope(tenant.id), or_(ident.is_(None),
                                              func.length(func.trim(ident)) == 0))
                .distinct().order_by(cp.c.learner_id)).scalars())

    def completions(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """The deliveries with :attr:`~Delivery.completion` filled from the learners and the
        catalog; one whose ``column_key`` is no course key is left without (the adapter
        refuses it)."""
        parsed = {d.dedupe_key: keys.parse_course(d.column_key) for d in deliveries}
        learner_ids = sorted({d.learner_id for d in deliveries})
        course_ids = sorted({p[0] for p in parsed.values() if p})
        with self.engine.connect() as conn:
            people = {r.id: r for r in conn.execute(
                select(learners.c.id, learners.c.email, learners.c.username, learners.c.name)
                .where(learners.c.id.in_(learner_ids)))} if learner_ids else {}
            known = {r.id: r for r in conn.execute(
                select(courses.c.id, courses.c.name, courses.c.url)
                .where(courses.c.id.in_(course_ids)))} if course_ids else {}
        out = []
        for d in deliveries:
            found = parsed[d.dedupe_key]
            if found is None:
                out.append(d)
                continue
            course_id, start_only = found
            course = known.get(course_id)
            content = LearningContent(course_id, course.url if course and course.url else None,
                                      course.name if course else None)
            event = LearningEvent.START if start_only else LearningEvent.COMPLETION
            out.append(evolve(d, completion=Completion(_learner(d, people.get(d.learner_id)),
                                                       content, event)))
        return out


def _learner(delivery: Delivery, row) -> LearnerIdentity:
    email = (row.email or None) if row else None
    username = (row.username or None) if row else None
    # Deliveries planned before identities were read at delivery time carry the identity
    # in ``lms_user_id``: used only where the learners table has none.
    legacy = delivery.lms_user_id if delivery.lms_user_id != delivery.learner_id else None
    if legacy and "@" in legacy and email is None:
        email = legacy
    elif legacy and username is None and "@" not in legacy:
        username = legacy
    return LearnerIdentity(delivery.learner_id, email=email, username=username,
                           name=row.name if row else None)
