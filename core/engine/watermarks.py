"""Named bookmarks (Singer-style state): committed only after the work they cover."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsbridge.core.engine.sqlutil import upsert
from lmsbridge.core.store.schema import now, watermarks


def read(conn: Connection, name: str) -> str | None:
    return conn.execute(select(watermarks.c.value).where(watermarks.c.name == name)).scalar()


def read_time(conn: Connection, name: str) -> datetime | None:
    value = read(conn, name)
    return None if value is None else datetime.fromisoformat(value)


def write(conn: Connection, name: str, value: str | datetime) -> None:
    text = value.isoformat() if isinstance(value, datetime) else value
    conn.execute(upsert(conn, watermarks, ["name"], ["value", "updated_at"]),
                 {"name": name, "value": text, "updated_at": now()})
