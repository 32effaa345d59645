"""Named bookmarks (Singer-style state): committed only after the work they cover.

The functions work inside a caller's transaction (a repository that commits a bookmark with
the work it covers); :class:`Watermarks` reads and writes one on its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from lmsbridge.core.store.schema import now, watermarks
from lmsbridge.core.store.sqlutil import upsert


def read(conn: Connection, name: str) -> str | None:
    return conn.execute(select(watermarks.c.value).where(watermarks.c.name == name)).scalar()


def read_time(conn: Connection, name: str) -> datetime | None:
    value = read(conn, name)
    return None if value is None else datetime.fromisoformat(value)


def write(conn: Connection, name: str, value: str | datetime) -> None:
    text = value.isoformat() if isinstance(value, datetime) else value
    conn.execute(upsert(conn, watermarks, ["name"], ["value", "updated_at"]),
                 {"name": name, "value": text, "updated_at": now()})


class Watermarks:
    def __init__(self, engine: Engine):
        self.engine = engine

    def read(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return read(conn, name)

    def read_time(self, name: str) -> datetime | None:
        with self.engine.connect() as conn:
            return read_time(conn, name)

    def write(self, name: str, value: str | datetime) -> None:
        with self.engine.begin() as conn:
            write(conn, name, value)
