"""Single use of launch nonces, enforced by the store's primary key (INSERT or fail).

Called only after the id_token's signature and claims checked out, so nobody can fill the
table with made-up nonces (CVE-2026-34052). A nonce is kept until its token could no longer
be accepted anyway; expired rows are swept at most once a minute per process (a sweep on
every launch doubled its cost; rows kept a little longer only take space).
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from lmsbridge.core.store.schema import nonces

PREFIX = "lti-launch:"  # the nonces table is shared; keep our namespace apart
SWEEP_EVERY = timedelta(minutes=1)
_INSERT = nonces.insert()  # built once: building it per launch cost more than running it

_next_sweep: weakref.WeakKeyDictionary[Engine, datetime] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _sweep_due(engine: Engine, now: datetime) -> bool:
    with _lock:
        due = _next_sweep.get(engine)
        if due is not None and now < due:
            return False
        _next_sweep[engine] = now + SWEEP_EVERY
        return True


def consume_nonce(engine: Engine, nonce: str, *, keep_until: datetime, now: datetime) -> bool:
    """True the first time ``nonce`` is seen (and records it); False on any reuse."""
    try:
        with engine.begin() as conn:
            conn.execute(_INSERT, {"value": PREFIX + nonce, "expires_at": keep_until})
            if _sweep_due(engine, now):
                conn.execute(delete(nonces).where(nonces.c.expires_at < now))
    except IntegrityError:
        return False
    return True
