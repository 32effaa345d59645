"""The store: all sync state in SQL (SQLite file by default, PostgreSQL by URL).

    store = Store.open("sqlite:///lmsbridge.db")
    store.upgrade()
    store.tenants.add(Tenant("uni-a", "canvas"))
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine, inspect, select

from lmsbridge.core.audit import ERROR_CHARS, AuditRecord
from lmsbridge.core.secretbox import SecretBox
from lmsbridge.core.store import database
from lmsbridge.core.store.platforms import Platforms
from lmsbridge.core.store.programs import Programs
from lmsbridge.core.store.schema import audit_log, metadata
from lmsbridge.core.store.secrets import Secrets
from lmsbridge.core.store.tenants import Tenants

__all__ = ["Store"]


class Store:
    def __init__(self, engine: Engine, key_file: Path = Path("lmsbridge.key")):
        self.engine = engine
        self._key_file = key_file
        self.secrets = Secrets(engine, lambda: self.box)
        self.tenants = Tenants(engine, self.secrets)
        self.platforms = Platforms(engine, self.tenants)
        self.programs = Programs(engine, self.tenants)

    @classmethod
    def open(cls, url: str = database.DEFAULT_URL,
             key_file: Path = Path("lmsbridge.key")) -> Store:
        return cls(database.make_engine(url), key_file)

    @cached_property
    def box(self) -> SecretBox:
        # Made on first use so read-only commands never create a key file.
        return SecretBox.from_env_or_file(self._key_file)

    def upgrade(self) -> None:
        database.upgrade(self.engine)

    def revision(self) -> str | None:
        return database.current_revision(self.engine)

    def is_current(self) -> bool:
        return self.revision() == database.head_revision()

    def table_names(self) -> set[str]:
        return set(inspect(self.engine).get_table_names()) & set(metadata.tables)

    def record_audit(self, record: AuditRecord) -> None:
        """An audit sink, writing one row in its own short transaction; attach it with
        ``registry.audit.attach(store.record_audit)``."""
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert().values(  # cut to the columns' lengths
                owner=record.owner[:63], adapter=record.adapter and record.adapter[:63],
                hook=record.hook[:63], duration_ms=record.duration_ms,
                outcome=record.outcome[:16],
                error=None if record.error is None else record.error[:ERROR_CHARS],
                actor=record.actor and record.actor[:255],
                detail=json.dumps(dict(record.detail), sort_keys=True, default=str)
                if record.detail else None))

    def audit_trail(self, tenant: str | None = None, *, hook: str | None = None,
                    since: datetime | None = None, limit: int = 100) -> list[AuditRecord]:
        """The newest ``limit`` audit rows, newest first; ``tenant`` is the row's owner (a
        tenant, a provider or "tool"), ``hook`` a hook or action name."""
        query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        if tenant is not None:
            query = query.where(audit_log.c.owner == tenant)
        if hook is not None:
            query = query.where(audit_log.c.hook == hook)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [AuditRecord(r.owner, r.adapter, r.hook, r.duration_ms, r.outcome, r.error,
                            r.actor or "", json.loads(r.detail) if r.detail else {}, r.at)
                for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()
