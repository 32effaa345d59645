"""What the grade-sync options share: live links, launches and the shape of their rows."""

from __future__ import annotations

from sqlalchemy import Select, exists, null, select
from sqlalchemy.sql import Subquery

from lmsbridge.core import keys
from lmsbridge.core.model import GradeSync
from lmsbridge.core.store.schema import grades, launches, published_links


def is_bound():
    """A deep-linked link is ``dl:<ref>`` until its first launch tells us the platform's
    resource link id: until then it has no column and no grades."""
    return keys.bound_sql(published_links.c.resource_link_id)


def live_links(tenant_id: int, option: GradeSync, *, item_links: bool) -> Subquery:
    pl = published_links
    return (select(pl.c.context_id, pl.c.resource_link_id, pl.c.program_id, pl.c.course_id,
                   pl.c.item_id)
            .where(pl.c.tenant_id == tenant_id, pl.c.grade_sync == option.value,
                   pl.c.retired.is_(False), pl.c.needs_republish.is_(False), is_bound(),
                   pl.c.item_id.is_not(None) if item_links else pl.c.item_id.is_(None))
            .subquery("links"))


def launched(tenant_id: int) -> Subquery:
    return (select(launches.c.context_id, launches.c.resource_link_id, launches.c.learner_id,
                   launches.c.sub)
            .where(launches.c.tenant_id == tenant_id).distinct().subquery("launched"))


def launched_through(tenant_id: int, links: Subquery):
    """Someone launched the link."""
    return exists().where(launches.c.tenant_id == tenant_id,
                          launches.c.context_id == links.c.context_id,
                          launches.c.resource_link_id == links.c.resource_link_id)


def column(context_id, column_key, label, score_maximum, resource_link_id=None) -> Select:
    return select(context_id.label("context_id"), column_key.label("column_key"),
                  label.label("label"), score_maximum.label("score_maximum"),
                  (null() if resource_link_id is None else resource_link_id)
                  .label("resource_link_id"))


def cell(context_id, column_key, learner_id, sub) -> Select:
    return select(context_id.label("context_id"), column_key.label("column_key"),
                  learner_id.label("learner_id"), sub.label("lms_user_id"),
                  grades.c.score, grades.c.max_score, grades.c.revision, grades.c.updated_at,
                  null().label("started_at"))  # a gradebook has no use for it
