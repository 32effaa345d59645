"""What a sync run tells the admin, per tenant and overall."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from attrs import asdict, define, field

from lmsbridge.core.store import Store

# Grades reach the gradebook within 72 hours of completion; an older undelivered one is overdue.
PROMISE = timedelta(hours=72)


@define
class TenantReport:
    tenant: str
    status: str = "ok"  # ok | undelivered | busy | error
    dry_run: bool = False
    columns_created: int = 0
    columns_wanted: int = 0
    planned: int = 0
    resent: int = 0
    sent: int = 0
    current: int = 0
    unchanged: int = 0
    failed: int = 0
    pending: int = 0
    waiting_for_column: int = 0
    requeued: int = 0  # failed deliveries queued again for one more try this run
    dropped: int = 0  # failed deliveries dropped: a newer revision of their cell replaced them
    learners_without_sso: int = 0
    without_sso: dict[str, list[str]] = field(factory=dict)
    licenses_used: int = 0
    licenses_free: int | None = None
    oldest_pending_at: datetime | None = None
    oldest_pending_hours: float | None = None
    overdue: bool = False  # oldest undelivered grade is older than 72 hours
    # Links to content retired upstream the platform still shows: remove them in the LMS.
    stale_links: list[str] = field(factory=list)
    # Learning platforms (Oracle): content pushed, by the adapter's counts (created, updated,
    # unchanged, failed, ...) plus what was deactivated; learners it cannot identify.
    content: dict[str, int] = field(factory=dict)
    learners_without_identity: list[str] = field(factory=list)
    sample: list[dict[str, Any]] = field(factory=list)
    errors: list[str] = field(factory=list)

    @property
    def delivered_everything(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def set_oldest(self, oldest: datetime | None, now: datetime) -> None:
        self.oldest_pending_at = oldest
        if oldest is not None:
            age = now - oldest
            self.oldest_pending_hours = round(age.total_seconds() / 3600, 1)
            self.overdue = age > PROMISE


def licenses_in_use(store: Store, tenant: str) -> tuple[int, int | None]:
    """(seats this tenant holds, seats still free in its activated programs — counted over
    every tenant sharing them; None when a program's seats are unknown or unlimited)."""
    usage = store.programs.seat_usage(tenant)
    used = sum(u.tenant_used for u in usage)
    free = [u.free for u in usage]
    if not free or any(f is None for f in free):
        return used, None
    return used, sum(f for f in free if f is not None)
