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
from sqlalchemy import Select

from lmsbridge.core import keys
from lmsbridge.core.engine.scope import TenantScope
from lmsbridge.core.model import DeliveryStatus, Tenant
from lmsbridge.core.store import grade_options
from lmsbridge.core.store.outbox import Planning

CHUNK = 2000
SAMPLE = 20

# (tenant, tenant id) -> the cells to fill: the grade option's for an LMS
# (grade_options.cells), learning.cells for a learning platform.
Cells = Callable[[Tenant, int], Select]


@define
class Plan:
    tenant: str
    planned: int = 0  # new writes put in the outbox (or, dry run, that would be)
    resent: int = 0  # delivered writes put back in the outbox by a full sync
    unchanged: int = 0  # cells whose platform already holds the current revision
    superseded: int = 0  # pending writes replaced by a newer revision of their cell
    sample: list[dict[str, Any]] = field(factory=list)


def plan(scope: TenantScope, *, full: bool = False, dry_run: bool = False,
         cells_of: Cells = grade_options.cells) -> Plan:
    tenant = scope.tenant
    result = Plan(tenant.name)
    with scope.store.outbox.planning(scope.ref, cells_of(tenant, scope.id)) as outbox:
        result.unchanged = outbox.unchanged()
        full = full or not tenant.incremental  # the tenant's own setting
        for chunk in outbox.candidates(every=full, chunk=CHUNK):
            _plan_chunk(outbox, tenant, chunk, scope.now(), result, full, dry_run)
        if not dry_run:
            result.superseded = outbox.supersede()
        if full:
            result.unchanged = 0
    return result


def _plan_chunk(outbox: Planning, tenant: Tenant, chunk, at: datetime, result: Plan,
                full: bool, dry_run: bool) -> None:
    wanted: dict[str, dict[str, Any]] = {}
    for row in chunk:
        key = keys.dedupe(tenant.name, row.context_id, row.column_key, row.learner_id,
                          row.revision)
        wanted.setdefault(key, {
            "dedupe_key": key, "context_id": row.context_id,
            "column_key": row.column_key, "learner_id": row.learner_id,
            "lms_user_id": row.lms_user_id, "score": row.score, "max_score": row.max_score,
            "grade_revision": row.revision, "timestamp": row.updated_at,
            "started_at": row.started_at,
            "status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": at})
    existing = outbox.statuses(list(wanted))
    new = [values for key, values in wanted.items() if key not in existing]
    # Incremental: a revision already in the outbox (pending, delivered or rejected for
    # good) is never planned again. Full: delivered and rejected ones go out once more.
    again = [key for key, status in existing.items()
             if full and status != DeliveryStatus.PENDING]
    result.planned += len(new)
    room = SAMPLE - len(result.sample)
    if room > 0:
        result.sample.extend(dict(values) for values in new[:room])
    result.resent += len(again)
    if dry_run:
        return
    outbox.add(new)
    outbox.resend(again, at)
