"""Option A, ``item``: a link and a gradebook column per gradable item.

Columns: one per live item link (``item:<id>``), bound to that link. Cells: a learner's item
grade goes to the link's column once that learner launched that link; with
``grade_sync_without_sso``, once anyone in the context launched it and the learner launched
any link of the same program in that context.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, select

from lmsbridge.core import keys
from lmsbridge.core.model import GradeSync
from lmsbridge.core.store.grade_options.common import (
    cell,
    column,
    launched,
    launched_through,
    live_links,
)
from lmsbridge.core.store.schema import grades, items


def _links(tenant_id: int):
    return live_links(tenant_id, GradeSync.ITEM, item_links=True)


def columns(tenant_id: int) -> Select:
    links = _links(tenant_id)
    return (column(links.c.context_id, keys.item_sql(links.c.item_id), items.c.name,
                   items.c.max_score, links.c.resource_link_id)
            .select_from(links)
            .join(items, and_(items.c.course_id == links.c.course_id,
                              items.c.id == links.c.item_id)))


def cells(tenant_id: int, without_sso: bool) -> Select:
    links = _links(tenant_id)
    done = launched(tenant_id)
    if not without_sso:
        return (cell(links.c.context_id, keys.item_sql(links.c.item_id), done.c.learner_id,
                     done.c.sub)
                .select_from(links)
                .join(done, and_(done.c.context_id == links.c.context_id,
                                 done.c.resource_link_id == links.c.resource_link_id))
                .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                                   grades.c.course_id == links.c.course_id,
                                   grades.c.item_id == links.c.item_id)))
    # Learners of the program in the context: launched any of its links there.
    program_links = _links(tenant_id).alias("plinks")
    members = (select(done.c.context_id, program_links.c.program_id, done.c.learner_id,
                      done.c.sub)
               .join(program_links, and_(program_links.c.context_id == done.c.context_id,
                                         program_links.c.resource_link_id
                                         == done.c.resource_link_id))
               .distinct().subquery("members"))
    return (cell(links.c.context_id, keys.item_sql(links.c.item_id), members.c.learner_id,
                 members.c.sub)
            .select_from(links)
            .join(members, and_(members.c.context_id == links.c.context_id,
                                members.c.program_id == links.c.program_id))
            .join(grades, and_(grades.c.learner_id == members.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id == links.c.item_id))
            .where(launched_through(tenant_id, links)))
