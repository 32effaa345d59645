"""Single use of launch nonces, enforced by the nonces table's primary key (INSERT or fail).

The LTI tool calls ``consume_nonce`` only after the id_token's signature and claims checked
out, so nobody can fill the table with made-up nonces (CVE-2026-34052). A nonce is kept until
its token could no longer be accepted anyway; expired rows are swept at most once a minute
per process (a sweep on every launch doubled its cost; rows kept a little longer only take
space).

The INSERT bypasses SQLAlchemy's Connection (execution context, result object, transaction
bookkeeping around one statement: 32-36 us per launch) and runs on a DBAPI connection with
the SQL and bind processing SQLAlchemy compiled for that engine's dialect, once per engine,
so the stored format is the one SQLAlchemy writes. Which DBAPI connection:

- SQLite file database: one connection per engine kept for this INSERT alone, in autocommit
  mode, behind a ``threading.Lock``. SQLite serializes writers anyway, so this loses no
  concurrency, and it saves the pool check-out/check-in and the separate BEGIN/COMMIT round:
  14-15 us per INSERT against 23-24 through the pool, side by side on a busy 2-core machine
  (10 us inside a whole launch, bench/launch.py). Autocommit means the statement
  is its own transaction, committed before ``execute`` returns (as durable as commit() under
  WAL + synchronous=NORMAL). It is taken from the engine's pool once and detached, so it
  got the same connect-time PRAGMAs (WAL, busy_timeout ...); ``Engine.dispose()``
  (``Store.dispose()``) closes it, as does the engine's garbage collection.
- Anything else (PostgreSQL, in-memory SQLite whose pool is one connection per thread): the
  pooled connection (``engine.raw_connection()``), checked out per launch.

``use_once`` is the same single use inside a caller's transaction (other prefixes: a
deep-linking session), for uses that must commit or roll back with the caller's writes.
Its rows are swept with the launch nonces.
"""

from __future__ import annotations

import os
import threading
import weakref
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import QueuePool

from lmsbridge.core.store.schema import nonces

PREFIX = "lti-launch:"  # the nonces table is shared; keep our namespace apart
SWEEP_EVERY = timedelta(minutes=1)

_inserts: weakref.WeakKeyDictionary[Engine, _Insert] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class _Insert:
    """Per engine: ``INSERT INTO nonces`` compiled for its dialect, ready for the DBAPI
    cursor, the SQLite connection kept for it (``None`` until first used, or not SQLite) and
    when the next sweep is due."""

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
        # QueuePool is what SQLAlchemy picks for a SQLite *file* (and it sets
        # check_same_thread=False there); an in-memory database is one per connection, so a
        # connection of our own would see another, empty database.
        self.own = dialect.name == "sqlite" and isinstance(engine.pool, QueuePool)
        self.conn: Any = None  # the kept sqlite3.Connection, opened on first use
        self.pid = 0  # the process that opened it: never used across a fork
        self.lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None
        self.next_sweep: datetime | None = None

    def params(self, value: str, expires_at: datetime) -> Any:
        expires: Any = self.expires(expires_at) if self.expires else expires_at
        return (value, expires) if self.positional else {"value": value, "expires_at": expires}

    def open(self, engine: Engine) -> Any:
        """The kept connection; called with ``self.lock`` held."""
        if self.conn is None or self.pid != os.getpid():
            proxied = engine.raw_connection()  # runs the engine's connect hooks (PRAGMAs)
            proxied.detach()  # ours now: the pool forgets it and never hands it out
            conn = proxied.dbapi_connection
            conn.isolation_level = None  # autocommit: no BEGIN/COMMIT around one INSERT
            # Closed with the engine even if nobody disposes it; holds no ref to the engine.
            self._finalizer = weakref.finalize(engine, _close, conn, os.getpid())
            self.conn, self.pid = conn, os.getpid()
        return self.conn

    def close(self) -> None:
        with self.lock:
            conn, self.conn = self.conn, None
            if conn is not None:
                self._finalizer.detach()  # type: ignore[union-attr]
                _close(conn, self.pid)


