"""SQL the repositories need on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignoring_conflicts(conn: Connection, table: Table, index_elements: Sequence[str]):
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def upsert(conn: Connection, table: Table, index_elements: Sequence[str],
           update: Sequence[str]):
    """``INSERT … ON CONFLICT (…) DO UPDATE SET`` the ``update`` columns from the new row."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(index_elements=list(index_elements),
                                      set_={name: stmt.excluded[name] for name in update})
