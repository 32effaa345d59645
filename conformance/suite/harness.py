"""How the suite drives an adapter: like the engine would, retrying what is transient.

The harness never sleeps: a ``retry_after`` an adapter reports is recorded and checked, not
waited for, so a run stays fast while the adapter's answers are still verified.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from attrs import define, field

from lmsbridge.conformance.suite.platform import SeedMember
from lmsbridge.core import keys
from lmsbridge.core.capabilities import AdapterKind
from lmsbridge.core.model import (
    Context,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    Outcome,
    Provider,
    Tenant,
)
from lmsbridge.core.plugins import LoadedAdapter, Registry
from lmsbridge.core.runtime import Runtime

T = TypeVar("T")

#: Calls that raise are tried again this many times before the test fails.
MAX_ATTEMPTS = 12
#: Rounds of grade writes before undelivered grades count as lost.
MAX_ROUNDS = 40
#: A fixed moment for grade timestamps, so runs are reproducible.
EPOCH = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def members(learners: int = 6, instructors: int = 1) -> list[SeedMember]:
    out = [SeedMember(f"u{n:03d}", f"Learner {n}", f"learner{n}@example.edu", ("Learner",))
           for n in range(1, learners + 1)]
    out += [SeedMember(f"t{n:03d}", f"Teacher {n}", f"teacher{n}@example.edu", ("Instructor",))
            for n in range(1, instructors + 1)]
    return out


def require(platform: object, member: str) -> Any:
    """The mock's protocol member, or a test failure naming what the mock lacks."""
    value = getattr(platform, member, None)
    if value is None:
        pytest.fail(f"the mock platform {type(platform).__name__} lacks {member!r} "
                    "(see the seeding and read-back protocol in docs/adapters.md)")
    return value


@define
class Connection:
    """One adapter, its running mock and a tenant (or provider) pointing at it."""

    registry: Registry
    adapter: LoadedAdapter
    platform: Any
    runtime: Runtime
    target: Tenant | Provider
    # The suite's store: a learning adapter's deliveries get their typed completions from
    # it, as the engine fills them when it loads due deliveries.
    store: Any = None
    errors: list[BaseException] = field(factory=list)
    retry_afters: list[float] = field(factory=list)

    @property
    def tenant(self) -> Tenant:
        assert isinstance(self.target, Tenant), "this check needs an LMS or learning adapter"
        return self.target

    def attempt(self, call: Callable[[], T]) -> T:
        """``call()`` until it returns, at most MAX_ATTEMPTS times (a transient error raised
        by a read or a column/content write means "ask again")."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return call()
            except Exception as exc:  # what an engine would log and retry
                self.errors.append(exc)
        raise AssertionError(f"still failing after {MAX_ATTEMPTS} attempts: "
                             f"{self.errors[-1]!r}") from self.errors[-1]

    # --- capability calls ----------------------------------------------------------------

    def seed(self, context_id: str, people: Sequence[SeedMember]) -> Context | None:
        return require(self.platform, "seed_context")(context_id, people)

    def ensure_columns(self, context: Context,
                       columns: Sequence[GradebookColumn]) -> list[GradebookColumn]:
        out = self.attempt(lambda: self.registry.ensure_columns(
            self.tenant, context, list(columns), self.runtime))
        assert [c.key for c in out] == [c.key for c in columns], \
            "ensure_columns must return the columns in the order given"
        assert all(c.platform_ref for c in out), "every returned column needs platform_ref"
        return out

    def write_once(self, context: Context | None,
                   deliveries: Sequence[Delivery]) -> list[DeliveryResult]:
        sent = list(deliveries)
        if self.store is not None and self.adapter.spec.kind == AdapterKind.LEARNING:
            sent = self.store.learning.completions(sent)
        results = self.registry.write_grades(self.tenant, context, sent, self.runtime)
        keys = Counter(r.dedupe_key for r in results)
        wanted = {d.dedupe_key for d in deliveries}
        assert set(keys) == wanted and all(n == 1 for n in keys.values()), \
            "write_grades must return exactly one result per delivery, by dedupe_key"
        return results

    def deliver(self, context: Context | None, deliveries: Sequence[Delivery]) -> Counter:
        """Write until every delivery is delivered; returns outcome counts over all rounds.

        Fails on REJECTED, on a result for a delivery not asked for, and when grades are
        still undelivered after MAX_ROUNDS (lost).
        """
        pending = {d.dedupe_key: d for d in deliveries}
        seen: Counter = Counter()
        for _ in range(MAX_ROUNDS):
            if not pending:
                return seen
            for result in self.write_once(context, list(pending.values())):
                seen[result.outcome] += 1
                if result.outcome is Outcome.REJECTED:
                    pytest.fail(f"a valid grade was rejected: {result.detail}")
                if result.outcome is Outcome.RETRY:
                    if result.retry_after is not None:
                        self.retry_afters.append(result.retry_after)
                    continue
                del pending[result.dedupe_key]
        raise AssertionError(f"{len(pending)} grade(s) never delivered after {MAX_ROUNDS} "
                             f"rounds of retries")


def column_set(tenant: str, context_id: str, count: int = 3) -> list[GradebookColumn]:
    return [GradebookColumn(tenant, context_id, keys.item(f"quiz-{n}"), f"Quiz {n}",
                            score_maximum=10.0 * n) for n in range(1, count + 1)]


def grade_deliveries(tenant: str, context_id: str, columns: Sequence[GradebookColumn],
                     people: Sequence[SeedMember], revision: int = 0) -> list[Delivery]:
    """A distinct, checkable score per (column, learner); later revisions are newer."""
    out = []
    learners = [m for m in people if "Learner" in m.roles]
    for c, column in enumerate(columns):
        for n, member in enumerate(learners):
            score = round((c + 1 + n * 0.5 + revision) % column.score_maximum, 2)
            out.append(Delivery(
                tenant=tenant, context_id=context_id, column_key=column.key,
                learner_id=f"learner-{member.user_id}", lms_user_id=member.user_id,
                score=score, max_score=column.score_maximum,
                timestamp=EPOCH + timedelta(minutes=revision, seconds=n),
                grade_revision=revision, column_ref=column.platform_ref))
    return out
