"""Tenants and their encrypted credentials."""

from __future__ import annotations

import json

import attrs
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import AlreadyExists, NotFound
from lmsbridge.core.model import Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store.schema import tenants
from lmsbridge.core.store.secrets import Secrets

_FIELDS = [f.name for f in attrs.fields(Tenant)]


def _tenant(row) -> Tenant:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["options"] = json.loads(values["options"])
    return Tenant(**values)


def _row(tenant: Tenant) -> dict:
    values = attrs.asdict(tenant)
    values["options"] = json.dumps(tenant.options, sort_keys=True)
    return values


class Tenants:
    def __init__(self, engine: Engine, secrets: Secrets):
        self.engine, self._secrets = engine, secrets

    def add(self, tenant: Tenant) -> Tenant:
        try:
            with self.engine.begin() as conn:
                conn.execute(tenants.insert().values(**_row(tenant)))
        except IntegrityError:
            raise AlreadyExists(f"tenant {tenant.name!r} already exists") from None
        return tenant

    def get(self, name: str) -> Tenant:
        with self.engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.name == name)).first()
        if row is None:
            raise NotFound(f"no tenant named {name!r} (see `lmsbridge tenant list`)")
        return _tenant(row)

    def id_of(self, conn, name: str) -> int:
        tid = conn.execute(select(tenants.c.id).where(tenants.c.name == name)).scalar()
        if tid is None:
            raise NotFound(f"no tenant named {name!r} (see `lmsbridge tenant list`)")
        return tid

    def list(self) -> list[Tenant]:
        with self.engine.connect() as conn:
            return [_tenant(r) for r in conn.execute(select(tenants).order_by(tenants.c.name))]

    def update(self, tenant: Tenant) -> Tenant:
        values = _row(tenant)
        with self.engine.begin() as conn:
            self.id_of(conn, tenant.name)
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
