"""Which gradebook cells a tenant's grade-sync option fills, as SQL.

One query per option yields (context_id, column_key, learner_id, lms_user_id, score,
max_score, revision, updated_at, started_at) for every cell the option says should hold a
grade:

- ``item`` (Option A): a learner's item grade goes to the item link's column once that
  learner launched that link; with ``grade_sync_without_sso``, once anyone in the context
  launched it and the learner launched any link of the same program in that context.
- ``course`` (Option B): after a launch through a course link, every gradable item of the
  course has a column; the launching learners' item grades fill them.
- ``final``: one column per course link, holding the course's final grade.

Links of another option than the tenant's (e.g. before republishing) and retired links get
nothing.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, literal, null, select
from sqlalchemy.sql import Subquery

from lmsbridge.core.lti.routing import PENDING
from lmsbridge.core.model import GradeSync, Tenant
from lmsbridge.core.store.schema import grades, items, launches, published_links

FINAL_ITEM = ""  # grades.item_id of a course's final grade


def item_key(item_id) -> object:
    return literal("item:").concat(item_id)


def course_key(course_id) -> object:
    return literal("course:").concat(course_id)


def live_links(tenant_id: int, option: GradeSync, *, item_links: bool) -> Subquery:
    pl = published_links
    return (select(pl.c.context_id, pl.c.resource_link_id, pl.c.program_id, pl.c.course_id,
                   pl.c.item_id)
            .where(pl.c.tenant_id == tenant_id, pl.c.grade_sync == option.value,
                   pl.c.retired.is_(False), pl.c.needs_republish.is_(False), is_bound(),
                   pl.c.item_id.is_not(None) if item_links else pl.c.item_id.is_(None))
            .subquery("links"))


def is_bound():
    """A deep-linked link is ``dl:<ref>`` until its first launch tells us the platform's
    resource link id: until then it has no column and no grades."""
    return published_links.c.resource_link_id.not_like(PENDING + "%")


def launched(tenant_id: int) -> Subquery:
    return (select(launches.c.context_id, launches.c.resource_link_id, launches.c.learner_id,
                   launches.c.sub)
            .where(launches.c.tenant_id == tenant_id).distinct().subquery("launched"))


def cells(tenant: Tenant, tenant_id: int) -> Select:
    option = tenant.grade_sync
    if option == GradeSync.ITEM:
        return _item_cells(tenant_id, tenant.grade_sync_without_sso)
    if option == GradeSync.COURSE:
        return _course_cells(tenant_id)
    return _final_cells(tenant_id)


def _select(context_id, column_key, learner_id, sub) -> Select:
    return select(context_id.label("context_id"), column_key.label("column_key"),
                  learner_id.label("learner_id"), sub.label("lms_user_id"),
                  grades.c.score, grades.c.max_score, grades.c.revision, grades.c.updated_at,
                  null().label("started_at"))  # a gradebook has no use for it


def _item_cells(tenant_id: int, without_sso: bool) -> Select:
    links = live_links(tenant_id, GradeSync.ITEM, item_links=True)
    done = launched(tenant_id)
    if not without_sso:
        return (_select(links.c.context_id, item_key(links.c.item_id), done.c.learner_id,
                        done.c.sub)
                .select_from(links)
                .join(done, and_(done.c.context_id == links.c.context_id,
                                 done.c.resource_link_id == links.c.resource_link_id))
                .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                                   grades.c.course_id == links.c.course_id,
                                   grades.c.item_id == links.c.item_id)))
    # Learners of the program in the context: launched any of its links there.
    program_links = live_links(tenant_id, GradeSync.ITEM, item_links=True).alias("plinks")
    members = (select(done.c.context_id, program_links.c.program_id, done.c.learner_id,
                      done.c.sub)
               .join(program_links, and_(program_links.c.context_id == done.c.context_id,
                                         program_links.c.resource_link_id
                                         == done.c.resource_link_id))
               .distinct().subquery("members"))
    any_launch = launched(tenant_id).alias("any_launch")
    connected = exists().where(any_launch.c.context_id == links.c.context_id,
                               any_launch.c.resource_link_id == links.c.resource_link_id)
    return (_select(links.c.context_id, item_key(links.c.item_id), members.c.learner_id,
                    members.c.sub)
            .select_from(links)
            .join(members, and_(members.c.context_id == links.c.context_id,
                                members.c.program_id == links.c.program_id))
            .join(grades, and_(grades.c.learner_id == members.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id == links.c.item_id))
            .where(connected))


def _course_cells(tenant_id: int) -> Select:
    links = live_links(tenant_id, GradeSync.COURSE, item_links=False)
    done = launched(tenant_id)
    return (_select(links.c.context_id, item_key(grades.c.item_id), done.c.learner_id,
                    done.c.sub)
            .select_from(links)
            .join(done, and_(done.c.context_id == links.c.context_id,
                             done.c.resource_link_id == links.c.resource_link_id))
            .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id != FINAL_ITEM))
            .join(items, and_(items.c.course_id == grades.c.course_id,
                              items.c.id == grades.c.item_id, items.c.gradable.is_(True),
                              items.c.retired.is_(False))))


def _final_cells(tenant_id: int) -> Select:
    links = live_links(tenant_id, GradeSync.FINAL, item_links=False)
    done = launched(tenant_id)
    return (_select(links.c.context_id, course_key(links.c.course_id), done.c.learner_id,
                    done.c.sub)
            .select_from(links)
            .join(done, and_(done.c.context_id == links.c.context_id,
                             done.c.resource_link_id == links.c.resource_link_id))
            .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id == FINAL_ITEM)))
