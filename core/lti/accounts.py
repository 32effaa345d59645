"""Account linking on first SSO: an LMS user (issuer + sub) becomes a learner of that tenant.

An LMS account is linked to an existing learner by email only when the tenant trusts its
LMS's emails (institution-managed accounts), and only to a learner the tenant may claim:
one its own SSO created, or one the provider reported in a program the tenant activated and
no tenant has claimed yet. A learner of another tenant is never reached, whatever email a
launch claims. A second LMS account claiming the email of a learner already linked in the
same tenant is refused (``AccountConflict``) rather than silently taking it over. Otherwise a
learner is created from the launch's name and email (or with no personal data at all when
the platform sends none, or its emails are not trusted). Later launches follow the link.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.store.schema import (
    account_links,
    activations,
    course_progress,
    courses,
    grades,
    learners,
)

MAX_EMAIL = 320


class AccountConflict(LaunchError):
    """The launch's email belongs to a learner already linked to another LMS account of the
    same tenant. ``learner_id`` and ``email`` are for support, not for the page."""

    def __init__(self, learner_id: str, email: str):
        super().__init__(
            "account_conflict",
            "your LMS account's email is already linked to another LMS account at this "
            "institution, so it was not linked to this one; ask your institution's support "
            "to check your account", 409)
        self.learner_id, self.email = learner_id, email


def linked_learner(conn: Connection, tenant_id: int, issuer: str, sub: str) -> str | None:
    return conn.execute(select(account_links.c.learner_id).where(
        account_links.c.tenant_id == tenant_id, account_links.c.issuer == issuer,
        account_links.c.sub == sub)).scalar()


def clean_email(email: str | None) -> str | None:
    email = email.strip() if email else None
    return email if email and len(email) <= MAX_EMAIL and "@" in email else None


def link_account(conn: Connection, tenant_id: int, issuer: str, sub: str, *,
                 name: str | None, email: str | None, now: datetime,
                 trust_email: bool = True) -> tuple[str, bool]:
    """The learner for (issuer, sub), linking or creating one; ``(learner_id, new_link)``.

    Runs in the caller's transaction; a concurrent first launch of the same user fails the
    unique key of account_links, and the caller retries (then finds the link). Raises
    AccountConflict (nothing written) when the email is another account's in this tenant.
    """
    found = linked_learner(conn, tenant_id, issuer, sub)
    if found is not None:
        return found, False
    email = clean_email(email) if trust_email else None
    learner_id = _claimable(conn, tenant_id, email) if email else None
    if learner_id is None:
        learner_id = "lti-" + secrets.token_hex(12)
        conn.execute(learners.insert().values(id=learner_id, email=email, name=name,
                                              tenant_id=tenant_id, created_at=now))
    else:
        conn.execute(update(learners).where(learners.c.id == learner_id,
                                            learners.c.tenant_id.is_(None))
                     .values(tenant_id=tenant_id))
    conn.execute(account_links.insert().values(tenant_id=tenant_id, issuer=issuer, sub=sub,
                                               learner_id=learner_id, linked_at=now))
    return learner_id, True


def _claimable(conn: Connection, tenant_id: int, email: str) -> str | None:
    """The learner with ``email`` this tenant may link to, or None to create one."""
    same = func.lower(learners.c.email) == email.lower()
    ours = conn.execute(select(learners.c.id).where(same, learners.c.tenant_id == tenant_id)
                        .order_by(learners.c.created_at, learners.c.id).limit(1)).scalar()
    if ours is not None:
        # Every learner of the tenant is linked to an LMS account already (links are made
        # with the learner), so this email is taken by another account.
        if conn.execute(select(account_links.c.id).where(
                account_links.c.tenant_id == tenant_id,
                account_links.c.learner_id == ours)).first():
            raise AccountConflict(ours, email)
        return ours
    return conn.execute(
        select(learners.c.id).where(same, learners.c.tenant_id.is_(None),
                                    or_(_reported_in(grades, tenant_id),
                                        _reported_in(course_progress, tenant_id)))
        .order_by(learners.c.created_at, learners.c.id).limit(1)).scalar()


def _reported_in(table, tenant_id: int):
    """The provider reported the learner in a course of a program the tenant activated."""
    return exists().where(
        table.c.learner_id == learners.c.id, courses.c.id == table.c.course_id,
        activations.c.program_id == courses.c.program_id,
        and_(activations.c.tenant_id == tenant_id))