def _close(conn: Any, pid: int) -> None:
    if pid == os.getpid():  # a forked child leaves its parent's connection alone
        conn.close()


def _insert_for(engine: Engine) -> _Insert:
    ins = _inserts.get(engine)
    if ins is None:
        with _lock:
            ins = _inserts.get(engine)
            if ins is None:
                ins = _inserts[engine] = _Insert(engine)
                if ins.own:
                    event.listen(engine, "engine_disposed", _on_dispose)
    return ins


def _on_dispose(engine: Engine) -> None:
    # Engine.dispose() closes the pooled connections; ours goes too (reopened if the
    # engine is used again, as the pool's are).
    ins = _inserts.get(engine)
    if ins is not None:
        ins.close()


def _sweep_due(ins: _Insert, now: datetime) -> bool:
    due = ins.next_sweep
    if due is not None and now < due:  # the common case, decided without the lock
        return False
    with _lock:
        due = ins.next_sweep
        if due is not None and now < due:
            return False
        ins.next_sweep = now + SWEEP_EVERY
        return True


def consume_nonce(engine: Engine, nonce: str, *, keep_until: datetime, now: datetime) -> bool:
    """True the first time ``nonce`` is seen (and records it, committed); False on any reuse."""
    ins = _insert_for(engine)
    params = ins.params(PREFIX + nonce, keep_until)
    if not (_run_own(engine, ins, params) if ins.own else _run_pooled(engine, ins, params)):
        return False
    if _sweep_due(ins, now):  # rare: the plain SQLAlchemy path is fine here
        with engine.begin() as conn:
            conn.execute(delete(nonces).where(nonces.c.expires_at < now))
    return True


def _run_own(engine: Engine, ins: _Insert, params: Any) -> bool:
    dbapi = engine.dialect.loaded_dbapi
    try:
        with ins.lock:
            ins.open(engine).execute(ins.sql, params)  # autocommit: committed on return
    except dbapi.IntegrityError:
        return False
    except dbapi.Error as exc:
        raise _wrapped(engine, ins, exc) from exc
    return True


def _run_pooled(engine: Engine, ins: _Insert, params: Any) -> bool:
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
        raise _wrapped(engine, ins, exc) from exc
    finally:
        conn.close()
    return True


def _wrapped(engine: Engine, ins: _Insert, exc: Exception) -> DBAPIError:
    # Raised as SQLAlchemy would (callers catch sqlalchemy.exc.*), the nonce left out.
    return DBAPIError.instance(ins.sql, None, exc, engine.dialect.loaded_dbapi.Error,
                               hide_parameters=True, dialect=engine.dialect)


def use_once(conn: Connection, key: str, *, keep_until: datetime) -> bool:
    """Record ``key`` (with the caller's own prefix, never PREFIX) as used, inside ``conn``'s
    transaction. True the first time; False if a committed transaction used it, or a
    concurrent one that then commits (the INSERT waits for it on the primary key). After
    False the caller must roll back: PostgreSQL has aborted the transaction. Like
    consume_nonce, only for keys nobody can make up (from a value the tool signed)."""
    if key.startswith(PREFIX):
        raise ValueError(f"{PREFIX!r} is the launch nonces' prefix")
    try:
        conn.execute(nonces.insert().values(value=key, expires_at=keep_until))
    except IntegrityError:
        return False
    return True


class Nonces:
    """``store.nonces``: the functions above for the store's engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def consume(self, nonce: str, *, keep_until: datetime, now: datetime) -> bool:
        return consume_nonce(self.engine, nonce, keep_until=keep_until, now=now)

    @staticmethod
    def use_once(conn: Connection, key: str, *, keep_until: datetime) -> bool:
        return use_once(conn, key, keep_until=keep_until)
