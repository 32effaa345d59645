"""Provider learners as lmsbridge learners, so grades meet the launches of the same person.

A learner who came through SSO first was linked or created by email (the seed: "a new
account associated with their LMS email"); the provider then reports them under its own user
id. Grades are stored under our learner id: the provider id when we know it, else the learner
holding the same email, else a new learner with the provider's id and email (a later first
SSO with that email links to it).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lmsbridge.core.engine.sqlutil import insert_ignoring_conflicts
from lmsbridge.core.model import Progress
from lmsbridge.core.store.schema import learners, now


def resolve(conn: Connection, batch: Iterable[Progress]) -> dict[str, str]:
    """provider user id -> our learner id, creating the learners we never saw."""
    emails: dict[str, str | None] = {}
    for p in batch:
        if p.email or p.learner_id not in emails:
            emails[p.learner_id] = p.email
    ids = list(emails)
    known = dict(conn.execute(select(learners.c.id, learners.c.email)
                              .where(learners.c.id.in_(ids))).all())
    mapping = {i: i for i in known}
    for i, had in known.items():
        # A learner first reported without an email can be identified once it is known
        # (a learning platform needs it); an email we hold is never overwritten.
        if not had and emails[i] and "@" in emails[i]:
            conn.execute(learners.update().where(learners.c.id == i)
                         .values(email=emails[i].strip()))
    unknown = {i: e.strip().lower() for i, e in emails.items()
               if i not in known and e and "@" in e}
    if unknown:
        rows = conn.execute(select(learners.c.id, func.lower(learners.c.email).label("email"))
                            .where(func.lower(learners.c.email).in_(set(unknown.values())))
                            .order_by(learners.c.created_at, learners.c.id)).all()
        by_email: dict[str, str] = {}
        for row in rows:
            by_email.setdefault(row.email, row.id)
        mapping.update({i: by_email[e] for i, e in unknown.items() if e in by_email})
    new = [{"id": i, "email": emails[i], "created_at": now()} for i in ids if i not in mapping]
    if new:
        conn.execute(insert_ignoring_conflicts(conn, learners, ["id"]), new)
        mapping.update({row["id"]: row["id"] for row in new})
    return mapping
