"""Programs and their activation per tenant: which provider programs an institution may
publish, and how their seats are used.

A tenant activates only programs of its own provider organisation; a program's seats belong
to that program, so every tenant drawing on it shares them and is counted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import NotFound, ValidationError
from lmsbridge.core.model import Program
from lmsbridge.core.store.schema import activations, licenses, programs, providers, tenants
from lmsbridge.core.store.tenants import Tenants


@frozen
class Activation:
    tenant: str
    program_id: str
    activated_at: datetime
    name: str | None  # known once a catalog sync has read the program


@frozen
class SeatUsage:
    """A program's seats: ``used`` over every tenant, ``tenant_used`` by the one asked about."""

    program_id: str
    seats: int | None  # None: unlimited or not known yet
    used: int
    tenant_used: int

    @property
    def free(self) -> int | None:
        return None if self.seats is None else max(0, self.seats - self.used)


class Programs:
    def __init__(self, engine: Engine, tenants_repo: Tenants):
        self.engine, self._tenants = engine, tenants_repo

    @staticmethod
    def provider_id(conn, name: str) -> int:
        pid = conn.execute(select(providers.c.id).where(providers.c.name == name)).scalar()
        if pid is None:
            raise NotFound(f"no provider named {name!r} (see `lmsbridge provider list`)")
        return pid

    def known(self, provider: str, program_ids: Sequence[str]) -> set[str]:
        """Those of ``program_ids`` a catalog read already found at ``provider``."""
        with self.engine.connect() as conn:
            return set(conn.execute(
                select(programs.c.id).join(providers, providers.c.id == programs.c.provider_id)
                .where(providers.c.name == provider, programs.c.id.in_(list(program_ids))))
                .scalars())

    def remember(self, provider: str, program: Program) -> None:
        """Record a program the provider confirmed, before its first catalog sync."""
        with self.engine.begin() as conn:
            owner = self.provider_id(conn, provider)
            row = conn.execute(select(programs.c.provider_id)
                               .where(programs.c.id == program.id)).first()
            if row is None:
                conn.execute(programs.insert().values(id=program.id, name=program.name,
                                                      seats=program.seats, provider_id=owner))
            elif row.provider_id is None:
                conn.execute(programs.update().where(programs.c.id == program.id)
                             .values(provider_id=owner))

    def activate(self, tenant: str, program_id: str) -> bool:
        """Activate a program for a tenant; False when it already was (idempotent).

        Refused when the program is known to belong to another provider than the tenant's.
        """
        if not program_id.strip():
            raise ValidationError("program_id", program_id, "must be a non-empty string")
        try:
            with self.engine.begin() as conn:
                tid = self._tenants.id_of(conn, tenant)
                self._check_owner(conn, tenant, tid, program_id)
                conn.execute(activations.insert().values(tenant_id=tid, program_id=program_id))
        except IntegrityError:
            return False
        return True

    def check_activation(self, tenant: str, program_id: str) -> None:
        with self.engine.connect() as conn:
            self._check_owner(conn, tenant, self._tenants.id_of(conn, tenant), program_id)

    @staticmethod
    def _check_owner(conn, tenant: str, tid: int, program_id: str) -> None:
        ours = conn.execute(select(tenants.c.provider_id).where(tenants.c.id == tid)).scalar()
        row = conn.execute(select(programs.c.provider_id, providers.c.name)
                           .outerjoin(providers, providers.c.id == programs.c.provider_id)
                           .where(programs.c.id == program_id)).first()
        if ours is not None and row is not None and row.provider_id not in (None, ours):
            raise ValidationError("program", program_id,
                                  f"belongs to provider {row.name!r}, not to the provider of "
                                  f"tenant {tenant!r}")

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

    def seat_usage(self, tenant: str) -> list[SeatUsage]:
        """Seats of each program the tenant activated, counted over every tenant."""
        with self.engine.connect() as conn:
            tid = self._tenants.id_of(conn, tenant)
            active = licenses.c.released_at.is_(None)
            used = (select(licenses.c.program_id, func.count().label("used"),
                           func.count().filter(licenses.c.tenant_id == tid).label("mine"))
                    .where(active).group_by(licenses.c.program_id).subquery())
            rows = conn.execute(
                select(activations.c.program_id, programs.c.seats, used.c.used, used.c.mine)
                .outerjoin(programs, programs.c.id == activations.c.program_id)
                .outerjoin(used, used.c.program_id == activations.c.program_id)
                .where(activations.c.tenant_id == tid).order_by(activations.c.program_id))
            return [SeatUsage(r.program_id, r.seats, r.used or 0, r.mine or 0) for r in rows]
