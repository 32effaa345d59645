"""Every key lmsbridge makes and parses, in Python and (``*_sql``) in SQL.

- gradebook column and content keys: ``item:<item id>``, ``course:<course id>`` (also a
  :class:`~lmsbridge.core.model.Publication`'s key), and ``start:course:<course id>`` for a
  learning platform's course start;
- ``dl:<ref>``: a deep-linked link's ``resource_link_id`` until its first launch tells us the
  platform's own id;
- ``FINAL_ITEM``: the ``grades.item_id`` of a course's final grade;
- outbox dedupe keys: one per (tenant, context, column, learner, grade revision).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import literal

ITEM = "item:"
COURSE = "course:"
START = "start:"
PENDING_LINK = "dl:"
FINAL_ITEM = ""


def item(item_id: str) -> str:
    return ITEM + item_id


def course(course_id: str) -> str:
    return COURSE + course_id


def start(course_id: str) -> str:
    return START + course(course_id)


def content(course_id: str, item_id: str | None = None) -> str:
    """The key of a published content: its item's when it is one, else its course's."""
    return item(item_id) if item_id else course(course_id)


def item_sql(item_id):
    """:func:`item` of a SQL column or expression."""
    return literal(ITEM).concat(item_id)


def course_sql(course_id):
    """:func:`course` of a SQL column or expression."""
    return literal(COURSE).concat(course_id)


def start_sql(course_id):
    """:func:`start` of a SQL column or expression."""
    return literal(START).concat(course_sql(course_id))


def parse_course(key: str) -> tuple[str, bool] | None:
    """``(course id, start only)`` of ``course:<id>`` or ``start:course:<id>``; None for any
    other key."""
    start_only = key.startswith(START)
    if start_only:
        key = key[len(START):]
    if key.startswith(COURSE) and len(key) > len(COURSE):
        return key[len(COURSE):], start_only
    return None


def pending_link(ref: str) -> str:
    return PENDING_LINK + ref


def bound_sql(resource_link_id):
    """SQL: the link's ``resource_link_id`` is the platform's, not a pending ``dl:`` one."""
    return resource_link_id.not_like(PENDING_LINK + "%")


def dedupe(tenant: str, context_id: str, column_key: str, learner_id: str,
           revision: int) -> str:
    """The outbox identity of one grade write: the same grade revision is sent at most once."""
    raw = "\x1f".join((tenant, context_id, column_key, learner_id, str(revision)))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
