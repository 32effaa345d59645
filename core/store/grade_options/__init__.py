"""The grade-sync options, one module each; a module decides from the same links both the
gradebook columns its option needs and the cells (learner × column) it fills:

- ``columns(tenant_id)``: a query of (context_id, column_key, label, score_maximum,
  resource_link_id), one row per column the option calls for;
- ``cells(tenant_id, without_sso)``: a query of (context_id, column_key, learner_id,
  lms_user_id, score, max_score, revision, updated_at, started_at), one row per cell that
  should hold a grade.

Links of another option than the tenant's (e.g. before republishing), retired links and
deep-linked links not launched yet get neither.
"""

from __future__ import annotations

from types import ModuleType

from sqlalchemy import Engine, Select, func, select

from lmsbridge.core.model import GradeSync, Tenant
from lmsbridge.core.store.grade_options import course, final, item
from lmsbridge.core.store.outbox import cancel_pending
from lmsbridge.core.store.schema import published_links, tenants
from lmsbridge.core.store.tenants import TenantRef

OPTIONS: dict[GradeSync, ModuleType] = {GradeSync.ITEM: item, GradeSync.COURSE: course,
                                        GradeSync.FINAL: final}


def of(option: GradeSync) -> ModuleType:
    return OPTIONS[option]


def cells(tenant: Tenant, tenant_id: int) -> Select:
    """The cells the planner fills for an LMS tenant: its option's."""
    return of(tenant.grade_sync).cells(tenant_id, tenant.grade_sync_without_sso)


class GradeOptions:
    """A tenant's option and the links published under another one."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def links_of_other_options(self, tenant: TenantRef, option: GradeSync) -> int:
        """Live links published under another option than ``option``."""
        pl = published_links
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(pl).where(
                pl.c.tenant_id == tenant.id, pl.c.retired.is_(False),
                pl.c.grade_sync != option.value)).scalar() or 0

    def change(self, tenant: TenantRef, option: GradeSync) -> tuple[int, int]:
        """Set the option, mark links of the others for republishing and drop every pending
        write, in one transaction; (links marked, writes dropped)."""
        pl = published_links
        with self.engine.begin() as conn:
            conn.execute(tenants.update().where(tenants.c.id == tenant.id)
                         .values(grade_sync=option.value))
            marked = conn.execute(pl.update().where(
                pl.c.tenant_id == tenant.id, pl.c.retired.is_(False),
                pl.c.grade_sync != option.value).values(needs_republish=True)).rowcount
            # Writes planned for the old option's columns must not go out any more.
            cancelled = cancel_pending(conn, tenant.id)
        return marked, cancelled
