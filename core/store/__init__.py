"""The store: all sync state in SQL (SQLite file by default, PostgreSQL by URL).

    store = Store.open("sqlite:///lmsbridge.db")
    store.upgrade()
    store.tenants.add(Tenant("uni-a", "canvas"))
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, select

from lmsbridge.core.audit import ERROR_CHARS, AuditRecord
from lmsbridge.core.secretbox import SecretBox
from lmsbridge.core.store import database
from lmsbridge.core.store.accounts import Accounts
from lmsbridge.core.store.adapter_state import AdapterStates
from lmsbridge.core.store.cartridge_reads import CartridgeReads
from lmsbridge.core.store.catalog import Catalog
from lmsbridge.core.store.columns import Columns
from lmsbridge.core.store.contexts import Contexts
from lmsbridge.core.store.grade_options import GradeOptions
from lmsbridge.core.store.grades import Grades
from lmsbridge.core.store.launches import Launches
from lmsbridge.core.store.learning import Learning
from lmsbridge.core.store.licenses import Licenses
from lmsbridge.core.store.links import Links
from lmsbridge.core.store.nonces import Nonces
from lmsbridge.core.store.outbox import Outbox
from lmsbridge.core.store.platforms import Platforms
from lmsbridge.core.store.programs import Programs
from lmsbridge.core.store.providers import Providers
from lmsbridge.core.store.roster import Roster
from lmsbridge.core.store.runs import Runs
from lmsbridge.core.store.schema import audit_log, metadata
from lmsbridge.core.store.secrets import Secrets
from lmsbridge.core.store.tenants import Tenants
from lmsbridge.core.store.tool_keys import ToolKeys
from lmsbridge.core.store.watermarks import Watermarks

__all__ = ["Store"]


class Store:
    def __init__(self, engine: Engine, key_file: Path = Path("lmsbridge.key")):
        self.engine = engine
        self._key_file = key_file
        self.secrets = Secrets(engine, lambda: self.box)
        self.tenants = Tenants(engine, self.secrets)
        self.platforms = Platforms(engine, self.tenants)
        self.programs = Programs(engine, self.tenants)
        self.accounts = Accounts(engine)
        self.launches = Launches(engine)
        self.licenses = Licenses(engine, self.tenants)
        self.links = Links(engine)
        self.nonces = Nonces(engine)
        self.tool_keys = ToolKeys(engine)
        self.providers = Providers(engine, lambda: self.box)
        self.watermarks = Watermarks(engine)
        self.catalog = Catalog(engine)
        self.grades = Grades(engine)
        self.contexts = Contexts(engine)
        self.columns = Columns(engine)
        self.grade_options = GradeOptions(engine)
        self.roster = Roster(engine)
        self.outbox = Outbox(engine)
        self.runs = Runs(engine)
        self.adapter_state = AdapterStates(engine, self.tenants)
        self.learning = Learning(engine)
        self.cartridge = CartridgeReads(engine)

    @classmethod
    def open(cls, url: str = database.DEFAULT_URL,
             key_file: Path = Path("lmsbridge.key")) -> Store:
        return cls(database.make_engine(url), key_file)

    @cached_property
    def box(self) -> SecretBox:
        # Made on first use so read-only commands never create a key file.
        return SecretBox.from_env_or_file(self._key_file)

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction for several repository calls: ``with store.transaction() as conn:``
        then every repository method given ``conn`` runs in it; it commits when the block
        ends and rolls back, leaving nothing, if the block raises.

        The unit of work is the connection itself, passed to each method as its first
        argument (as ``Tenants.id_of`` takes it): nothing is built per transaction on the
        launch path, repositories stay single objects on the store, and each call site shows
        which calls share the transaction. Methods without ``conn`` run on their own.
        """
        return self.engine.begin()

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
