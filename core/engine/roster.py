"""Roster check: learners enrolled in an LMS course who never came through SSO.

The seed's "student doesn't appear": for every context with a live published link, read the
platform's roster and list active learners with no launch and no account link.
"""

from __future__ import annotations

from attrs import define, field
from sqlalchemy import select

from lmsbridge.core.engine.contexts import load_context
from lmsbridge.core.engine.eligibility import is_bound
from lmsbridge.core.errors import AdapterError
from lmsbridge.core.model import MemberStatus, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import account_links, launches, published_links


@define
class RosterResult:
    contexts: int = 0
    learners: int = 0
    # context_id -> members (user id, with email where the platform gave it)
    without_sso: dict[str, list[str]] = field(factory=dict)
    errors: list[str] = field(factory=list)
    skipped: str | None = None  # why no roster was read

    @property
    def without_sso_count(self) -> int:
        return sum(len(v) for v in self.without_sso.values())


def is_learner(roles) -> bool:
    return any(r.rsplit("#", 1)[-1].rsplit("/", 1)[-1] in ("Learner", "Student")
               for r in roles)


def check(store: Store, registry: Registry, runtime: Runtime, tenant: Tenant) -> RosterResult:
    result = RosterResult()
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        context_ids = sorted(set(conn.execute(
            select(published_links.c.context_id).where(published_links.c.tenant_id == tid,
                                                       published_links.c.retired.is_(False),
                                                       is_bound())
        ).scalars()))
        known = set(conn.execute(select(account_links.c.sub).where(
            account_links.c.tenant_id == tid)).scalars())
        known |= set(conn.execute(select(launches.c.sub).where(
            launches.c.tenant_id == tid)).scalars())
    for context_id in context_ids:
        context = load_context(store, tenant, context_id)
        try:
            members = list(registry.read_roster(tenant, context, runtime))
        except AdapterError as exc:
            result.skipped = str(exc)
            return result
        except Exception as exc:  # one course shell failing must not stop the others
            result.errors.append(f"roster of {context_id}: {type(exc).__name__}: {exc}")
            continue
        result.contexts += 1
        learners = [m for m in members
                    if m.status == MemberStatus.ACTIVE and is_learner(m.roles)]
        result.learners += len(learners)
        missing = [m.email or m.user_id for m in learners if m.user_id not in known]
        if missing:
            result.without_sso[context_id] = sorted(missing)
    return result
