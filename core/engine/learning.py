"""Learning platforms (Oracle Learning): catalog pushed as content, progress as completions.

A learning platform has no course shells, launches or gradebook columns. Per sync:

- every live course of the tenant's activated programs is published (``Publication`` with no
  context); the adapter looks each one up and writes only what changed. What it answered is
  kept in ``published_links`` (see :meth:`~lmsbridge.core.store.learning.Learning.
  record_published`), so a course retired upstream reaches the adapter's retire hook through
  :func:`~lmsbridge.core.engine.catalog.retire_links` like any LMS link.
- deliveries are planned from course progress and final grades (:func:`cells`): a start for
  a learner who started a course, a completion with the final grade once they completed it.
  Planning and outbox are the LMS ones; a due delivery reaches the adapter with its typed
  :class:`~lmsbridge.core.model.Completion` (learner identity, course, event).
"""

from __future__ import annotations

from attrs import define, field

from lmsbridge.core.capabilities import AdapterKind
from lmsbridge.core.model import Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.learning import CONTEXT, cells, identify_by

__all__ = ["CONTEXT", "ContentResult", "cells", "identify_by", "is_learning", "publish",
           "without_identity"]


def is_learning(registry: Registry, tenant: Tenant) -> bool:
    return registry.adapter(tenant.kind).spec.kind == AdapterKind.LEARNING


@define
class ContentResult:
    # The adapter's own counts (created/updated/unchanged/skipped/failed) when it exposes
    # them on what it returns; otherwise only what the answer shows: published / failed.
    counts: dict[str, int] = field(factory=dict)
    errors: list[str] = field(factory=list)


def publish(store: Store, registry: Registry, runtime: Runtime, tenant: Tenant) -> ContentResult:
    result = ContentResult()
    ref = store.tenants.ref(tenant.name)
    pubs = store.learning.publications(ref)
    if not pubs:
        return result
    try:
        answered = registry.publish_content(tenant, None, pubs, runtime)
    except Exception as exc:  # the platform is down: completions may still go out later
        result.errors.append(f"publishing content: {type(exc).__name__}: {exc}")
        return result
    done = [p for p in answered if p.platform_ref]
    store.learning.record_published(ref, tenant.grade_sync.value, done)
    counts = getattr(answered, "counts", None)
    if isinstance(counts, dict):
        result.counts = {k: int(v) for k, v in counts.items()}
    else:
        result.counts = {"published": len(done), "failed": len(answered) - len(done)}
    return result


def without_identity(store: Store, tenant: Tenant) -> list[str]:
    """Learners with progress whom the platform could not be told about (reported only)."""
    return store.learning.without_identity(store.tenants.ref(tenant.name), tenant)
