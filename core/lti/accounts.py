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

from sqlalchemy import Connection

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.store.accounts import Accounts

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


def clean_email(email: str | None) -> str | None:
    email = email.strip() if email else None
    return email if email and len(email) <= MAX_EMAIL and "@" in email else None


def link_account(accounts: Accounts, conn: Connection, tenant_id: int, issuer: str, sub: str,
                 *, name: str | None, email: str | None, now: datetime,
                 trust_email: bool = True) -> tuple[str, bool]:
    """The learner for (issuer, sub), linking or creating one; ``(learner_id, new_link)``.

    Runs in the caller's transaction; a concurrent first launch of the same user fails the
    unique key of account_links, and the caller retries (then finds the link). Raises
    AccountConflict (nothing written) when the email is another account's in this tenant.
    """
    found = accounts.linked_learner(conn, tenant_id, issuer, sub)
    if found is not None:
        return found, False
    email = clean_email(email) if trust_email else None
    learner_id = _claimable(accounts, conn, tenant_id, email) if email else None
    if learner_id is None:
        learner_id = "lti-" + secrets.token_hex(12)
        accounts.create_learner(conn, learner_id, tenant_id, email=email, name=name, now=now)
    else:
        accounts.claim(conn, learner_id, tenant_id)
    accounts.link(conn, tenant_id, issuer, sub, learner_id, now)
    return learner_id, True


def _claimable(accounts: Accounts, conn: Connection, tenant_id: int, email: str) -> str | None:
    """The learner with ``email`` this tenant may link to, or None to create one."""
    ours = accounts.tenant_learner(conn, tenant_id, email)
    if ours is not None:
        # Every learner of the tenant is linked to an LMS account already (links are made
        # with the learner), so this email is taken by another account.
        if accounts.is_linked(conn, tenant_id, ours):
            raise AccountConflict(ours, email)
        return ours
    return accounts.unclaimed_reported_learner(conn, tenant_id, email)
