"""LMS course shells as the launches recorded them (with their AGS/NRPS endpoints)."""

from __future__ import annotations

from sqlalchemy import select

from lmsbridge.core.model import Context, Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import contexts, tenants


def load_context(store: Store, tenant: Tenant, context_id: str) -> Context:
    """The recorded context, or a bare one when no launch described it yet."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(contexts).join(tenants, tenants.c.id == contexts.c.tenant_id)
            .where((tenants.c.name == tenant.name) & (contexts.c.context_id == context_id))
        ).first()
    if row is None:
        return Context(tenant.name, context_id)
    return Context(tenant.name, context_id, row.title, row.lineitems_url, row.memberships_url)


def load_contexts(store: Store, tenant: Tenant, context_ids) -> dict[str, Context]:
    return {cid: load_context(store, tenant, cid) for cid in sorted(set(context_ids))}
