"""Learner progress from the provider into the store (:mod:`lmsbridge.core.store.grades`).

The provider watermark moves only after every batch before it is committed: a crash
re-reads, never skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from attrs import define

from lmsbridge.core.model import Progress, Provider
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store

BATCH = 1000


@define
class IngestResult:
    provider: str
    read: int = 0
    new: int = 0
    changed: int = 0


def watermark_name(provider: Provider) -> str:
    return f"progress:{provider.name}"


def ingest(store: Store, registry: Registry, runtime: Runtime, provider: Provider,
           *, full: bool = False) -> IngestResult:
    since = None if full else store.watermarks.read_time(watermark_name(provider))
    result = IngestResult(provider.name)
    newest = since
    stream = iter(registry.read_progress(provider, since, runtime))
    while batch := list(islice(stream, BATCH)):
        result.read += len(batch)
        newest = max([newest, *(p.updated_at for p in batch)], key=_orderable)
        store_batch(store, batch, result, provider)
    if newest is not None and newest != since:
        store.watermarks.write(watermark_name(provider), newest)
    return result


def store_batch(store: Store, batch: Iterable[Progress], result: IngestResult,
                provider: Provider | None = None) -> None:
    new, changed = store.grades.store_batch(batch, provider)
    result.new += new
    result.changed += changed


def _orderable(value: datetime | None):
    return (value is not None, value)
