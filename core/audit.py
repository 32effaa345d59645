"""Audit every adapter call: tenant, hook, adapter, who, duration, outcome and detail.

Implemented as pluggy wrappers around each hook that takes a ``tenant`` or ``provider``, so
adapters get auditing without writing a line. Records go to the ``lmsbridge.audit`` logger
and to ``Audit.sinks``; wherever a store meets a registry (the sync engine, the CLI) the
store's :meth:`~lmsbridge.core.store.Store.record_audit` is attached as a sink.

A hook returning an iterator (a roster, progress stream) is recorded when the iterator ends
— exhausted, failed or dropped — so its outcome and duration cover the reads it makes; the
duration counts only time spent inside the adapter. ``detail`` holds counts and ids (course
shell, programs), never arguments' contents. A failing sink is logged and never fails the
hook call.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import pluggy
from attrs import field, frozen

from lmsbridge.core import hookspecs
from lmsbridge.core.hookspecs import NAME

hookimpl = pluggy.HookimplMarker(NAME)
log = logging.getLogger("lmsbridge.audit")


def hooks_owned_by(argument: str, annotation: str) -> tuple[str, ...]:
    """The hooks in :mod:`~lmsbridge.core.hookspecs` taking ``argument`` annotated
    ``annotation`` (hookspecs.py's annotations are strings), in the order defined there."""
    owned = []
    for name, spec in vars(hookspecs).items():
        if getattr(spec, f"{NAME}_spec", None) is None:
            continue
        param = inspect.signature(spec).parameters.get(argument)
        if param is not None and param.annotation == annotation:
            owned.append(name)
    return tuple(owned)


# The audited hooks, read off hookspecs.py: those called for one tenant or provider (not
# e.g. lmsbridge_platform_setup's ``tenant: str | None``, a name for the setup text). One
# wrapper each below; tests/test_hooks.py checks every one is wrapped.
TENANT_HOOKS = hooks_owned_by("tenant", "Tenant")
PROVIDER_HOOKS = hooks_owned_by("provider", "Provider")
ERROR_CHARS = 500
_acting: ContextVar[str | None] = ContextVar("lmsbridge_audit_actor", default=None)


@frozen
class AuditRecord:
    """One audit row: an adapter hook call, or an admin action (``hook`` is then the action
    name, e.g. "tenant.add", and ``adapter`` None)."""

    owner: str  # tenant or provider name; "tool" for tool-wide admin actions
    adapter: str | None
    hook: str
    duration_ms: float
    outcome: str  # "ok" or "error" ("refused": a launch the tool turned away)
    error: str | None = None  # "Type: message", one line, at most ERROR_CHARS
    actor: str = "engine"  # "engine", "cli:<os user>" or "lti:<issuer>#<sub>"
    detail: Mapping[str, Any] = field(factory=dict, hash=False)
    at: datetime | None = None  # set on records read back from the store


Sink = Callable[[AuditRecord], None]


def error_text(exc: BaseException) -> str:
    """The type and the first line of the message: SQLAlchemy and HTTP errors put SQL,
    parameters or bodies on later lines."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")[:ERROR_CHARS]


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Hook calls made in this context (this thread, not threads it starts) are recorded as
    done by ``actor``, e.g. the admin whose command reads the catalog."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


class Audit:
    """The core plugin holding the audit wrappers; ``sinks`` receive every record."""

    def __init__(self, actor: str = "engine") -> None:
        self.sinks: list[Sink] = []
        self.actor = actor

    def attach(self, sink: Sink) -> None:
        """Add ``sink`` unless it is already there (the engine and the CLI may both attach
        the same store)."""
        if sink not in self.sinks:
            self.sinks.append(sink)

    def emit(self, record: AuditRecord) -> None:
        log.debug("%s %s on %s by %s: %s in %.1f ms", record.adapter, record.hook,
                  record.owner, record.actor, record.outcome, record.duration_ms)
        for sink in list(self.sinks):
            try:
                sink(record)
            except Exception as exc:  # auditing must never fail the call it records
                log.warning("audit sink failed recording %s on %s: %s", record.hook,
                            record.owner, error_text(exc))

    def _observe(self, hook: str, owner: Any, detail: dict[str, Any],
                 describe: Callable[[Any], dict[str, Any]] | None = None,
                 ) -> Generator[None, Any, Any]:
        start = time.perf_counter()
        try:
            result = yield
        except BaseException as exc:
            # The type and message only: adapters keep secrets out of messages, and a
            # traceback here would repeat what the caller's own error handling shows.
            self._record(hook, owner, _ms(start), "error", error_text(exc), detail)
            raise
        if isinstance(result, Iterator):
            return _Stream(self, hook, owner, detail, result, _ms(start))
        if describe is not None:
            try:
                detail = {**detail, **describe(result)}
            except Exception:  # an odd result type costs the detail, never the call
                log.debug("cannot describe the result of %s", hook, exc_info=True)
        self._record(hook, owner, _ms(start), "ok", None, detail)
        return result

    def _record(self, hook: str, owner: Any, duration_ms: float, outcome: str,
                error: str | None, detail: dict[str, Any]) -> None:
        self.emit(AuditRecord(owner.name, owner.kind, hook, duration_ms, outcome, error,
                              _acting.get() or self.actor, detail))

    # One wrapper per hook: pluggy passes a wrapper only the arguments its signature
    # names.
    @hookimpl(wrapper=True, specname="lmsbridge_ensure_columns")
    def audit_ensure_columns(self, tenant, context, columns):
        return (yield from self._observe("lmsbridge_ensure_columns", tenant,
                                         {**_context(context), "columns": _len(columns)},
                                         _count("returned")))

    @hookimpl(wrapper=True, specname="lmsbridge_write_grades")
    def audit_write_grades(self, tenant, context, deliveries):
        return (yield from self._observe("lmsbridge_write_grades", tenant,
                                         {**_context(context), "deliveries": _len(deliveries)},
                                         _outcomes))

    @hookimpl(wrapper=True, specname="lmsbridge_read_roster")
    def audit_read_roster(self, tenant, context):
        return (yield from self._observe("lmsbridge_read_roster", tenant, _context(context),
                                         _count("read")))

    @hookimpl(wrapper=True, specname="lmsbridge_publish_content")
    def audit_publish_content(self, tenant, context, publications):
        return (yield from self._observe("lmsbridge_publish_content", tenant,
                                         {**_context(context),
                                          "publications": _len(publications)},
                                         _count("returned")))

    @hookimpl(wrapper=True, specname="lmsbridge_retire_content")
    def audit_retire_content(self, tenant, context, publications):
        return (yield from self._observe("lmsbridge_retire_content", tenant,
                                         {**_context(context),
                                          "publications": _len(publications)},
                                         _count("returned")))

    @hookimpl(wrapper=True, specname="lmsbridge_read_catalog")
    def audit_read_catalog(self, provider, program_ids):
        return (yield from self._observe("lmsbridge_read_catalog", provider,
                                         {"programs": _len(program_ids)}, _count("read")))

    @hookimpl(wrapper=True, specname="lmsbridge_read_progress")
    def audit_read_progress(self, provider, since):
        return (yield from self._observe("lmsbridge_read_progress", provider,
                                         {"since": None if since is None else since.isoformat()},
                                         _count("read")))

    @hookimpl(wrapper=True, specname="lmsbridge_check_connection")
    def audit_check_connection(self, tenant):
        return (yield from self._observe("lmsbridge_check_connection", tenant, {},
                                         _count("problems")))


class _Stream:
    """Passes an adapter's iterator through and records the call once it ends."""

    def __init__(self, audit: Audit, hook: str, owner: Any, detail: dict[str, Any],
                 inner: Iterator[Any], spent_ms: float) -> None:
        self._audit, self._hook, self._owner, self._detail = audit, hook, owner, detail
        self._inner, self._spent_ms, self._read, self._done = inner, spent_ms, 0, False

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        start = time.perf_counter()
        try:
            item = next(self._inner)
        except StopIteration:
            self._finish(start, "ok", None)
            raise
        except BaseException as exc:
            self._finish(start, "error", error_text(exc))
            raise
        self._spent_ms += _ms(start)
        self._read += 1
        return item

    def close(self) -> None:
        """The caller stopped reading early: close the adapter's generator and record."""
        if not self._done:
            start = time.perf_counter()
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
            self._finish(start, "ok", None, stopped_early=True)

    def __del__(self) -> None:
        if not self._done:  # dropped unread or half-read
            self._finish(time.perf_counter(), "ok", None, stopped_early=True)

    def _finish(self, start: float, outcome: str, error: str | None, *,
                stopped_early: bool = False) -> None:
        self._done = True
        detail = {**self._detail, "read": self._read}
        if stopped_early:
            detail["stopped_early"] = True
        self._audit._record(self._hook, self._owner, self._spent_ms + _ms(start), outcome,
                            error, detail)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _context(context: Any) -> dict[str, Any]:
    return {"context": getattr(context, "context_id", None)}


def _len(items: Any) -> int | None:
    return len(items) if hasattr(items, "__len__") else None


def _count(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda result: {name: _len(result)}


def _outcomes(results: Any) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in results or ():
        key = str(getattr(r, "outcome", "unknown"))
        counts[key] = counts.get(key, 0) + 1
    return {"outcomes": dict(sorted(counts.items()))}
