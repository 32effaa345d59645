"""Changing a tenant's grade-sync option: links of the old option stop receiving grades.

LTI allows one tool per LMS domain, so the option is per tenant; changing it means the admin
reconfigures the tool and republishes the links, and learners pass SSO again (the seed).
"""

from __future__ import annotations

from attrs import define, evolve
from sqlalchemy import and_, func, select

from lmsbridge.core.model import DeliveryStatus, GradeSync, Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import deliveries, published_links, tenants


@define
class OptionChange:
    tenant: Tenant
    links_to_republish: int
    cancelled_deliveries: int

    def instructions(self) -> list[str]:
        t = self.tenant
        return [
            f"Admin: reconfigure the external tool in the LMS for grade sync '{t.grade_sync}'.",
            f"Admin or instructors: republish the {self.links_to_republish} existing link(s) "
            "(`lmsbridge sync` reports them as needing republishing until then).",
            "Learners: open a republished link once to pass SSO again; until they do, no "
            "grades are sent for them.",
        ]


def links_of_other_options(store: Store, tenant: Tenant, option: GradeSync) -> int:
    pl = published_links
    with store.engine.connect() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        return conn.execute(select(func.count()).select_from(pl).where(
            pl.c.tenant_id == tid, pl.c.retired.is_(False),
            pl.c.grade_sync != option.value)).scalar() or 0


def change(store: Store, name: str, option: GradeSync) -> OptionChange:
    """Switch the option, mark old links for republishing and drop their pending writes."""
    tenant = store.tenants.get(name)
    updated = evolve(tenant, grade_sync=option)
    pl = published_links
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, name)
        conn.execute(tenants.update().where(tenants.c.id == tid)
                     .values(grade_sync=option.value))
        marked = conn.execute(pl.update().where(
            pl.c.tenant_id == tid, pl.c.retired.is_(False), pl.c.grade_sync != option.value)
            .values(needs_republish=True)).rowcount
        # Writes planned for the old option's columns must not go out any more.
        cancelled = conn.execute(deliveries.delete().where(and_(
            deliveries.c.tenant_id == tid,
            deliveries.c.status == DeliveryStatus.PENDING.value))).rowcount
    return OptionChange(updated, marked, cancelled)
