"""Drain a tenant's outbox through its adapter, at most ``max_in_flight`` calls at a time.

Each batch (one context, up to ``batch_size`` writes) is one ``write_grades`` call; its
answers are recorded as soon as it returns, so a runner killed mid-run loses at most the
batches in flight — their deliveries are still pending and go out on the next run. Retries
wait what the platform asked (Retry-After) or back off exponentially; a wait longer than
``max_wait`` is left to the next run. Draining starts with
:meth:`~lmsbridge.core.store.outbox.Outbox.reopen`: failed deliveries not refused for good
are queued again, and ones a newer grade replaced dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from attrs import define, evolve

from lmsbridge.core.engine.backoff import retry_delay
from lmsbridge.core.engine.scope import TenantScope
from lmsbridge.core.model import Context, Delivery, DeliveryResult, Outcome

Progress = Callable[[int], None]
SLICES_PER_SLOT = 4  # batches per concurrent slot, so slots finish at about the same time


@define
class DeliveryOptions:
    batch_size: int = 50
    max_wait: float = 60.0  # seconds a run waits for a retry before leaving it to the next
    max_rounds: int = 5


@define
class DeliveryCounts:
    sent: int = 0  # DELIVERED
    current: int = 0  # CURRENT: the platform already held it
    waiting_for_column: int = 0
    requeued: int = 0  # failed deliveries queued again by Outbox.reopen
    dropped: int = 0  # failed deliveries a newer revision of their cell replaced


def drain(scope: TenantScope, sleep: Callable[[float], None],
          options: DeliveryOptions | None = None,
          progress: Progress | None = None, *, shells: bool = True) -> DeliveryCounts:
    """``shells`` False: the platform has no course shells or columns (a learning platform);
    every due delivery is ready and goes out with no context."""
    options = options or DeliveryOptions()
    outbox, now = scope.store.outbox, scope.now
    in_flight = scope.registry.adapter(scope.tenant.kind).spec.max_in_flight
    counts = DeliveryCounts()
    counts.requeued, counts.dropped = outbox.reopen(scope.ref)
    for round_ in range(options.max_rounds):
        todo = outbox.due(scope.ref, now())
        ready = todo
        if not shells:  # typed learner identity and course, read here, not by the adapter
            ready = todo = scope.store.learning.completions(todo)
        else:
            refs = scope.store.columns.refs(scope.ref)
            ready = [evolve(d, column_ref=refs[(d.context_id, d.column_key)]) for d in todo
                     if (d.context_id, d.column_key) in refs]
        counts.waiting_for_column = len(todo) - len(ready)
        if ready:
            _send_all(scope, ready, in_flight, options, counts, progress, shells)
        nxt = outbox.next_due(scope.ref)
        if nxt is None or round_ + 1 == options.max_rounds:
            break
        wait = (nxt - now()).total_seconds()
        if wait > options.max_wait:
            break
        sleep(max(0.0, wait))
    return counts


def batch_size(todo: int, in_flight: int, largest: int) -> int:
    """Small enough that every slot stays busy to the end: adapters without a bulk API
    (AGS: one POST per score) send a batch one grade after another, so a few big batches
    would leave most of ``in_flight`` idle while the last ones drain."""
    return max(1, min(largest, math.ceil(todo / (in_flight * SLICES_PER_SLOT))))


def chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _send_all(scope: TenantScope, ready: list[Delivery], in_flight: int,
              options: DeliveryOptions, counts: DeliveryCounts,
              progress: Progress | None, shells: bool) -> None:
    tenant, registry, runtime = scope.tenant, scope.registry, scope.runtime
    by_context: dict[str, list[Delivery]] = {}
    for d in ready:
        by_context.setdefault(d.context_id, []).append(d)
    contexts: dict[str, Context | None] = (scope.store.contexts.many(scope.ref, by_context)
                                           if shells else dict.fromkeys(by_context))
    size = batch_size(len(ready), in_flight, options.batch_size)
    batches = [(contexts[cid], batch) for cid, group in by_context.items()
               for batch in chunks(group, size)]

    def send(context, batch: list[Delivery]) -> dict[Outcome, int]:
        try:
            results = registry.write_grades(tenant, context, batch, runtime)
        except Exception as exc:  # the platform or adapter failed the whole call
            detail = f"{type(exc).__name__}: {exc}"[:500]
            results = [DeliveryResult(d.dedupe_key, Outcome.RETRY, detail) for d in batch]
        return scope.store.outbox.record(scope.ref, batch, results or [], scope.now(),
                                         retry_delay)

    with ThreadPoolExecutor(max_workers=in_flight,
                            thread_name_prefix=f"deliver-{tenant.name}") as pool:
        futures = {pool.submit(send, context, batch): len(batch)
                   for context, batch in batches}
        for future in as_completed(futures):
            answered = future.result()
            counts.sent += answered[Outcome.DELIVERED]
            counts.current += answered[Outcome.CURRENT]
            if progress is not None:
                progress(futures[future])
