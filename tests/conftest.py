"""Shared fixtures. Store tests run on SQLite and, when LMSBRIDGE_TEST_POSTGRES_URL is set,
on PostgreSQL too (``.ci/run`` sets it, so CI always exercises both)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lmsbridge.core.plugins import ALLOW_ENV, BUILTIN_ADAPTERS
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import metadata

PG_URL = os.environ.get("LMSBRIDGE_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _builtin_plugins_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    # Third-party adapters installed on the machine must not leak into our tests, and no
    # test may read a developer's lmsbridge.toml or secret key.
    monkeypatch.setenv(ALLOW_ENV, ",".join(BUILTIN_ADAPTERS))
    for var in (
        "LMSBRIDGE_DATABASE_URL",
        "LMSBRIDGE_CONFIG",
        "LMSBRIDGE_SECRET_KEY",
        "LMSBRIDGE_LOG_FORMAT",
        "LMSBRIDGE_LOG_LEVEL",
        "LMSBRIDGE_SECRET_KEY_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"lmsbridge_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="LMSBRIDGE_TEST_POSTGRES_URL not set"),
    ),
]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """A database URL with nothing in it, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lmsbridge.db'}"
    else:
        with pg_database() as url:
            yield url


@pytest.fixture(scope="session")
def _pg_session_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tests empty it between them."""
    with pg_database() as url:
        s = Store.open(url)
        s.upgrade()
        s.dispose()
        yield url


def _empty_all_tables(store: Store) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path) -> Iterator[Store]:
    """A migrated, empty store on each backend.

    SQLite gets a fresh file per test; PostgreSQL reuses one migrated database, emptied
    before each test (creating a database per test costs about a second).
    """
    if request.param == "sqlite":
        s = Store.open(f"sqlite:///{tmp_path / 'lmsbridge.db'}", key_file=tmp_path / "secret.key")
        s.upgrade()
    else:
        s = Store.open(request.getfixturevalue("_pg_session_url"),
                       key_file=tmp_path / "secret.key")
        _empty_all_tables(s)
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def lmsbridge_wheel(tmp_path_factory):
    """lmsbridge built as a wheel, once per session (tests that install it like a user)."""
    import wheel_venv

    return wheel_venv.build_wheel(wheel_venv.ROOT, tmp_path_factory.mktemp("wheel"),
                                  "lmsbridge")
