"""Audit every adapter call: tenant, hook, adapter, duration and outcome.

Implemented as pluggy wrappers around each hook that takes a ``tenant`` or ``provider``, so
adapters get auditing without writing a line. Records go to sinks: the ``lmsbridge.audit``
logger always, and the store's audit table when the engine attaches it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any

import pluggy
from attrs import frozen

from lmsbridge.core.hookspecs import NAME

hookimpl = pluggy.HookimplMarker(NAME)
log = logging.getLogger("lmsbridge.audit")

TENANT_HOOKS = ("lmsbridge_ensure_columns", "lmsbridge_write_grades", "lmsbridge_read_roster",
                "lmsbridge_publish_content", "lmsbridge_retire_content")
PROVIDER_HOOKS = ("lmsbridge_read_catalog", "lmsbridge_read_progress")


@frozen
class AuditRecord:
    owner: str  # tenant or provider name
    adapter: str
    hook: str
    duration_ms: float
    outcome: str  # "ok" or "error"
    error: str | None = None


Sink = Callable[[AuditRecord], None]


class Audit:
    """The core plugin holding the audit wrappers; ``sinks`` receive every record."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []

    def _observe(self, hook: str, owner: Any) -> Generator[None, Any, Any]:
        start = time.perf_counter()
        try:
            result = yield
        except BaseException as exc:
            # The type and message only: adapters keep secrets out of messages, and a
            # traceback here would repeat what the caller's own error handling shows.
            self._emit(AuditRecord(owner.name, owner.kind, hook, _ms(start), "error",
                                   f"{type(exc).__name__}: {exc}"[:500]))
            raise
        self._emit(AuditRecord(owner.name, owner.kind, hook, _ms(start), "ok"))
        return result

    def _emit(self, record: AuditRecord) -> None:
        log.debug("%s %s on %s: %s in %.1f ms", record.adapter, record.hook, record.owner,
                  record.outcome, record.duration_ms)
        for sink in self.sinks:
            sink(record)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _tenant_wrapper(hook: str):
    @hookimpl(wrapper=True, specname=hook)
    def wrapper(self, tenant):
        return (yield from self._observe(hook, tenant))

    return wrapper


def _provider_wrapper(hook: str):
    @hookimpl(wrapper=True, specname=hook)
    def wrapper(self, provider):
        return (yield from self._observe(hook, provider))

    return wrapper


for _hook in TENANT_HOOKS:
    setattr(Audit, f"audit_{_hook}", _tenant_wrapper(_hook))
for _hook in PROVIDER_HOOKS:
    setattr(Audit, f"audit_{_hook}", _provider_wrapper(_hook))
