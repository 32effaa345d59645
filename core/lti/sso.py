"""What a validated resource-link launch does: link the account, take a license, record the
launch and its context, and say where to send the learner.

All of it is one transaction: a launch refused here (unrouted link, program not activated,
no seat left, an email already linked to another account) leaves nothing behind but, for
the last, an audit row for support. A first launch racing another first launch of the same
user loses on a unique key and is retried once, then follows the link the winner made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from attrs import frozen
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.audit import AuditRecord
from lmsbridge.core.lti.accounts import AccountConflict, link_account
from lmsbridge.core.lti.claims import LaunchClaims
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.launch import ValidatedLaunch
from lmsbridge.core.lti.routing import LINK_REF, PENDING, Target, destination, route
from lmsbridge.core.store import Store

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@frozen
class SsoResult:
    tenant: str
    learner_id: str
    target: Target
    redirect_url: str | None  # None: a program link; show its courses
    new_link: bool
    new_license: bool


def complete_sso(store: Store, launch: ValidatedLaunch,
                 clock: Callable[[], datetime] = _utcnow) -> SsoResult:
    claims, reg = launch.claims, launch.registration
    if claims.sub is None or claims.resource_link_id is None:
        raise LaunchError("sub_missing", "single sign-on needs a user (sub)", 400)
    for attempt in (1, 2):
        try:
            return _complete(store, reg.tenant, claims, clock())
        except IntegrityError:
            if attempt == 2:
                raise
        except AccountConflict as exc:
            _record_conflict(store, reg.tenant, claims, exc)
            raise
    raise AssertionError("unreachable")


def _record_conflict(store: Store, tenant: str, claims: LaunchClaims,
                     exc: AccountConflict) -> None:
    """Support sees the refused link in the audit trail: which LMS account asked for which
    learner. Written after the launch's transaction rolled back."""
    try:
        store.record_audit(AuditRecord(
            tenant, None, "sso.account_conflict", 0.0, "refused", exc.rule,
            actor=f"lti:{claims.iss}#{claims.sub}",
            detail={"issuer": claims.iss, "sub": claims.sub, "learner_id": exc.learner_id}))
    except Exception as error:  # the refusal stands; the page must not fail for the record
        log.warning("could not record the account conflict in tenant %s: %s", tenant,
                    type(error).__name__)


def _complete(store: Store, tenant: str, claims: LaunchClaims, moment: datetime) -> SsoResult:
    assert claims.sub is not None and claims.resource_link_id is not None
    with store.transaction() as conn:
        trow = store.launches.tenant(conn, tenant)
        tid = trow.id
        target = route(store.links, conn, tid, claims.custom, claims.context_id,
                       claims.resource_link_id, claims.target_link_uri)
        dest = destination(store.links, conn, target, trow.grade_sync)
        name = claims.name or " ".join(n for n in (claims.given_name, claims.family_name) if n)
        learner_id, new_link = link_account(store.accounts, conn, tid, claims.iss, claims.sub,
                                            name=name or None, email=claims.email, now=moment,
                                            trust_email=trow.trust_lms_email)
        new_license = store.licenses.take(conn, tid, target.program_id, learner_id, moment)
        if claims.context_id is not None:
            _upsert_context(store, conn, tid, claims)
            _bind_published_link(store, conn, tid, claims)
        store.launches.record(
            conn, tid, context_id=claims.context_id, resource_link_id=claims.resource_link_id,
            issuer=claims.iss, sub=claims.sub, learner_id=learner_id,
            program_id=target.program_id, course_id=target.course_id, item_id=target.item_id,
            roles=claims.roles, launched_at=moment)
    return SsoResult(tenant, learner_id, target, dest.url, new_link, new_license)


def _upsert_context(store: Store, conn: Connection, tid: int, claims: LaunchClaims) -> None:
    assert claims.context_id is not None
    ags, nrps = claims.ags, claims.nrps
    # Endpoints this launch omits (e.g. a role without AGS access) keep the values a platform
    # sent before; new ones overwrite them.
    store.launches.upsert_context(
        conn, tid, claims.context_id, title=claims.context_title,
        lineitems_url=(ags.lineitems or None) if ags is not None else None,
        memberships_url=nrps.context_memberships_url if nrps is not None else None)


def _bind_published_link(store: Store, conn: Connection, tid: int, claims: LaunchClaims) -> None:
    """A deep-linked item learns the platform's resource link id at its first launch."""
    assert claims.context_id is not None and claims.resource_link_id is not None
    ref = claims.custom.get(LINK_REF)
    if not isinstance(ref, str) or not ref:
        return
    store.links.bind(conn, tid, claims.context_id, claims.resource_link_id, PENDING + ref)


def program_courses(store: Store, program_id: str) -> list[tuple[str, str | None]]:
    return store.links.course_homes(program_id)
