"""What no view answered itself: a refusal that escaped (a page naming its rule), a busy,
full or unreachable database (503 with Retry-After: the request may work in a moment), and
anything else (500: logged with its traceback by Flask, the page says nothing of it).

Busy means another writer holds the lock longer than the web store waits (``WEB_LOCK_WAIT_MS``
in ``core/store/database.py``), e.g. the nightly sync on SQLite.
"""

from __future__ import annotations

from flask import Flask, Response, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import InternalServerError

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.web.pages import log, page, refusal

BUSY, FULL, UNAVAILABLE = "database_busy", "database_full", "database_unavailable"
RETRY_AFTER = {BUSY: 5, FULL: 60, UNAVAILABLE: 30}  # seconds
_REASONS = {BUSY: "the tool's database is busy with other work",
            FULL: "the tool's database has no room to record this request",
            UNAVAILABLE: "the tool's database cannot be reached"}
_HINT = "Open the link again from your course in a moment."

# sqlite3 primary result codes (sqlite_errorcode & 0xFF)
_SQLITE = {5: BUSY, 6: BUSY, 13: FULL, 10: UNAVAILABLE}  # BUSY, LOCKED, FULL, IOERR
# PostgreSQL SQLSTATEs; class 08 (connection exception) is UNAVAILABLE too.
_POSTGRES = {
    "55P03": BUSY,  # lock_not_available (lock_timeout)
    "40001": BUSY,  # serialization_failure
    "40P01": BUSY,  # deadlock_detected
    "57014": BUSY,  # query_canceled (statement_timeout)
    "53300": BUSY,  # too_many_connections
    "53100": FULL,  # disk_full
    "53000": UNAVAILABLE,  # insufficient_resources
    "53200": UNAVAILABLE,  # out_of_memory
    "57P01": UNAVAILABLE,  # admin_shutdown
    "57P02": UNAVAILABLE,  # crash_shutdown
    "57P03": UNAVAILABLE,  # cannot_connect_now
    "58030": UNAVAILABLE,  # io_error
}


def unavailable(exc: BaseException) -> str | None:
    """BUSY, FULL or UNAVAILABLE when ``exc`` says the database cannot serve this request
    now (so it may later); None for every other error, bugs included."""
    if isinstance(exc, PoolTimeout):  # every pooled connection in use
        return BUSY
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        if state.startswith("08"):
            return UNAVAILABLE
        if state in _POSTGRES:
            return _POSTGRES[state]
    return UNAVAILABLE if exc.connection_invalidated else None


def _database_error(exc: Exception) -> Response:
    kind = unavailable(exc)
    if kind is None:
        raise exc  # not ours to soften: Flask logs it and answers 500
    orig = getattr(exc, "orig", None)
    log.warning("%s %s: %s (%s)", request.method, request.path, kind,
                type(orig or exc).__name__)
    resp = page(503, kind, _REASONS[kind], _HINT)
    resp.headers["Retry-After"] = str(RETRY_AFTER[kind])
    return resp


def _launch_error(exc: LaunchError) -> Response:
    return refusal(exc, "request")


def _internal_error(exc: InternalServerError) -> Response:
    # Flask has logged the original exception with its traceback; the page names no detail.
    return page(500, "internal_error", "the tool failed to answer this request")


def register(app: Flask) -> None:
    app.register_error_handler(LaunchError, _launch_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeout, _database_error)
    app.register_error_handler(InternalServerError, _internal_error)
