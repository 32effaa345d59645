"""Learners created by SSO and their account links (tenant, issuer, sub → learner).

Each method is one statement in the caller's transaction; which learner a launch may link
to is decided by ``lmsbridge.core.lti.accounts.link_account`` from these answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, and_, exists, func, or_, select, update

from lmsbridge.core.store.schema import (
    account_links,
    activations,
    course_progress,
    courses,
    grades,
    learners,
)


def _reported_in(table, tenant_id: int):
    """The provider reported the learner in a course of a program the tenant activated."""
    return exists().where(
        table.c.learner_id == learners.c.id, courses.c.id == table.c.course_id,
        activations.c.program_id == courses.c.program_id,
        and_(activations.c.tenant_id == tenant_id))


def _same_email(email: str):
    return func.lower(learners.c.email) == email.lower()


class Accounts:
    def __init__(self, engine: Engine):
        self.engine = engine

    @staticmethod
    def linked_learner(conn: Connection, tenant_id: int, issuer: str, sub: str) -> str | None:
        """The learner (issuer, sub) is linked to in this tenant."""
        return conn.execute(select(account_links.c.learner_id).where(
            account_links.c.tenant_id == tenant_id, account_links.c.issuer == issuer,
            account_links.c.sub == sub)).scalar()

    @staticmethod
    def tenant_learner(conn: Connection, tenant_id: int, email: str) -> str | None:
        """The oldest learner of this tenant with ``email`` (case-insensitive)."""
        return conn.execute(select(learners.c.id).where(
            _same_email(email), learners.c.tenant_id == tenant_id)
            .order_by(learners.c.created_at, learners.c.id).limit(1)).scalar()

    @staticmethod
    def is_linked(conn: Connection, tenant_id: int, learner_id: str) -> bool:
        """Whether an LMS account of this tenant is linked to ``learner_id``."""
        return conn.execute(select(account_links.c.id).where(
            account_links.c.tenant_id == tenant_id,
            account_links.c.learner_id == learner_id)).first() is not None

    @staticmethod
    def unclaimed_reported_learner(conn: Connection, tenant_id: int,
                                   email: str) -> str | None:
        """The oldest learner with ``email`` (case-insensitive) that no tenant has claimed and
        the provider reported (a grade or course progress) in a course of a program this
        tenant activated."""
        return conn.execute(
            select(learners.c.id).where(_same_email(email), learners.c.tenant_id.is_(None),
                                        or_(_reported_in(grades, tenant_id),
                                            _reported_in(course_progress, tenant_id)))
            .order_by(learners.c.created_at, learners.c.id).limit(1)).scalar()

    @staticmethod
    def create_learner(conn: Connection, learner_id: str, tenant_id: int, *,
                       email: str | None, name: str | None, now: datetime) -> None:
        conn.execute(learners.insert().values(id=learner_id, email=email, name=name,
                                              tenant_id=tenant_id, created_at=now))

    @staticmethod
    def claim(conn: Connection, learner_id: str, tenant_id: int) -> None:
        """Make an unclaimed learner this tenant's (a learner of a tenant stays its)."""
        conn.execute(update(learners).where(learners.c.id == learner_id,
                                            learners.c.tenant_id.is_(None))
                     .values(tenant_id=tenant_id))

    @staticmethod
    def link(conn: Connection, tenant_id: int, issuer: str, sub: str, learner_id: str,
             now: datetime) -> None:
        """Link (issuer, sub) to ``learner_id``; a concurrent link of the same account fails
        the unique key (IntegrityError)."""
        conn.execute(account_links.insert().values(tenant_id=tenant_id, issuer=issuer, sub=sub,
                                                   learner_id=learner_id, linked_at=now))
