"""Single use of launch nonces, enforced by the store's primary key (INSERT or fail).

Called only after the id_token's signature and claims checked out, so nobody can fill the
table with made-up nonces (CVE-2026-34052). A nonce is kept until its token could no longer
be accepted anyway; expired rows are swept at most once a minute per process (a sweep on
every launch doubled its cost; rows kept a little longer only take space).

The INSERT runs on the pooled DBAPI connection (``engine.raw_connection()``) with the SQL and
bind processing SQLAlchemy compiled for that engine's dialect, once per engine: on SQLite
(WAL, synchronous=NORMAL) that is 14 us per launch against 32-36 us through a SQLAlchemy
``Connection`` (execution context, result object, transaction bookkeeping around one
statement). Same table, same stored format, same pool; PostgreSQL goes the same way.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.exc import DBAPIError

from lmsbridge.core.store.schema import nonces

PREFIX = "lti-launch:"  # the nonces table is shared; keep our namespace apart
SWEEP_EVERY = timedelta(minutes=1)

_next_sweep: weakref.WeakKeyDictionary[Engine, datetime] = weakref.WeakKeyDictionary()
_inserts: weakref.WeakKeyDictionary[Engine, _Insert] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class _Insert:
    """``INSERT INTO nonces`` compiled for one engine's dialect, ready for the DBAPI cursor."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = nonces.insert().compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = dialect.positional
        # expires_at is a TypeDecorator (UTC, naive on SQLite) over the dialect's DateTime.
        self.expires = nonces.c.expires_at.type.dialect_impl(dialect).bind_processor(dialect)
        names = compiled.positiontup if self.positional else None
        if self.positional and list(names or ()) != ["value", "expires_at"]:
            raise RuntimeError(f"unexpected nonce INSERT parameters: {names}")

    def params(self, value: str, expires_at: datetime) -> Any:
        expires: Any = self.expires(expires_at) if self.expires else expires_at
        return (value, expires) if self.positional else {"value": value, "expires_at": expires}


def _insert_for(engine: Engine) -> _Insert:
    ins = _inserts.get(engine)
    if ins is None:
        with _lock:
            ins = _inserts.setdefault(engine, _Insert(engine))
    return ins


def _sweep_due(engine: Engine, now: datetime) -> bool:
    due = _next_sweep.get(engine)
    if due is not None and now < due:  # the common case, decided without the lock
        return False
    with _lock:
        due = _next_sweep.get(engine)
        if due is not None and now < due:
            return False
        _next_sweep[engine] = now + SWEEP_EVERY
        return True


def consume_nonce(engine: Engine, nonce: str, *, keep_until: datetime, now: datetime) -> bool:
    """True the first time ``nonce`` is seen (and records it, committed); False on any reuse."""
    ins = _insert_for(engine)
    if not _run(engine, ins, ins.params(PREFIX + nonce, keep_until)):
        return False
    if _sweep_due(engine, now):  # rare: the plain SQLAlchemy path is fine here
        with engine.begin() as conn:
            conn.execute(delete(nonces).where(nonces.c.expires_at < now))
    return True


def _run(engine: Engine, ins: _Insert, params: Any) -> bool:
    dbapi = engine.dialect.loaded_dbapi
    conn = engine.raw_connection()  # pooled; close() hands it back, rolled back if need be
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(ins.sql, params)
        finally:
            cursor.close()
        conn.commit()
    except dbapi.IntegrityError:
        return False
    except dbapi.Error as exc:
        # Raised as SQLAlchemy would (callers catch sqlalchemy.exc.*), nonce left out.
        raise DBAPIError.instance(ins.sql, None, exc, dbapi.Error, hide_parameters=True,
                                  dialect=engine.dialect) from exc
    finally:
        conn.close()
    return True
