"""The store: all sync state in SQL (SQLite file by default, PostgreSQL by URL).

    store = Store.open("sqlite:///lmsbridge.db")
    store.upgrade()
    store.tenants.add(Tenant("uni-a", "canvas"))
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine, inspect

from lmsbridge.core.audit import AuditRecord
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
        """An audit sink: attach with ``registry.audit.sinks.append(store.record_audit)``."""
        with self.engine.begin() as conn:
            conn.execute(audit_log.insert().values(
                owner=record.owner, adapter=record.adapter, hook=record.hook,
                duration_ms=record.duration_ms, outcome=record.outcome, error=record.error))

    def dispose(self) -> None:
        self.engine.dispose()
