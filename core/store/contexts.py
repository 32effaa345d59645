"""LMS course shells as the launches recorded them (with their AGS/NRPS endpoints)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from lmsbridge.core.model import Context
from lmsbridge.core.store.schema import contexts
from lmsbridge.core.store.tenants import TenantRef


class Contexts:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, tenant: TenantRef, context_id: str) -> Context:
        """The recorded context, or a bare one when no launch described it yet."""
        with self.engine.connect() as conn:
            row = conn.execute(select(contexts).where(
                contexts.c.tenant_id == tenant.id, contexts.c.context_id == context_id)).first()
        if row is None:
            return Context(tenant.name, context_id)
        return Context(tenant.name, context_id, row.title, row.lineitems_url,
                       row.memberships_url)

    def many(self, tenant: TenantRef, context_ids: Iterable[str]) -> dict[str, Context]:
        return {cid: self.get(tenant, cid) for cid in sorted(set(context_ids))}
