"""The outbox (``deliveries``): grade writes planned, what is due, what platforms answered.

A confirmed write (``DELIVERED`` or ``CURRENT``) marks the delivery delivered and records in
``held_grades`` what the platform now holds, in one transaction: incremental planning reads
that, so a grade is never re-sent once confirmed and never skipped before.

``RETRY`` keeps the delivery pending, due again after a backoff. ``REJECTED`` marks it failed
with ``last_error`` starting ``rejected: ``: refused for good, never re-sent as it is. When a
run starts delivering, :meth:`Outbox.reopen` drops failed deliveries a newer revision of the
same cell has replaced (a changed grade is planned and sent as a new delivery), and puts back
in the queue failed ones without that mark: recorded by a version that counted an unreadable
answer as a refusal, so their cause may have been transient. They are sent once more (a
re-send is harmless); refused again, they are failed for good.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, and_, case, func, not_, or_, select
from sqlalchemy.engine import Connection

from lmsbridge.core.model import Delivery, DeliveryResult, DeliveryStatus, Outcome
from lmsbridge.core.store import held
from lmsbridge.core.store.schema import deliveries, held_grades
from lmsbridge.core.store.tenants import TenantRef

PENDING = DeliveryStatus.PENDING.value
FAILED = DeliveryStatus.FAILED.value
#: How ``last_error`` starts for a delivery the platform refused for good.
REJECTED_MARK = "rejected: "

# (attempts so far, the platform's Retry-After) -> seconds until the next attempt
RetryDelay = Callable[[int, float | None], float]


class Outbox:
    def __init__(self, engine: Engine):
        self.engine = engine

    def due(self, tenant: TenantRef, now: datetime) -> list[Delivery]:
        """Pending deliveries whose retry time has come, oldest grade first."""
        d = deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d).where(d.c.tenant_id == tenant.id, d.c.status == PENDING,
                                d.c.next_attempt_at.is_(None) | (d.c.next_attempt_at <= now))
                .order_by(d.c.context_id, d.c.timestamp, d.c.id)).all()
        return [_delivery(tenant, r) for r in rows]

    def record(self, tenant: TenantRef, sent: Sequence[Delivery],
               results: Sequence[DeliveryResult], now: datetime,
               retry_delay: RetryDelay) -> dict[Outcome, int]:
        """Apply the platform's answers; a delivery the adapter did not answer is retried."""
        by_key = {r.dedupe_key: r for r in results}
        counts = dict.fromkeys(Outcome, 0)
        with self.engine.begin() as conn:
            attempts = dict(conn.execute(
                select(deliveries.c.dedupe_key, deliveries.c.attempts)
                .where(deliveries.c.dedupe_key.in_([d.dedupe_key for d in sent]))).all())
            confirmed = []
            for delivery in sent:
                result = by_key.get(delivery.dedupe_key) or DeliveryResult(
                    delivery.dedupe_key, Outcome.RETRY, "the adapter gave no result for it")
                counts[result.outcome] += 1
                tries = attempts.get(delivery.dedupe_key, 0) + 1
                where = and_(deliveries.c.dedupe_key == delivery.dedupe_key,
                             deliveries.c.status == PENDING)
                if result.outcome in (Outcome.DELIVERED, Outcome.CURRENT):
                    conn.execute(deliveries.update().where(where).values(
                        status=DeliveryStatus.DELIVERED.value, attempts=tries,
                        delivered_at=now, last_error=None if result.outcome == Outcome.DELIVERED
                        else f"current: {result.detail}"[:500]))
                    confirmed.append({
                        "tenant_id": tenant.id, "context_id": delivery.context_id,
                        "column_key": delivery.column_key, "learner_id": delivery.learner_id,
                        "score": delivery.score, "max_score": delivery.max_score,
                        "grade_revision": delivery.grade_revision, "delivered_at": now})
                elif result.outcome == Outcome.REJECTED:
                    conn.execute(deliveries.update().where(where).values(
                        status=FAILED, attempts=tries,
                        last_error=(REJECTED_MARK + (result.detail or "no reason given"))[:500]))
                else:
                    wait = retry_delay(tries, result.retry_after)
                    conn.execute(deliveries.update().where(where).values(
                        attempts=tries, next_attempt_at=now + timedelta(seconds=wait),
                        last_error=result.detail[:500] or "retry"))
            held.hold(conn, confirmed)
        return counts

    def reopen(self, tenant: TenantRef) -> tuple[int, int]:
        """Before a run delivers: drop failed deliveries a newer revision of their cell
        replaced, and re-queue failed ones not refused for good (no ``rejected: `` mark).
        Returns (re-queued, dropped)."""
        d, newer = deliveries, deliveries.alias("newer")
        with self.engine.begin() as conn:
            replaced = select(newer.c.id).where(
                newer.c.tenant_id == d.c.tenant_id, newer.c.context_id == d.c.context_id,
                newer.c.column_key == d.c.column_key, newer.c.learner_id == d.c.learner_id,
                newer.c.grade_revision > d.c.grade_revision).exists()
            dropped = conn.execute(d.delete().where(
                d.c.tenant_id == tenant.id, d.c.status == FAILED, replaced)).rowcount
            requeued = conn.execute(d.update().where(
                d.c.tenant_id == tenant.id, d.c.status == FAILED,
                or_(d.c.last_error.is_(None), not_(d.c.last_error.startswith(REJECTED_MARK))))
                .values(status=PENDING, next_attempt_at=None)).rowcount
        return requeued, dropped

    def next_due(self, tenant: TenantRef) -> datetime | None:
        """When the earliest pending delivery may be tried again."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(deliveries.c.next_attempt_at)).where(
                deliveries.c.tenant_id == tenant.id, deliveries.c.status == PENDING)).scalar()

    def undelivered(self, tenant: TenantRef) -> tuple[int, int, datetime | None]:
        """(pending, failed, timestamp of the oldest undelivered grade)."""
        d = deliveries
        with self.engine.connect() as conn:
            rows = dict(conn.execute(select(d.c.status, func.count())
                                     .where(d.c.tenant_id == tenant.id)
                                     .group_by(d.c.status)).all())
            oldest = conn.execute(select(func.min(d.c.timestamp)).where(
                d.c.tenant_id == tenant.id, d.c.status.in_([PENDING, FAILED]))).scalar()
        return rows.get(PENDING, 0), rows.get(FAILED, 0), oldest

    @contextmanager
    def planning(self, tenant: TenantRef, cells: Select) -> Iterator[Planning]:
        """One planning transaction over ``cells`` (a grade option's or a learning
        platform's query); committed when the block ends without an error."""
        with self.engine.begin() as conn:
            yield Planning(conn, tenant, cells)


def cancel_pending(conn: Connection, tenant_id: int) -> int:
    """Delete the tenant's pending writes (in the caller's transaction); how many."""
    return conn.execute(deliveries.delete().where(and_(
        deliveries.c.tenant_id == tenant_id, deliveries.c.status == PENDING))).rowcount


def _delivery(tenant: TenantRef, r) -> Delivery:
    return Delivery(tenant.name, r.context_id, r.column_key, r.learner_id, r.lms_user_id,
                    r.score, r.max_score, r.timestamp, r.grade_revision,
                    started_at=r.started_at)


class Planning:
    """The planner's view of the outbox inside its transaction: the candidate cells against
    what platforms hold, and the writes it puts in."""

    def __init__(self, conn: Connection, tenant: TenantRef, cells: Select):
        self.conn, self.tenant = conn, tenant
        self._cells = cells.subquery("cells")
        self._on, self._changed = held.against(self._cells, tenant.id)

    def unchanged(self) -> int:
        """Cells whose platform already holds their current revision."""
        counts = self.conn.execute(
            select(func.count(), func.sum(case((self._changed, 0), else_=1)))
            .select_from(self._cells.outerjoin(held_grades, self._on))).one()
        return int(counts[1] or 0)

    def candidates(self, *, every: bool, chunk: int) -> Iterator[Sequence[Any]]:
        """The cells to plan, ``chunk`` rows at a time, streamed: changed ones, or with
        ``every`` all of them."""
        query = select(self._cells).select_from(self._cells.outerjoin(held_grades, self._on))
        if not every:
            query = query.where(self._changed)
        rows = self.conn.execute(query.execution_options(yield_per=chunk))
        try:
            yield from rows.partitions()
        finally:
            rows.close()

    def statuses(self, dedupe_keys: Sequence[str]) -> dict[str, str]:
        """dedupe key -> status, for those of ``dedupe_keys`` already in the outbox."""
        return dict(self.conn.execute(
            select(deliveries.c.dedupe_key, deliveries.c.status)
            .where(deliveries.c.dedupe_key.in_(list(dedupe_keys)))).all())

    def add(self, writes: Sequence[dict[str, Any]]) -> None:
        """New pending writes (columns of ``deliveries`` but the tenant's id)."""
        if writes:
            self.conn.execute(deliveries.insert(),
                              [{"tenant_id": self.tenant.id, **w} for w in writes])

    def resend(self, dedupe_keys: Sequence[str], at: datetime) -> None:
        """Put delivered or refused writes back in the queue, as if planned at ``at``."""
        if dedupe_keys:
            self.conn.execute(deliveries.update()
                              .where(deliveries.c.dedupe_key.in_(list(dedupe_keys))).values(
                status=PENDING, attempts=0, next_attempt_at=None, last_error=None,
                created_at=at, delivered_at=None))

    def supersede(self) -> int:
        """Drop pending writes a newer revision of their cell replaced; how many."""
        newer = deliveries.alias("newer")
        stale = (select(deliveries.c.id)
                 .where(deliveries.c.tenant_id == self.tenant.id,
                        deliveries.c.status == PENDING)
                 .where(select(newer.c.id).where(
                     newer.c.tenant_id == deliveries.c.tenant_id,
                     newer.c.context_id == deliveries.c.context_id,
                     newer.c.column_key == deliveries.c.column_key,
                     newer.c.learner_id == deliveries.c.learner_id,
                     newer.c.grade_revision > deliveries.c.grade_revision).exists()))
        ids = list(self.conn.execute(stale).scalars())
        if ids:
            self.conn.execute(deliveries.delete().where(deliveries.c.id.in_(ids)))
        return len(ids)
