"""Provider learners as lmsbridge learners, so grades meet the launches of the same person.

A learner who came through SSO first was linked or created by email (an LMS that manages its
users' emails); the provider then reports them under its own user id. Grades are stored
under our learner id: the provider id when we know it, else the learner holding the same
email — a provider-reported one, or one created by the SSO of a tenant of this provider that
activated a program the provider reports the learner in — else a new learner with the
provider's id and email (a later first SSO with that email links to it). When tenants of
more than one institution hold a learner with that email, none is chosen: grades never
follow an email claimed through another institution's LMS.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lmsbridge.core.engine.sqlutil import insert_ignoring_conflicts
from lmsbridge.core.model import Progress, Provider
from lmsbridge.core.store.schema import activations, courses, learners, now, providers, tenants


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
