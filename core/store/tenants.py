"""Tenants and their encrypted credentials."""

from __future__ import annotations

import json

import attrs
from attrs import frozen
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import AlreadyExists, NotFound, ValidationError
from lmsbridge.core.model import Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store.schema import activations, programs, providers, tenants
from lmsbridge.core.store.secrets import Secrets


@frozen
class TenantRef:
    """A tenant as the repositories address it: its name and its row id."""

    name: str
    id: int


_COLUMNS = [f.name for f in attrs.fields(Tenant) if f.name != "provider"]


def _select():
    return (select(tenants, providers.c.name.label("provider_name"))
            .outerjoin(providers, providers.c.id == tenants.c.provider_id))


def _tenant(row) -> Tenant:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["options"] = json.loads(values["options"])
    return Tenant(**values, provider=row.provider_name)


def _row(conn, tenant: Tenant) -> dict:
    values = {k: v for k, v in attrs.asdict(tenant).items() if k != "provider"}
    values["options"] = json.dumps(tenant.options, sort_keys=True)
    values["provider_id"] = None
    if tenant.provider is not None:
        values["provider_id"] = conn.execute(select(providers.c.id).where(
            providers.c.name == tenant.provider)).scalar()
        if values["provider_id"] is None:
            raise NotFound(f"no provider named {tenant.provider!r} "
                           "(see `lmsbridge provider list`)")
    return values


def _check_programs_of(conn, tid: int, provider_id: int, tenant: Tenant) -> None:
    """A tenant moves to another provider only without programs of its old one."""
    foreign = conn.execute(
        select(programs.c.id).join(activations, activations.c.program_id == programs.c.id)
        .where(activations.c.tenant_id == tid, programs.c.provider_id.is_not(None),
               programs.c.provider_id != provider_id).limit(1)).scalar()
    if foreign is not None:
        raise ValidationError("--provider", tenant.provider or "",
                              f"tenant {tenant.name!r} has program {foreign!r} of another "
                              "provider activated; deactivate it first")


class Tenants:
    def __init__(self, engine: Engine, secrets: Secrets):
        self.engine, self._secrets = engine, secrets

    def add(self, tenant: Tenant) -> Tenant:
        try:
            with self.engine.begin() as conn:
                conn.execute(tenants.insert().values(**_row(conn, tenant)))
        except IntegrityError:
            raise AlreadyExists(f"tenant {tenant.name!r} already exists") from None
        return tenant

    def get(self, name: str) -> Tenant:
        with self.engine.connect() as conn:
            row = conn.execute(_select().where(tenants.c.name == name)).first()
        if row is None:
            raise NotFound(f"no tenant named {name!r} (see `lmsbridge tenant list`)")
        return _tenant(row)

    def id_of(self, conn, name: str) -> int:
        tid = conn.execute(select(tenants.c.id).where(tenants.c.name == name)).scalar()
        if tid is None:
            raise NotFound(f"no tenant named {name!r} (see `lmsbridge tenant list`)")
        return tid

    def ref(self, name: str) -> TenantRef:
        with self.engine.connect() as conn:
            return TenantRef(name, self.id_of(conn, name))

    def list(self) -> list[Tenant]:
        with self.engine.connect() as conn:
            return [_tenant(r) for r in conn.execute(_select().order_by(tenants.c.name))]

    def update(self, tenant: Tenant) -> Tenant:
        with self.engine.begin() as conn:
            tid = self.id_of(conn, tenant.name)
            values = _row(conn, tenant)
            if values["provider_id"] is not None:
                _check_programs_of(conn, tid, values["provider_id"], tenant)
            conn.execute(tenants.update().where(tenants.c.name == tenant.name).values(**values))
        return tenant

    # Secrets of a tenant live in the "tenant:<name>" scope.
    def set_secret(self, tenant: str, name: str, value: Secret) -> None:
        self.get(tenant)
        self._secrets.set(f"tenant:{tenant}", name, value)

    def get_secret(self, tenant: str, name: str) -> Secret:
        self.get(tenant)
        return self._secrets.get(f"tenant:{tenant}", name)

    def secret_names(self, tenant: str) -> list[str]:
        self.get(tenant)
        return self._secrets.names(f"tenant:{tenant}")
