"""Tenants and their encrypted credentials."""

from __future__ import annotations

from collections.abc import Callable

import attrs
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import AlreadyExists, NotFound
from lmsbridge.core.model import Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.secretbox import SecretBox
from lmsbridge.core.store.schema import credentials, now, tenants

_FIELDS = [f.name for f in attrs.fields(Tenant)]


def _tenant(row) -> Tenant:
    return Tenant(**{name: getattr(row, name) for name in _FIELDS})


class Tenants:
    def __init__(self, engine: Engine, box: Callable[[], SecretBox]):
        self.engine, self._box = engine, box

    def add(self, tenant: Tenant) -> Tenant:
        try:
            with self.engine.begin() as conn:
                conn.execute(tenants.insert().values(**attrs.asdict(tenant)))
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
        values = attrs.asdict(tenant)
        with self.engine.begin() as conn:
            self.id_of(conn, tenant.name)
            conn.execute(tenants.update().where(tenants.c.name == tenant.name).values(**values))
        return tenant

    def set_secret(self, tenant: str, name: str, value: Secret) -> None:
        ciphertext = self._box().encrypt(value)
        with self.engine.begin() as conn:
            tid = self.id_of(conn, tenant)
            where = (credentials.c.tenant_id == tid) & (credentials.c.name == name)
            if conn.execute(select(credentials.c.id).where(where)).first():
                conn.execute(credentials.update().where(where)
                             .values(ciphertext=ciphertext, updated_at=now()))
            else:
                conn.execute(credentials.insert().values(tenant_id=tid, name=name,
                                                         ciphertext=ciphertext))

    def get_secret(self, tenant: str, name: str) -> Secret:
        with self.engine.connect() as conn:
            tid = self.id_of(conn, tenant)
            token = conn.execute(select(credentials.c.ciphertext).where(
                (credentials.c.tenant_id == tid) & (credentials.c.name == name))).scalar()
        if token is None:
            raise NotFound(f"tenant {tenant!r} has no secret named {name!r}")
        return self._box().decrypt(token, f"secret {name!r} of tenant {tenant!r}")

    def secret_names(self, tenant: str) -> list[str]:
        with self.engine.connect() as conn:
            tid = self.id_of(conn, tenant)
            return list(conn.execute(select(credentials.c.name).where(
                credentials.c.tenant_id == tid).order_by(credentials.c.name)).scalars())
