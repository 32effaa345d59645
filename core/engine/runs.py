"""Sync runs: one runner per tenant at a time, with a heartbeat, on SQLite and PostgreSQL.

The lock is the unique partial index ``uq_sync_runs_running`` (one ``running`` row per
tenant): inserting a second one fails on both databases, whatever process tries. A run whose
heartbeat stopped (or whose process on this host is gone) is marked abandoned so the next
runner can take over; its pending deliveries are simply still in the outbox.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.errors import LmsbridgeError
from lmsbridge.core.model import RunStatus
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import sync_runs

STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 30.0  # seconds; well under STALE_AFTER


class TenantBusy(LmsbridgeError):
    """Another runner holds the tenant."""


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(owner: str | None) -> bool:
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only the heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Runs:
    def __init__(self, store: Store, now: Callable[[], datetime], *,
                 stale_after: timedelta = STALE_AFTER, owner: str | None = None):
        self.store, self.now, self.stale_after = store, now, stale_after
        self.owner = owner or this_owner()

    def start(self, tenant: str) -> int:
        """Take the tenant's lock with a new running run; raise TenantBusy if held."""
        self.reap(tenant)
        at = self.now()
        try:
            with self.store.engine.begin() as conn:
                tid = self.store.tenants.id_of(conn, tenant)
                return conn.execute(sync_runs.insert().values(
                    tenant_id=tid, status=RunStatus.RUNNING.value, started_at=at,
                    heartbeat_at=at, owner=self.owner)).inserted_primary_key[0]
        except IntegrityError:
            holder = self.running(tenant)
            detail = (f"run {holder['id']} by {holder['owner']}, last heartbeat "
                      f"{holder['heartbeat_at'].isoformat(' ', 'seconds')}") if holder else ""
            raise TenantBusy(f"tenant {tenant!r} is being synced by another runner "
                             f"({detail})") from None

    def running(self, tenant: str) -> dict[str, Any] | None:
        with self.store.engine.connect() as conn:
            tid = self.store.tenants.id_of(conn, tenant)
            row = conn.execute(select(sync_runs).where(
                sync_runs.c.tenant_id == tid,
                sync_runs.c.status == RunStatus.RUNNING.value)).first()
        return None if row is None else dict(row._mapping)

    def reap(self, tenant: str) -> int | None:
        """Mark the tenant's running run abandoned if its runner is gone; return its id."""
        holder = self.running(tenant)
        if holder is None:
            return None
        silent = self.now() - holder["heartbeat_at"] > self.stale_after
        if not (silent or _process_gone(holder["owner"])):
            return None
        with self.store.engine.begin() as conn:
            conn.execute(sync_runs.update().where(
                sync_runs.c.id == holder["id"],
                sync_runs.c.status == RunStatus.RUNNING.value).values(
                status=RunStatus.ABANDONED.value, finished_at=self.now()))
        return holder["id"]

    def beat(self, run_id: int) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id)
                         .values(heartbeat_at=self.now()))

    def finish(self, run_id: int, status: RunStatus, summary: dict[str, Any]) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(
                status=status.value, finished_at=self.now(), heartbeat_at=self.now(),
                summary=json.dumps(summary, default=str, sort_keys=True)))


class Heartbeat:
    """Beats a run's heartbeat in the background while the run works."""

    def __init__(self, runs: Runs, run_id: int, every: float = HEARTBEAT_EVERY):
        self._runs, self._run_id, self._every = runs, run_id, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"heartbeat-{run_id}")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._runs.beat(self._run_id)
            except Exception:  # a missed beat is not worth killing the run for
                continue
