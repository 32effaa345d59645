"""Catalog sync: the activated programs' courses and items, as the provider has them now.

Runs at most once a day unless forced: a course added to an activated program is publishable
within 24 hours, and support can force a read. Content missing upstream is marked retired
and every live link to it is handed to the tenant adapter's retire hook.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import define, field

from lmsbridge.core.engine.learning import CONTEXT as LEARNING_CONTEXT
from lmsbridge.core.errors import AdapterError
from lmsbridge.core.model import Program, Publication
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.catalog import RetiringLink

WATERMARK = "catalog:synced_at"
INTERVAL = timedelta(hours=24)


@define
class CatalogResult:
    ran: bool = False
    programs: int = 0
    added_courses: list[str] = field(factory=list)
    retired_courses: list[str] = field(factory=list)
    retired_items: list[str] = field(factory=list)
    missing_programs: list[str] = field(factory=list)  # activated, but no provider has them
    # tenant -> publication keys the platform now shows retired / still shows (stale links)
    retired_links: dict[str, list[str]] = field(factory=dict)
    stale_links: dict[str, list[str]] = field(factory=dict)
    errors: list[str] = field(factory=list)  # retire calls that failed: retried next time


def is_due(store: Store, now: datetime) -> bool:
    last = store.watermarks.read_time(WATERMARK)
    return last is None or now - last >= INTERVAL


def activated_program_ids(store: Store) -> dict[str | None, list[str]]:
    """Activated program ids by the provider of the tenants that activated them (None: a
    tenant that belongs to no provider yet, whose programs any provider may supply)."""
    wanted: dict[str | None, set[str]] = {}
    for t in store.tenants.list():
        wanted.setdefault(t.provider, set()).update(
            a.program_id for a in store.programs.activated(t.name))
    return {p: sorted(ids) for p, ids in wanted.items() if ids}


def sync(store: Store, registry: Registry, runtime: Runtime, now: Callable[[], datetime],
         *, force: bool = False) -> CatalogResult:
    result = CatalogResult()
    if not force and not is_due(store, now()):
        return result
    by_provider = activated_program_ids(store)
    unowned = by_provider.pop(None, [])
    upstream: dict[str, tuple[Program, str]] = {}
    for provider in store.providers.list():
        wanted = set(by_provider.get(provider.name, ())) | set(unowned)
        if not wanted:
            continue
        for program in registry.read_catalog(provider, sorted(wanted), runtime):
            if program.id in wanted:
                upstream.setdefault(program.id, (program, provider.name))
    wanted_ids = sorted({pid for ids in by_provider.values() for pid in ids} | set(unowned))
    result.ran = True
    result.programs = len(upstream)
    result.missing_programs = [pid for pid in wanted_ids if pid not in upstream]
    changes = store.catalog.store(upstream.values(), now(), WATERMARK)
    result.added_courses.extend(changes.added_courses)
    result.retired_courses.extend(changes.retired_courses)
    result.retired_items.extend(changes.retired_items)
    retire_links(store, registry, runtime, result)
    return result


def retire_links(store: Store, registry: Registry, runtime: Runtime,
                 result: CatalogResult, tenant_id: int | None = None) -> None:
    """Hand every live link (of the tenant ``tenant_id``, or all) to retired content to its
    tenant's adapter, then mark it. A call that fails leaves its links live, to be tried
    again."""
    by_target: dict[tuple[str, str], list[RetiringLink]] = {}
    for link in store.catalog.retiring_links(tenant_id):
        by_target.setdefault((link.tenant.name, link.context_id), []).append(link)
    for (tenant_name, context_id), group in sorted(by_target.items()):
        owner = store.tenants.get(tenant_name)
        # A learning platform's content lives in no course shell (see engine.learning).
        shell = context_id != LEARNING_CONTEXT
        pubs = [_publication(link, shell) for link in group]
        try:
            answered = registry.retire_content(
                owner, store.contexts.get(group[0].tenant, context_id) if shell else None,
                pubs, runtime)
        except AdapterError:  # the adapter has no retire hook: the links are stale
            answered = pubs
        except Exception as exc:  # platform down: the links stay live and are tried again
            result.errors.append(f"retiring content of {tenant_name}: "
                                 f"{type(exc).__name__}: {exc}")
            continue
        retired = {p.key for p in answered if p.retired}
        result.retired_links.setdefault(tenant_name, []).extend(sorted(retired))
        result.stale_links.setdefault(tenant_name, []).extend(
            sorted(p.key for p in pubs if p.key not in retired))
        store.catalog.mark_links_retired([link.id for link in group])


def _publication(link: RetiringLink, shell: bool = True) -> Publication:
    return Publication(link.tenant.name, link.program, link.course, link.item,
                       context_id=link.context_id if shell else None,
                       platform_ref=link.platform_ref)
