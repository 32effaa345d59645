"""What each platform holds, per gradebook cell, as of its last confirmed delivery.

Written with the delivery it confirms (:meth:`.Outbox.record`); incremental planning reads it
(:class:`.Planning`): a grade is sent only when its revision is newer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Subquery

from lmsbridge.core.store.schema import held_grades
from lmsbridge.core.store.sqlutil import upsert

CELL = ["tenant_id", "context_id", "column_key", "learner_id"]
HELD = ["score", "max_score", "grade_revision", "delivered_at"]


def hold(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Record what the platform now holds for each row's cell (``CELL`` and ``HELD`` keys)."""
    if rows:
        conn.execute(upsert(conn, held_grades, CELL, HELD), list(rows))


def against(cells: Subquery, tenant_id: int):
    """(join condition of ``cells`` to what is held, "the cell's revision is newer")."""
    h = held_grades
    on = and_(h.c.tenant_id == tenant_id, h.c.context_id == cells.c.context_id,
              h.c.column_key == cells.c.column_key, h.c.learner_id == cells.c.learner_id)
    changed = h.c.grade_revision.is_(None) | (h.c.grade_revision < cells.c.revision)
    return on, changed
