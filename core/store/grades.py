"""Provider progress into ``grades`` (with revisions) and ``course_progress``, under our
learner ids.

A grade's revision grows only when its score changes, so planning can tell "new or changed
since the last confirmed delivery" by comparing revisions. When a learner started and
completed each course goes to ``course_progress`` (learning platforms report those).

Provider learners become lmsbridge learners (:func:`resolve`), so grades meet the launches
of the same person. A learner who came through SSO first was linked or created by email (an
LMS that manages its users' emails); the provider then reports them under its own user id.
Grades are stored under our learner id: the provider id when we know it, else the learner
holding the same email — a provider-reported one, or one created by the SSO of a tenant of
this provider that activated a program the provider reports the learner in — else a new
learner with the provider's id and email (a later first SSO with that email links to it).
When tenants of more than one institution hold a learner with that email, none is chosen:
grades never follow an email claimed through another institution's LMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, func, select, tuple_
from sqlalchemy.engine import Connection

from lmsbridge.core import keys
from lmsbridge.core.model import Progress, Provider
from lmsbridge.core.store.schema import (
    activations,
    course_progress,
    courses,
    grades,
    learners,
    now,
    providers,
    tenants,
)
from lmsbridge.core.store.sqlutil import insert_ignoring_conflicts


class Grades:
    def __init__(self, engine: Engine):
        self.engine = engine

    def store_batch(self, batch: Iterable[Progress],
                    provider: Provider | None = None) -> tuple[int, int]:
        """Store a batch of progress in one transaction; (new grades, changed grades)."""
        batch = list(batch)
        key = tuple_(grades.c.learner_id, grades.c.course_id, grades.c.item_id)
        with self.engine.begin() as conn:
            ours = resolve(conn, batch, provider)
            _store_course_progress(conn, batch, ours)
            latest: dict[tuple[str, str, str], Progress] = {}
            for p in batch:  # the last word on a cell within a batch wins
                if p.score is not None:
                    latest[(ours[p.learner_id], p.course_id, p.item_id or keys.FINAL_ITEM)] = p
            existing = {(r.learner_id, r.course_id, r.item_id): r for r in conn.execute(
                select(grades.c.learner_id, grades.c.course_id, grades.c.item_id,
                       grades.c.score, grades.c.max_score, grades.c.revision)
                .where(key.in_(list(latest))))}
            inserts, updates = [], []
            for cell, p in latest.items():
                row = existing.get(cell)
                values = {"learner_id": cell[0], "course_id": cell[1], "item_id": cell[2],
                          # A score above its maximum would be refused by every platform.
                          "score": min(p.score, p.max_score), "max_score": p.max_score,
                          "updated_at": p.updated_at}
                if row is None:
                    inserts.append({**values, "revision": 1})
                elif (row.score, row.max_score) != (values["score"], values["max_score"]):
                    updates.append({**values, "revision": row.revision + 1})
            if inserts:
                conn.execute(grades.insert(), inserts)
            for values in updates:
                conn.execute(grades.update().where(
                    (grades.c.learner_id == values["learner_id"])
                    & (grades.c.course_id == values["course_id"])
                    & (grades.c.item_id == values["item_id"])).values(**values))
        return len(inserts), len(updates)


def _store_course_progress(conn: Connection, batch: list[Progress],
                           ours: dict[str, str]) -> None:
    """Earliest start and latest completion per (learner, course). Activity without a start
    time counts as started at that activity: the learner had certainly begun by then."""
    seen: dict[tuple[str, str], dict] = {}
    for p in batch:
        cell = (ours[p.learner_id], p.course_id)
        row = seen.setdefault(cell, {"learner_id": cell[0], "course_id": cell[1],
                                     "started_at": None, "completed_at": None,
                                     "updated_at": p.updated_at})
        row["started_at"] = _earliest(row["started_at"], p.started_at or p.updated_at)
        row["completed_at"] = _latest(row["completed_at"], p.completed_at)
        row["updated_at"] = _latest(row["updated_at"], p.updated_at)
    if not seen:
        return
    cp = course_progress
    key = tuple_(cp.c.learner_id, cp.c.course_id)
    existing = {(r.learner_id, r.course_id): r for r in conn.execute(
        select(cp).where(key.in_(list(seen))))}
    for cell, row in seen.items():
        had = existing.get(cell)
        if had is None:
            conn.execute(cp.insert().values(**row))
            continue
        values = {"started_at": _earliest(had.started_at, row["started_at"]),
                  "completed_at": _latest(had.completed_at, row["completed_at"]),
                  "updated_at": _latest(had.updated_at, row["updated_at"])}
        if values != {k: getattr(had, k) for k in values}:
            conn.execute(cp.update().where(cp.c.id == had.id).values(**values))


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


# --- learners -----------------------------------------------------------------------------


def resolve(conn: Connection, batch: Iterable[Progress],
            provider: Provider | None = None) -> dict[str, str]:
    """provider user id -> our learner id, creating the learners we never saw."""
    batch = list(batch)
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
        mapping.update(_by_email(conn, batch, unknown, provider))
    new = [{"id": i, "email": emails[i], "created_at": now()} for i in ids if i not in mapping]
    if new:
        conn.execute(insert_ignoring_conflicts(conn, learners, ["id"]), new)
        mapping.update({row["id"]: row["id"] for row in new})
    return mapping


def _by_email(conn: Connection, batch: list[Progress], unknown: dict[str, str],
              provider: Provider | None) -> dict[str, str]:
    rows = conn.execute(select(learners.c.id, learners.c.tenant_id,
                               func.lower(learners.c.email).label("email"))
                        .where(func.lower(learners.c.email).in_(set(unknown.values())))
                        .order_by(learners.c.created_at, learners.c.id)).all()
    if not rows:
        return {}
    eligible = _tenant_programs(conn, {r.tenant_id for r in rows} - {None}, provider)
    program_of = dict(conn.execute(select(courses.c.id, courses.c.program_id).where(
        courses.c.id.in_({p.course_id for p in batch if p.learner_id in unknown}))).all())
    reported: dict[str, set[str]] = {}
    for p in batch:
        if p.learner_id in unknown and p.course_id in program_of:
            reported.setdefault(p.learner_id, set()).add(program_of[p.course_id])
    mapping = {}
    for pid, email in unknown.items():
        found = [r for r in rows if r.email == email and (
            r.tenant_id is None or eligible.get(r.tenant_id, set()) & reported.get(pid, set()))]
        if len({r.tenant_id for r in found}) == 1:
            mapping[pid] = found[0].id
    return mapping


def _tenant_programs(conn: Connection, tenant_ids: set[int],
                     provider: Provider | None) -> dict[int, set[str]]:
    """Programs activated by each of ``tenant_ids`` that belongs to ``provider`` (or to none)."""
    if not tenant_ids:
        return {}
    query = (select(activations.c.tenant_id, activations.c.program_id)
             .join(tenants, tenants.c.id == activations.c.tenant_id)
             .outerjoin(providers, providers.c.id == tenants.c.provider_id)
             .where(activations.c.tenant_id.in_(tenant_ids)))
    if provider is not None:
        query = query.where(providers.c.name.is_(None) | (providers.c.name == provider.name))
    out: dict[int, set[str]] = {}
    for row in conn.execute(query):
        out.setdefault(row.tenant_id, set()).add(row.program_id)
    return out
