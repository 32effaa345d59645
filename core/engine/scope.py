"""One tenant's sync run: what every stage needs, with the tenant's row id read once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from attrs import frozen

from lmsbridge.core.model import Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.tenants import TenantRef


def utcnow() -> datetime:
    """The engine's default clock."""
    return datetime.now(UTC)


@frozen
class TenantScope:
    tenant: Tenant
    ref: TenantRef  # what the store's repositories take
    store: Store
    # The adapters' side; None only where no stage calls an adapter (planning alone).
    registry: Registry | None
    runtime: Runtime | None
    now: Callable[[], datetime]

    @classmethod
    def bind(cls, store: Store, tenant: Tenant, *, registry: Registry | None = None,
             runtime: Runtime | None = None,
             now: Callable[[], datetime] = utcnow) -> TenantScope:
        return cls(tenant, store.tenants.ref(tenant.name), store, registry, runtime, now)

    @property
    def name(self) -> str:
        return self.tenant.name

    @property
    def id(self) -> int:
        return self.ref.id
