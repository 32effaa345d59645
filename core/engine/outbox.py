"""The outbox's side of delivery: what is due, and recording what platforms answered.

A confirmed write (``DELIVERED`` or ``CURRENT``) marks the delivery delivered and records in
``held_grades`` what the platform now holds, in one transaction: incremental planning reads
that, so a grade is never re-sent once confirmed and never skipped before.

``RETRY`` keeps the delivery pending, due again after a backoff. ``REJECTED`` marks it failed
with ``last_error`` starting ``rejected: ``: refused for good, never re-sent as it is. When a
run starts delivering, :func:`reopen` drops failed deliveries a newer revision of the same
cell has replaced (a changed grade is planned and sent as a new delivery), and puts back in
the queue failed ones without that mark: recorded by a version that counted an unreadable
answer as a refusal, so their cause may have been transient. They are sent once more (a
re-send is harmless); refused again, they are failed for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select

from lmsbridge.core.engine.backoff import retry_delay
from lmsbridge.core.engine.sqlutil import upsert
from lmsbridge.core.model import Delivery, DeliveryResult, DeliveryStatus, Outcome, Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import deliveries, held_grades

PENDING = DeliveryStatus.PENDING.value
FAILED = DeliveryStatus.FAILED.value
#: How ``last_error`` starts for a delivery the platform refused for good.
REJECTED_MARK = "rejected: "


def due(store: Store, tenant: Tenant, now: datetime) -> list[Delivery]:
    """Pending deliveries whose retry time has come, oldest grade first."""
    d = deliveries
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        rows = conn.execute(
            select(d).where(d.c.tenant_id == tid, d.c.status == PENDING,
                            d.c.next_attempt_at.is_(None) | (d.c.next_attempt_at <= now))
            .order_by(d.c.context_id, d.c.timestamp, d.c.id)).all()
    return [_delivery(tenant, r) for r in rows]


def _delivery(tenant: Tenant, r) -> Delivery:
    return Delivery(tenant.name, r.context_id, r.column_key, r.learner_id, r.lms_user_id,
                    r.score, r.max_score, r.timestamp, r.grade_revision,
                    started_at=r.started_at)


def record(store: Store, tenant: Tenant, sent: Sequence[Delivery],
           results: Sequence[DeliveryResult], now: datetime) -> dict[Outcome, int]:
    """Apply the platform's answers; a delivery the adapter did not answer is retried."""
    by_key = {r.dedupe_key: r for r in results}
    counts = dict.fromkeys(Outcome, 0)
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        attempts = dict(conn.execute(
            select(deliveries.c.dedupe_key, deliveries.c.attempts)
            .where(deliveries.c.dedupe_key.in_([d.dedupe_key for d in sent]))).all())
        held = []
        for delivery in sent:
            result = by_key.get(delivery.dedupe_key) or DeliveryResult(
                delivery.dedupe_key, Outcome.RETRY, "the adapter gave no result for it")
            counts[result.outcome] += 1
            tries = attempts.get(delivery.dedupe_key, 0) + 1
            where = and_(deliveries.c.dedupe_key == delivery.dedupe_key,
                         deliveries.c.status == PENDING)
            if result.outcome in (Outcome.DELIVERED, Outcome.CURRENT):
                conn.execute(deliveries.update().where(where).values(
                    status=DeliveryStatus.DELIVERED.value, attempts=tries, delivered_at=now,
                    last_error=None if result.outcome == Outcome.DELIVERED
                    else f"current: {result.detail}"[:500]))
                held.append({"tenant_id": tid, "context_id": delivery.context_id,
                             "column_key": delivery.column_key,
                             "learner_id": delivery.learner_id, "score": delivery.score,
                             "max_score": delivery.max_score,
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
        if held:
            conn.execute(upsert(conn, held_grades,
                                ["tenant_id", "context_id", "column_key", "learner_id"],
                                ["score", "max_score", "grade_revision", "delivered_at"]),
                         held)
    return counts


def reopen(store: Store, tenant: Tenant) -> tuple[int, int]:
    """Before a run delivers: drop failed deliveries a newer revision of their cell replaced,
    and re-queue failed ones not refused for good (no ``rejected: `` mark). Returns
    (re-queued, dropped)."""
    d, newer = deliveries, deliveries.alias("newer")
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        replaced = select(newer.c.id).where(
            newer.c.tenant_id == d.c.tenant_id, newer.c.context_id == d.c.context_id,
            newer.c.column_key == d.c.column_key, newer.c.learner_id == d.c.learner_id,
            newer.c.grade_revision > d.c.grade_revision).exists()
        dropped = conn.execute(d.delete().where(
            d.c.tenant_id == tid, d.c.status == FAILED, replaced)).rowcount
        requeued = conn.execute(d.update().where(
            d.c.tenant_id == tid, d.c.status == FAILED,
            or_(d.c.last_error.is_(None), not_(d.c.last_error.startswith(REJECTED_MARK))))
            .values(status=PENDING, next_attempt_at=None)).rowcount
    return requeued, dropped


def next_due(store: Store, tenant: Tenant) -> datetime | None:
    """When the earliest pending delivery may be tried again."""
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        return conn.execute(select(func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.tenant_id == tid, deliveries.c.status == PENDING)).scalar()


def undelivered(store: Store, tenant: Tenant) -> tuple[int, int, datetime | None]:
    """(pending, failed, timestamp of the oldest undelivered grade)."""
    d = deliveries
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        rows = dict(conn.execute(select(d.c.status, func.count()).where(d.c.tenant_id == tid)
                                 .group_by(d.c.status)).all())
        oldest = conn.execute(select(func.min(d.c.timestamp)).where(
            d.c.tenant_id == tid, d.c.status.in_([PENDING, FAILED]))).scalar()
    return rows.get(PENDING, 0), rows.get(FAILED, 0), oldest
