"""Plan a tenant's grade writes into the outbox, in one transaction.

Only cells whose grade revision is newer than what the platform confirmed holding are
planned (``full`` plans every cell again). Each planned write gets a dedupe key (tenant,
context, column, learner, grade revision): a revision already in the outbox is never planned
twice, and an older pending write of the same cell is superseded by the newer one.
The candidate rows are streamed, so planning a million stored grades stays in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from attrs import define, field
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.engine import Connection

from lmsbridge.core.engine.eligibility import cells
from lmsbridge.core.model import DeliveryStatus, Tenant, dedupe_key
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import deliveries, held_grades

CHUNK = 2000
SAMPLE = 20

# (tenant, tenant id) -> the cells to fill: eligibility.cells for LMSs, learning.cells else.
Cells = Callable[[Tenant, int], Select]


@define
class Plan:
    tenant: str
    planned: int = 0  # new writes put in the outbox (or, dry run, that would be)
    resent: int = 0  # delivered writes put back in the outbox by a full sync
    unchanged: int = 0  # cells whose platform already holds the current revision
    superseded: int = 0  # pending writes replaced by a newer revision of their cell
    sample: list[dict[str, Any]] = field(factory=list)


def _joined(tenant: Tenant, tenant_id: int, cells_of: Cells):
    cell = cells_of(tenant, tenant_id).subquery("cells")
    h = held_grades
    on = and_(h.c.tenant_id == tenant_id, h.c.context_id == cell.c.context_id,
              h.c.column_key == cell.c.column_key, h.c.learner_id == cell.c.learner_id)
    changed = h.c.grade_revision.is_(None) | (h.c.grade_revision < cell.c.revision)
    return cell, on, changed


def plan(store: Store, tenant: Tenant, now: Callable[[], datetime], *, full: bool = False,
         dry_run: bool = False, cells_of: Cells = cells) -> Plan:
    result = Plan(tenant.name)
    with store.engine.begin() as conn:
        tenant_id = store.tenants.id_of(conn, tenant.name)
        cell, on, changed = _joined(tenant, tenant_id, cells_of)
        counts = conn.execute(
            select(func.count(), func.sum(case((changed, 0), else_=1)))
            .select_from(cell.outerjoin(held_grades, on))).one()
        result.unchanged = int(counts[1] or 0)
        full = full or not tenant.incremental  # the tenant's own setting
        query = select(cell).select_from(cell.outerjoin(held_grades, on))
        if not full:
            query = query.where(changed)
        rows = conn.execute(query.execution_options(yield_per=CHUNK))
        for chunk in rows.partitions():
            _plan_chunk(conn, tenant, tenant_id, chunk, now(), result, full, dry_run)
        rows.close()
        if not dry_run:
            result.superseded = _supersede(conn, tenant_id)
        if full:
            result.unchanged = 0
    return result


def _plan_chunk(conn: Connection, tenant: Tenant, tenant_id: int, chunk, at: datetime,
                result: Plan, full: bool, dry_run: bool) -> None:
    wanted: dict[str, dict[str, Any]] = {}
    for row in chunk:
        key = dedupe_key(tenant.name, row.context_id, row.column_key, row.learner_id,
                         row.revision)
        wanted.setdefault(key, {
            "tenant_id": tenant_id, "dedupe_key": key, "context_id": row.context_id,
            "column_key": row.column_key, "learner_id": row.learner_id,
            "lms_user_id": row.lms_user_id, "score": row.score, "max_score": row.max_score,
            "grade_revision": row.revision, "timestamp": row.updated_at,
            "started_at": row.started_at,
            "status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": at})
    existing = dict(conn.execute(
        select(deliveries.c.dedupe_key, deliveries.c.status)
        .where(deliveries.c.dedupe_key.in_(list(wanted)))).all())
    new = [values for key, values in wanted.items() if key not in existing]
    # Incremental: a revision already in the outbox (pending, delivered or rejected for
    # good) is never planned again. Full: delivered and rejected ones go out once more.
    again = [key for key, status in existing.items()
             if full and status != DeliveryStatus.PENDING]
    result.planned += len(new)
    room = SAMPLE - len(result.sample)
    if room > 0:
        result.sample.extend({k: v for k, v in values.items() if k != "tenant_id"}
                             for values in new[:room])
    result.resent += len(again)
    if dry_run:
        return
    if new:
        conn.execute(deliveries.insert(), new)
    if again:
        conn.execute(deliveries.update().where(deliveries.c.dedupe_key.in_(again)).values(
            status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=None,
            last_error=None, created_at=at, delivered_at=None))


def _supersede(conn: Connection, tenant_id: int) -> int:
    newer = deliveries.alias("newer")
    stale = (select(deliveries.c.id)
             .where(deliveries.c.tenant_id == tenant_id,
                    deliveries.c.status == DeliveryStatus.PENDING.value)
             .where(select(newer.c.id).where(
                 newer.c.tenant_id == deliveries.c.tenant_id,
                 newer.c.context_id == deliveries.c.context_id,
                 newer.c.column_key == deliveries.c.column_key,
                 newer.c.learner_id == deliveries.c.learner_id,
                 newer.c.grade_revision > deliveries.c.grade_revision).exists()))
    ids = list(conn.execute(stale).scalars())
    if ids:
        conn.execute(deliveries.delete().where(deliveries.c.id.in_(ids)))
    return len(ids)
