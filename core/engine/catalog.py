"""Catalog sync: the activated programs' courses and items, as the provider has them now.

Runs at most once a day unless forced (the seed: a course added to an activated program is
publishable within 24 hours; support can force it). Content missing upstream is marked
retired and every live link to it is handed to the tenant adapter's retire hook.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import define, field
from sqlalchemy import select

from lmsbridge.core.engine import watermarks
from lmsbridge.core.engine.contexts import load_context
from lmsbridge.core.engine.learning import CONTEXT as LEARNING_CONTEXT
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.errors import AdapterError
from lmsbridge.core.model import Course, Item, Program, Publication, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import courses, items, programs, published_links
from lmsbridge.core.store.schema import tenants as tenants_table

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
    with store.engine.connect() as conn:
        last = watermarks.read_time(conn, WATERMARK)
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
    for provider in Providers(store).list():
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
    with store.engine.begin() as conn:
        for program, provider_name in upstream.values():
            _store_program(conn, program, now(), result,
                           store.programs.provider_id(conn, provider_name))
        watermarks.write(conn, WATERMARK, now())
    retire_links(store, registry, runtime, result)
    return result


def _store_program(conn, program: Program, at: datetime, result: CatalogResult,
                   provider_id: int) -> None:
    values = {"name": program.name, "seats": program.seats, "synced_at": at,
              "provider_id": provider_id}
    if conn.execute(select(programs.c.id).where(programs.c.id == program.id)).first():
        conn.execute(programs.update().where(programs.c.id == program.id).values(**values))
    else:
        conn.execute(programs.insert().values(id=program.id, **values))
    known = {r.id: r for r in conn.execute(
        select(courses.c.id, courses.c.retired).where(courses.c.program_id == program.id))}
    for course in program.courses:
        values = {"name": course.name, "url": course.url, "description": course.description,
                  "retired": False, "synced_at": at}
        if course.id in known:
            conn.execute(courses.update().where((courses.c.program_id == program.id)
                                                & (courses.c.id == course.id)).values(**values))
            if known[course.id].retired:
                result.added_courses.append(course.id)  # back upstream
        else:
            conn.execute(courses.insert().values(program_id=program.id, id=course.id,
                                                 **values))
            result.added_courses.append(course.id)
        _store_items(conn, course, result)
    upstream_ids = {c.id for c in program.courses}
    for cid, row in known.items():
        if cid not in upstream_ids and not row.retired:
            conn.execute(courses.update().where((courses.c.program_id == program.id)
                                                & (courses.c.id == cid)).values(retired=True))
            conn.execute(items.update().where(items.c.course_id == cid).values(retired=True))
            result.retired_courses.append(cid)


def _store_items(conn, course: Course, result: CatalogResult) -> None:
    known = {r.id: r.retired for r in conn.execute(
        select(items.c.id, items.c.retired).where(items.c.course_id == course.id))}
    for item in course.items:
        values = {"name": item.name, "gradable": item.gradable, "max_score": item.max_score,
                  "retired": False}
        if item.id in known:
            conn.execute(items.update().where((items.c.course_id == course.id)
                                              & (items.c.id == item.id)).values(**values))
        else:
            conn.execute(items.insert().values(course_id=course.id, id=item.id, **values))
    upstream_ids = {i.id for i in course.items}
    for iid, retired in known.items():
        if iid not in upstream_ids and not retired:
            conn.execute(items.update().where((items.c.course_id == course.id)
                                              & (items.c.id == iid)).values(retired=True))
            result.retired_items.append(f"{course.id}/{iid}")


def retire_links(store: Store, registry: Registry, runtime: Runtime,
                 result: CatalogResult, tenant: Tenant | None = None) -> None:
    """Hand every live link (of ``tenant``, or all) to retired content to its tenant's
    adapter, then mark it. A call that fails leaves its links live, to be tried again."""
    pl = published_links
    query = (select(pl.c.id, tenants_table.c.name.label("tenant"), pl.c.context_id,
                    pl.c.program_id, pl.c.course_id, pl.c.item_id, pl.c.platform_ref,
                    programs.c.name.label("program_name"),
                    courses.c.name.label("course_name"), courses.c.retired.label("c_retired"),
                    items.c.name.label("item_name"), items.c.retired.label("i_retired"),
                    items.c.max_score, items.c.gradable)
             .join(tenants_table, tenants_table.c.id == pl.c.tenant_id)
             .join(programs, programs.c.id == pl.c.program_id)
             .join(courses, (courses.c.program_id == pl.c.program_id)
                   & (courses.c.id == pl.c.course_id))
             .outerjoin(items, (items.c.course_id == pl.c.course_id)
                        & (items.c.id == pl.c.item_id))
             .where(pl.c.retired.is_(False))
             .where(courses.c.retired.is_(True) | items.c.retired.is_(True)))
    if tenant is not None:
        query = query.where(tenants_table.c.name == tenant.name)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    by_target: dict[tuple[str, str], list] = {}
    for row in rows:
        by_target.setdefault((row.tenant, row.context_id), []).append(row)
    for (tenant_name, context_id), group in sorted(by_target.items()):
        owner = store.tenants.get(tenant_name)
        # A learning platform's content lives in no course shell (see engine.learning).
        shell = context_id != LEARNING_CONTEXT
        pubs = [_publication(owner, r, shell) for r in group]
        try:
            answered = registry.retire_content(
                owner, load_context(store, owner, context_id) if shell else None, pubs,
                runtime)
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
        with store.engine.begin() as conn:
            conn.execute(pl.update().where(pl.c.id.in_([r.id for r in group]))
                         .values(retired=True))


def _publication(tenant: Tenant, row, shell: bool = True) -> Publication:
    course = Course(row.course_id, row.program_id, row.course_name, retired=row.c_retired)
    item = None
    if row.item_id is not None:
        item = Item(row.item_id, row.course_id, row.item_name or row.item_id,
                    gradable=bool(row.gradable if row.gradable is not None else True),
                    max_score=row.max_score or 1.0, retired=bool(row.i_retired))
    return Publication(tenant.name, Program(row.program_id, row.program_name), course, item,
                       context_id=row.context_id if shell else None,
                       platform_ref=row.platform_ref)
