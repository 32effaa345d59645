"""Engine creation and schema migrations (Alembic, run from the installed package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from lmsbridge.core.errors import ConfigError

DEFAULT_URL = "sqlite:///lmsbridge.db"
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10000  # what the CLI and the nightly engine wait for a lock
# What a web request waits: its browser is waiting too, and a 503 with Retry-After beats a
# page hanging for 10 s behind the nightly sync.
WEB_LOCK_WAIT_MS = 2000


def make_engine(url: str, *, lock_wait_ms: int | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    ``lock_wait_ms`` bounds how long a statement waits for a lock another connection holds
    (SQLite ``busy_timeout``, PostgreSQL ``lock_timeout``); None: SQLite waits
    ``SQLITE_BUSY_TIMEOUT_MS``, PostgreSQL its server setting.
    """
    if lock_wait_ms is not None and (not isinstance(lock_wait_ms, int) or lock_wait_ms < 0):
        raise ValueError(f"lock_wait_ms must be a whole number >= 0, got {lock_wait_ms!r}")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    connect_args = {}
    if lock_wait_ms is not None and parsed.get_backend_name() == "postgresql":
        connect_args["options"] = f"-c lock_timeout={lock_wait_ms}"
    try:
        engine = create_engine(parsed, future=True, connect_args=connect_args)
    except NoSuchModuleError:
        raise ConfigError(f"no database driver for {parsed.drivername!r}") from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"database driver missing: {exc.name} "
                          "(pip install 'lmsbridge[postgres]' for PostgreSQL)") from None
    if engine.dialect.name == "sqlite":
        busy_ms = SQLITE_BUSY_TIMEOUT_MS if lock_wait_ms is None else lock_wait_ms
        event.listen(engine, "connect",
                     lambda conn, record: _sqlite_pragmas(conn, record, busy_ms))
    return engine


def _sqlite_pragmas(dbapi_conn, _record, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets the web tool read while the nightly runner writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: no fsync per commit (a launch's nonce commit cost 0.1-4 ms with FULL).
    # Still crash-consistent; a power cut may lose the last commits, which the outbox's
    # dedupe keys and the platforms' score timestamps absorb on the next run.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
