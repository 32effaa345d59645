"""Gradebook columns (``gradebook_columns``): those the platform confirmed, with its ids.

A column recorded with its platform id is never asked for again.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, and_, select

from lmsbridge.core.model import GradebookColumn, GradeSync
from lmsbridge.core.store import grade_options
from lmsbridge.core.store.schema import gradebook_columns
from lmsbridge.core.store.tenants import TenantRef


class Columns:
    def __init__(self, engine: Engine):
        self.engine = engine

    def needed(self, tenant: TenantRef, option: GradeSync) -> list[GradebookColumn]:
        """Columns the option calls for that are not recorded as existing yet, by
        (context, key)."""
        gc = gradebook_columns
        with self.engine.connect() as conn:
            wanted = [GradebookColumn(tenant.name, r.context_id, r.column_key, r.label,
                                      r.score_maximum, r.resource_link_id)
                      for r in conn.execute(grade_options.of(option).columns(tenant.id))]
            have = {(r.context_id, r.key) for r in conn.execute(
                select(gc.c.context_id, gc.c.key).where(gc.c.tenant_id == tenant.id,
                                                        gc.c.platform_ref.is_not(None)))}
        unique = {(c.context_id, c.key): c for c in wanted}
        return [c for k, c in sorted(unique.items()) if k not in have]

    def record(self, tenant: TenantRef, columns: Iterable[GradebookColumn]) -> None:
        """Remember the columns the platform made (those with a platform id)."""
        gc = gradebook_columns
        with self.engine.begin() as conn:
            for c in columns:
                if not c.platform_ref:
                    continue
                where = and_(gc.c.tenant_id == tenant.id, gc.c.context_id == c.context_id,
                             gc.c.key == c.key)
                values = {"label": c.label, "score_maximum": c.score_maximum,
                          "resource_link_id": c.resource_link_id,
                          "platform_ref": c.platform_ref}
                if conn.execute(select(gc.c.id).where(where)).first():
                    conn.execute(gc.update().where(where).values(**values))
                else:
                    conn.execute(gc.insert().values(tenant_id=tenant.id,
                                                    context_id=c.context_id, key=c.key,
                                                    **values))

    def refs(self, tenant: TenantRef) -> dict[tuple[str, str], str]:
        """(context_id, column key) -> the platform's column id."""
        gc = gradebook_columns
        with self.engine.connect() as conn:
            return {(r.context_id, r.key): r.platform_ref for r in conn.execute(
                select(gc.c.context_id, gc.c.key, gc.c.platform_ref).where(
                    gc.c.tenant_id == tenant.id, gc.c.platform_ref.is_not(None)))}
