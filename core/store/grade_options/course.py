"""Option B, ``course``: one link per course; its items' columns appear after the first SSO.

Columns: after the first launch through a course link, one per gradable live item of the
course (``item:<id>``) — not before. Cells: the launching learners' grades of those items.
"""

from __future__ import annotations

from sqlalchemy import Select, and_

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
    return live_links(tenant_id, GradeSync.COURSE, item_links=False)


def _gradable():
    return and_(items.c.gradable.is_(True), items.c.retired.is_(False))


def columns(tenant_id: int) -> Select:
    links = _links(tenant_id)
    return (column(links.c.context_id, keys.item_sql(items.c.id), items.c.name,
                   items.c.max_score)
            .select_from(links)
            .join(items, items.c.course_id == links.c.course_id)
            .where(launched_through(tenant_id, links), _gradable())
            .distinct())


def cells(tenant_id: int, without_sso: bool = False) -> Select:
    """``without_sso`` is an Option A setting: it changes nothing here."""
    links = _links(tenant_id)
    done = launched(tenant_id)
    return (cell(links.c.context_id, keys.item_sql(grades.c.item_id), done.c.learner_id,
                 done.c.sub)
            .select_from(links)
            .join(done, and_(done.c.context_id == links.c.context_id,
                             done.c.resource_link_id == links.c.resource_link_id))
            .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id != keys.FINAL_ITEM))
            .join(items, and_(items.c.course_id == grades.c.course_id,
                              items.c.id == grades.c.item_id, _gradable())))
