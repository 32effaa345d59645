"""Adapter state: a namespaced key → JSON ledger per (adapter, tenant), table ``adapter_state``.

Adapters keep what they must remember between calls (Oracle: the id and fingerprint of each
content it pushed) here, through ``Runtime.state(tenant)``, instead of owning tables. A ledger
rather than adapter-owned migrations: a third-party adapter then needs no Alembic branch of
its own, no schema upgrade order against ours and no access to our tables; removing an
adapter leaves rows, not a schema, behind; and the one table is tenant-scoped and deleted
with its tenant like every other tenant row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, and_, select

from lmsbridge.core.store.schema import adapter_state, now
from lmsbridge.core.store.sqlutil import upsert
from lmsbridge.core.store.tenants import Tenants

_UPDATE = ["value", "updated_at"]


class AdapterStates:
    def __init__(self, engine: Engine, tenants: Tenants):
        self.engine, self._tenants = engine, tenants

    def _where(self, conn, adapter: str, tenant: str):
        return and_(adapter_state.c.adapter == adapter,
                    adapter_state.c.tenant_id == self._tenants.id_of(conn, tenant))

    def get(self, adapter: str, tenant: str, key: str) -> Any | None:
        with self.engine.connect() as conn:
            raw = conn.execute(select(adapter_state.c.value).where(
                self._where(conn, adapter, tenant), adapter_state.c.key == key)).scalar()
        return None if raw is None else json.loads(raw)

    def put(self, adapter: str, tenant: str, key: str, value: Any) -> None:
        text = json.dumps(value, sort_keys=True, default=str)
        with self.engine.begin() as conn:
            tid = self._tenants.id_of(conn, tenant)
            conn.execute(upsert(conn, adapter_state, ["adapter", "tenant_id", "key"], _UPDATE),
                         {"adapter": adapter, "tenant_id": tid, "key": key, "value": text,
                          "updated_at": now()})

    def delete(self, adapter: str, tenant: str, key: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(adapter_state.delete().where(
                self._where(conn, adapter, tenant), adapter_state.c.key == key)).rowcount)

    def items(self, adapter: str, tenant: str,
              prefix: str | None = None) -> Iterator[tuple[str, Any]]:
        with self.engine.connect() as conn:
            query = select(adapter_state.c.key, adapter_state.c.value).where(
                self._where(conn, adapter, tenant))
            if prefix:
                query = query.where(adapter_state.c.key.startswith(prefix, autoescape=True))
            rows = conn.execute(query.order_by(adapter_state.c.key)).all()
        return iter([(k, json.loads(v)) for k, v in rows])
