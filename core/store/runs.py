"""Sync runs (``sync_runs``) and the one-runner-per-tenant lock.

The lock is the unique partial index ``uq_sync_runs_running`` (one ``running`` row per
tenant): inserting a second one fails on SQLite and PostgreSQL alike, whatever process tries.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.model import RunStatus
from lmsbridge.core.store.schema import sync_runs

RUNNING = RunStatus.RUNNING.value


class Runs:
    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self, tenant_id: int, at: datetime, owner: str) -> int | None:
        """A new running run holding the tenant's lock; None when another run holds it."""
        try:
            with self.engine.begin() as conn:
                return conn.execute(sync_runs.insert().values(
                    tenant_id=tenant_id, status=RUNNING, started_at=at, heartbeat_at=at,
                    owner=owner)).inserted_primary_key[0]
        except IntegrityError:
            return None

    def running(self, tenant_id: int) -> dict[str, Any] | None:
        """The tenant's running run (its columns), if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_runs).where(
                sync_runs.c.tenant_id == tenant_id, sync_runs.c.status == RUNNING)).first()
        return None if row is None else dict(row._mapping)

    def abandon(self, run_id: int, at: datetime) -> None:
        """Mark a run abandoned, if it is still running."""
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(
                sync_runs.c.id == run_id, sync_runs.c.status == RUNNING).values(
                status=RunStatus.ABANDONED.value, finished_at=at))

    def beat(self, run_id: int, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id)
                         .values(heartbeat_at=at))

    def finish(self, run_id: int, status: RunStatus, at: datetime,
               summary: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(
                status=status.value, finished_at=at, heartbeat_at=at,
                summary=json.dumps(summary, default=str, sort_keys=True)))
