"""Learner progress from the provider into the ``grades`` table, with revisions.

A grade's revision grows only when its score changes, so planning can tell "new or changed
since the last confirmed delivery" by comparing revisions. When a learner started and
completed each course goes to ``course_progress`` (learning platforms report those). The
provider watermark moves only after every batch before it is committed: a crash re-reads,
never skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from attrs import define
from sqlalchemy import select, tuple_

from lmsbridge.core.engine import learners, watermarks
from lmsbridge.core.model import Progress, Provider
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import course_progress, grades

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
    with store.engine.connect() as conn:
        since = None if full else watermarks.read_time(conn, watermark_name(provider))
    result = IngestResult(provider.name)
    newest = since
    stream = iter(registry.read_progress(provider, since, runtime))
    while batch := list(islice(stream, BATCH)):
        result.read += len(batch)
        newest = max([newest, *(p.updated_at for p in batch)], key=_orderable)
        store_batch(store, batch, result, provider)
    if newest is not None and newest != since:
        with store.engine.begin() as conn:
            watermarks.write(conn, watermark_name(provider), newest)
    return result


def store_batch(store: Store, batch: Iterable[Progress], result: IngestResult,
                provider: Provider | None = None) -> None:
    batch = list(batch)
    key = tuple_(grades.c.learner_id, grades.c.course_id, grades.c.item_id)
    with store.engine.begin() as conn:
        ours = learners.resolve(conn, batch, provider)
        _store_course_progress(conn, batch, ours)
        latest: dict[tuple[str, str, str], Progress] = {}
        for p in batch:  # the last word on a cell within a batch wins
            if p.score is not None:
                latest[(ours[p.learner_id], p.course_id, p.item_id or "")] = p
        existing = {(r.learner_id, r.course_id, r.item_id): r for r in conn.execute(
            select(grades.c.learner_id, grades.c.course_id, grades.c.item_id, grades.c.score,
                   grades.c.max_score, grades.c.revision).where(key.in_(list(latest))))}
        inserts, updates = [], []
        for cell, p in latest.items():
            row = existing.get(cell)
            values = {"learner_id": cell[0], "course_id": cell[1], "item_id": cell[2],
                      # A score above its maximum would be refused by every platform.
                      "score": min(p.score, p.max_score), "max_score": p.max_score,
                      "updated_at": p.updated_at}
            if row is None:
                inserts.append({**values, "revision": 1})
            elif (row.score, row.max_score) != (values["score"], values["max_score"]):
                updates.append({**values, "revision": row.revision + 1})
        if inserts:
            conn.execute(grades.insert(), inserts)
        for values in updates:
            conn.execute(grades.update().where(
                (grades.c.learner_id == values["learner_id"])
                & (grades.c.course_id == values["course_id"])
                & (grades.c.item_id == values["item_id"])).values(**values))
        result.new += len(inserts)
        result.changed += len(updates)


def _store_course_progress(conn, batch: list[Progress], ours: dict[str, str]) -> None:
    """Earliest start and latest completion per (learner, course). Activity without a start
    time counts as started at that activity: the learner had certainly begun by then."""
    seen: dict[tuple[str, str], dict] = {}
    for p in batch:
        cell = (ours[p.learner_id], p.course_id)
        row = seen.setdefault(cell, {"learner_id": cell[0], "course_id": cell[1],
                                     "started_at": None, "completed_at": None,
                                     "updated_at": p.updated_at})
        row["started_at"] = _earliest(row["started_at"], p.started_at or p.updated_at)
        row["completed_at"] = _latest(row["completed_at"], p.completed_at)
        row["updated_at"] = _latest(row["updated_at"], p.updated_at)
    if not seen:
        return
    cp = course_progress
    key = tuple_(cp.c.learner_id, cp.c.course_id)
    existing = {(r.learner_id, r.course_id): r for r in conn.execute(
        select(cp).where(key.in_(list(seen))))}
    for cell, row in seen.items():
        had = existing.get(cell)
        if had is None:
            conn.execute(cp.insert().values(**row))
            continue
        values = {"started_at": _earliest(had.started_at, row["started_at"]),
                  "completed_at": _latest(had.completed_at, row["completed_at"]),
                  "updated_at": _latest(had.updated_at, row["updated_at"])}
        if values != {k: getattr(had, k) for k in values}:
            conn.execute(cp.update().where(cp.c.id == had.id).values(**values))


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _orderable(value: datetime | None):
    return (value is not None, value)
