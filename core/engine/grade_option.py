"""Changing a tenant's grade-sync option: links of the old option stop receiving grades.

LTI allows one tool per LMS domain, so the option is per tenant; changing it means the admin
reconfigures the tool and republishes the links, and learners pass SSO again.
"""

from __future__ import annotations

from attrs import define, evolve

from lmsbridge.core.model import GradeSync, Tenant
from lmsbridge.core.store import Store


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
    return store.grade_options.links_of_other_options(store.tenants.ref(tenant.name), option)


def change(store: Store, name: str, option: GradeSync) -> OptionChange:
    """Switch the option, mark old links for republishing and drop their pending writes."""
    tenant = store.tenants.get(name)
    marked, cancelled = store.grade_options.change(store.tenants.ref(name), option)
    return OptionChange(evolve(tenant, grade_sync=option), marked, cancelled)
