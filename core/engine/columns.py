"""Gradebook columns a tenant's option needs, created through the adapter only when missing.

Which columns an option needs is its module's in :mod:`lmsbridge.core.store.grade_options`
(beside the cells it fills); a column recorded with its platform id is never asked for again.
"""

from __future__ import annotations

from attrs import define, field

from lmsbridge.core.engine.scope import TenantScope
from lmsbridge.core.model import GradebookColumn


@define
class ColumnResult:
    created: int = 0
    wanted: list[GradebookColumn] = field(factory=list)  # missing before this run
    errors: list[str] = field(factory=list)


def needed(scope: TenantScope) -> list[GradebookColumn]:
    """Columns the option calls for that are not recorded as existing yet."""
    return scope.store.columns.needed(scope.ref, scope.tenant.grade_sync)


def ensure(scope: TenantScope, *, dry_run: bool = False) -> ColumnResult:
    result = ColumnResult(wanted=needed(scope))
    if dry_run:
        return result
    by_context: dict[str, list[GradebookColumn]] = {}
    for column in result.wanted:
        by_context.setdefault(column.context_id, []).append(column)
    for context_id, columns in by_context.items():
        context = scope.store.contexts.get(scope.ref, context_id)
        try:
            made = scope.registry.ensure_columns(scope.tenant, context, columns, scope.runtime)
        except Exception as exc:  # one course shell failing must not stop the others
            result.errors.append(f"columns in {context_id}: {type(exc).__name__}: {exc}")
            continue
        scope.store.columns.record(scope.ref, made)
        result.created += sum(1 for c in made if c.platform_ref)
    return result
