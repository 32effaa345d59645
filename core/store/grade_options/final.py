"""``final``: one column per course link, holding the course's final grade.

Columns: one per live course link (``course:<id>``), bound to that link, out of 1. Cells: the
final grade of each learner who launched the link.
"""

from __future__ import annotations

from sqlalchemy import Float, Select, and_, literal

from lmsbridge.core import keys
from lmsbridge.core.model import GradeSync
from lmsbridge.core.store.grade_options.common import cell, column, launched, live_links
from lmsbridge.core.store.schema import courses, grades

SCORE_MAXIMUM = 1.0


def _links(tenant_id: int):
    return live_links(tenant_id, GradeSync.FINAL, item_links=False)


def columns(tenant_id: int) -> Select:
    links = _links(tenant_id)
    return (column(links.c.context_id, keys.course_sql(links.c.course_id), courses.c.name,
                   literal(SCORE_MAXIMUM, Float), links.c.resource_link_id)
            .select_from(links)
            .join(courses, and_(courses.c.program_id == links.c.program_id,
                                courses.c.id == links.c.course_id)))


def cells(tenant_id: int, without_sso: bool = False) -> Select:
    """``without_sso`` is an Option A setting: it changes nothing here."""
    links = _links(tenant_id)
    done = launched(tenant_id)
    return (cell(links.c.context_id, keys.course_sql(links.c.course_id), done.c.learner_id,
                 done.c.sub)
            .select_from(links)
            .join(done, and_(done.c.context_id == links.c.context_id,
                             done.c.resource_link_id == links.c.resource_link_id))
            .join(grades, and_(grades.c.learner_id == done.c.learner_id,
                               grades.c.course_id == links.c.course_id,
                               grades.c.item_id == keys.FINAL_ITEM)))
