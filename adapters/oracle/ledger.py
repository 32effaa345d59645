"""What we last pushed to a tenant's Oracle content (table ``oracle_content``, migration 0005)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import select

from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import now, oracle_content


def fingerprint(payload: Mapping[str, Any]) -> str:
    """Stable digest of a content payload: key order and whitespace never count as a change."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@attrs.frozen
class Pushed:
    content_key: str
    oracle_id: str
    fingerprint: str
    status: str
    pushed_at: datetime


class ContentLedger:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    def get(self, content_key: str) -> Pushed | None:
        with self.store.engine.connect() as conn:
            tid = self.store.tenants.id_of(conn, self.tenant)
            row = conn.execute(select(oracle_content).where(
                (oracle_content.c.tenant_id == tid)
                & (oracle_content.c.content_key == content_key))).first()
        if row is None:
            return None
        return Pushed(row.content_key, row.oracle_id, row.fingerprint, row.status, row.pushed_at)

    def record(self, content_key: str, oracle_id: str, digest: str, status: str) -> None:
        """Upsert after Oracle acknowledged the write (never before: state follows the write)."""
        values = {"oracle_id": oracle_id, "fingerprint": digest, "status": status,
                  "pushed_at": now()}
        with self.store.engine.begin() as conn:
            tid = self.store.tenants.id_of(conn, self.tenant)
            where = (oracle_content.c.tenant_id == tid) & (
                oracle_content.c.content_key == content_key)
            if conn.execute(select(oracle_content.c.id).where(where)).first():
                conn.execute(oracle_content.update().where(where).values(**values))
            else:
                conn.execute(oracle_content.insert().values(
                    tenant_id=tid, content_key=content_key, **values))
