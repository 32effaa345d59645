"""Sync runs: one runner per tenant at a time, with a heartbeat, on SQLite and PostgreSQL.

The lock is the store's (:mod:`lmsbridge.core.store.runs`): one ``running`` row per tenant,
whatever process tries. A run whose heartbeat stopped (or whose process on this host is gone)
is marked abandoned so the next runner can take over; its pending deliveries are simply
still in the outbox.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from lmsbridge.core.errors import LmsbridgeError
from lmsbridge.core.model import RunStatus
from lmsbridge.core.store import Store
from lmsbridge.core.store.tenants import TenantRef

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
    """A tenant is named, or given as the :class:`TenantRef` a bound run already holds."""

    def __init__(self, store: Store, now: Callable[[], datetime], *,
                 stale_after: timedelta = STALE_AFTER, owner: str | None = None):
        self.store, self.now, self.stale_after = store, now, stale_after
        self.owner = owner or this_owner()

    def _ref(self, tenant: str | TenantRef) -> TenantRef:
        return tenant if isinstance(tenant, TenantRef) else self.store.tenants.ref(tenant)

    def start(self, tenant: str | TenantRef) -> int:
        """Take the tenant's lock with a new running run; raise TenantBusy if held."""
        ref = self._ref(tenant)
        self.reap(ref)
        run_id = self.store.runs.start(ref.id, self.now(), self.owner)
        if run_id is None:
            holder = self.running(ref)
            detail = (f"run {holder['id']} by {holder['owner']}, last heartbeat "
                      f"{holder['heartbeat_at'].isoformat(' ', 'seconds')}") if holder else ""
            raise TenantBusy(f"tenant {ref.name!r} is being synced by another runner "
                             f"({detail})")
        return run_id

    def running(self, tenant: str | TenantRef) -> dict[str, Any] | None:
        return self.store.runs.running(self._ref(tenant).id)

    def reap(self, tenant: str | TenantRef) -> int | None:
        """Mark the tenant's running run abandoned if its runner is gone; return its id."""
        holder = self.running(tenant)
        if holder is None:
            return None
        silent = self.now() - holder["heartbeat_at"] > self.stale_after
        if not (silent or _process_gone(holder["owner"])):
            return None
        self.store.runs.abandon(holder["id"], self.now())
        return holder["id"]

    def beat(self, run_id: int) -> None:
        self.store.runs.beat(run_id, self.now())

    def finish(self, run_id: int, status: RunStatus, summary: dict[str, Any]) -> None:
        self.store.runs.finish(run_id, status, self.now(), summary)


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
