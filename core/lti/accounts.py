"""Account linking on first SSO: an LMS user (issuer + sub) becomes a provider learner.

The seed: "the user can create a connection for their current account or create a new one
associated with their LMS email during the first SSO". An existing learner with the launch's
email is linked; otherwise a learner is created from the launch's name and email (or with no
personal data at all when the platform sends none). Later launches follow the link.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, func, select

from lmsbridge.core.store.schema import account_links, learners

MAX_EMAIL = 320


def linked_learner(conn: Connection, tenant_id: int, issuer: str, sub: str) -> str | None:
    return conn.execute(select(account_links.c.learner_id).where(
        account_links.c.tenant_id == tenant_id, account_links.c.issuer == issuer,
        account_links.c.sub == sub)).scalar()


def link_account(conn: Connection, tenant_id: int, issuer: str, sub: str, *,
                 name: str | None, email: str | None, now: datetime) -> tuple[str, bool]:
    """The learner for (issuer, sub), linking or creating one; ``(learner_id, new_link)``.

    Runs in the caller's transaction; a concurrent first launch of the same user fails the
    unique key of account_links, and the caller retries (then finds the link).
    """
    found = linked_learner(conn, tenant_id, issuer, sub)
    if found is not None:
        return found, False
    email = email.strip() if email and len(email) <= MAX_EMAIL and "@" in email else None
    learner_id = None
    if email:
        learner_id = conn.execute(
            select(learners.c.id).where(func.lower(learners.c.email) == email.lower())
            .order_by(learners.c.created_at, learners.c.id).limit(1)).scalar()
    if learner_id is None:
        learner_id = "lti-" + secrets.token_hex(12)
        conn.execute(learners.insert().values(id=learner_id, email=email, name=name,
                                              created_at=now))
    conn.execute(account_links.insert().values(tenant_id=tenant_id, issuer=issuer, sub=sub,
                                               learner_id=learner_id, linked_at=now))
    return learner_id, True
