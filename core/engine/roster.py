"""Roster check: learners enrolled in an LMS course who never came through SSO.

"A student doesn't appear": for every context with a live published link, read the
platform's roster and list active learners with no launch and no account link.
"""

from __future__ import annotations

from attrs import define, field

from lmsbridge.core.engine.scope import TenantScope
from lmsbridge.core.errors import AdapterError
from lmsbridge.core.model import MemberStatus


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


def check(scope: TenantScope) -> RosterResult:
    result = RosterResult()
    context_ids = scope.store.roster.published_contexts(scope.id)
    known = scope.store.roster.known_users(scope.id)
    for context_id in context_ids:
        context = scope.store.contexts.get(scope.ref, context_id)
        try:
            members = list(scope.registry.read_roster(scope.tenant, context, scope.runtime))
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
