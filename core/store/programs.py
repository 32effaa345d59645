"""Program activation per tenant: which provider programs an institution may publish."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import NotFound, ValidationError
from lmsbridge.core.store.schema import activations, programs
from lmsbridge.core.store.tenants import Tenants


@frozen
class Activation:
    tenant: str
    program_id: str
    activated_at: datetime
    name: str | None  # known once a catalog sync has read the program


class Programs:
    def __init__(self, engine: Engine, tenants_repo: Tenants):
        self.engine, self._tenants = engine, tenants_repo

    def activate(self, tenant: str, program_id: str) -> bool:
        """Activate a program for a tenant; False when it already was (idempotent)."""
        if not program_id.strip():
            raise ValidationError("program_id", program_id, "must be a non-empty string")
        try:
            with self.engine.begin() as conn:
                tid = self._tenants.id_of(conn, tenant)
                conn.execute(activations.insert().values(tenant_id=tid, program_id=program_id))
        except IntegrityError:
            return False
        return True

    def deactivate(self, tenant: str, program_id: str) -> None:
        with self.engine.begin() as conn:
            tid = self._tenants.id_of(conn, tenant)
            deleted = conn.execute(activations.delete().where(
                (activations.c.tenant_id == tid) & (activations.c.program_id == program_id)))
            if deleted.rowcount == 0:
                raise NotFound(f"program {program_id!r} is not activated for tenant {tenant!r}")

    def activated(self, tenant: str) -> list[Activation]:
        with self.engine.connect() as conn:
            tid = self._tenants.id_of(conn, tenant)
            rows = conn.execute(
                select(activations.c.program_id, activations.c.activated_at, programs.c.name)
                .outerjoin(programs, programs.c.id == activations.c.program_id)
                .where(activations.c.tenant_id == tid).order_by(activations.c.program_id))
            return [Activation(tenant, r.program_id, r.activated_at, r.name) for r in rows]
