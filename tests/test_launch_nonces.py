"""Nonce single use and its sweep; the validator's registration reuse. SQLite only."""

from __future__ import annotations

import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lti_web_fixtures import TOOL, JwksServer, launch_claims, setup_tenant, sign
from sqlalchemy import select

from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.launch import REGISTRATION_TTL, LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.store import Store
from lmsbridge.core.store.nonces import PREFIX, consume_nonce
from lmsbridge.core.store.schema import nonces, platforms


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'n.db'}", tmp_path / "n.key")
    store.upgrade()
    yield store
    store.dispose()


def kept(store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(v.removeprefix(PREFIX) for v in conn.execute(select(nonces.c.value))
                      .scalars())


def test_nonce_is_single_use_and_expired_ones_are_swept_at_most_once_a_minute(store):
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    life = timedelta(seconds=30)
    assert consume_nonce(store.engine, "a", keep_until=t0 + life, now=t0)
    assert not consume_nonce(store.engine, "a", keep_until=t0 + life, now=t0)
    # "a" expired, but the last sweep was under a minute ago: it stays.
    assert consume_nonce(store.engine, "b", keep_until=t0 + 5 * life, now=t0 + 1.5 * life)
    assert kept(store) == ["a", "b"]
    # A minute on: the sweep runs and drops only what expired.
    later = t0 + timedelta(minutes=1)
    assert consume_nonce(store.engine, "c", keep_until=later + life, now=later)
    assert kept(store) == ["b", "c"]


def test_registration_is_reused_for_a_while_then_read_again(store):
    server = JwksServer().start()
    try:
        setup_tenant(store, server.url + "/jwks")
        now = [datetime.now(UTC).timestamp()]
        validator = LaunchValidator(store, JwksCache(), clock=lambda: now[0])
        urls = ToolUrls(TOOL)

        def launch(n: str) -> None:
            validator.validate(id_token=sign(launch_claims(n, now=now[0])), state="s",
                               browser_nonce=n, urls=urls)

        launch("n1")
        with store.engine.begin() as conn:  # the admin points the registration elsewhere
            conn.execute(platforms.update().values(jwks_url=server.url + "/gone"))
        launch("n2")  # still the registration read a moment ago
        now[0] += REGISTRATION_TTL + 1
        with pytest.raises(LaunchError) as err:
            launch("n3")
        assert err.value.rule in ("jwks_unavailable", "kid_unknown")
    finally:
        server.stop()


def test_nonce_rows_read_back_through_sqlalchemy_as_written(store):
    # consume_nonce writes through the DBAPI connection; the sweep and the rest of the store
    # read through SQLAlchemy, so the stored format must be the one SQLAlchemy writes.
    t0 = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
    assert consume_nonce(store.engine, "fmt", keep_until=t0, now=t0 - timedelta(minutes=5))
    with store.engine.connect() as conn:
        row = conn.execute(select(nonces).where(nonces.c.value == PREFIX + "fmt")).one()
    assert row.expires_at == t0


def test_database_errors_surface_as_sqlalchemy_errors_without_the_nonce(tmp_path):
    from sqlalchemy.exc import OperationalError

    bare = Store.open(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "e.key")  # no tables
    try:
        t0 = datetime.now(UTC)
        with pytest.raises(OperationalError) as err:
            consume_nonce(bare.engine, "secret-nonce-value", keep_until=t0, now=t0)
        assert "secret-nonce-value" not in str(err.value)
        # The pooled connection went back usable: the next statement works.
        with bare.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        bare.dispose()


def _open_files(folder) -> list[str]:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc/self/fd")
    out = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # the listing's own fd, gone by now
            continue
        if target.startswith(str(folder)):
            out.append(target)
    return out


def test_sqlite_nonce_connection_is_closed_by_dispose_and_by_garbage_collection(tmp_path):
    t0 = datetime.now(UTC)
    for i in range(5):  # disposed stores leave no file open
        s = Store.open(f"sqlite:///{tmp_path / f'd{i}.db'}", tmp_path / "k.key")
        s.upgrade()
        assert consume_nonce(s.engine, "n", keep_until=t0, now=t0)
        s.dispose()
    assert _open_files(tmp_path) == []

    s = Store.open(f"sqlite:///{tmp_path / 'gc.db'}", tmp_path / "k.key")
    s.upgrade()
    assert consume_nonce(s.engine, "n", keep_until=t0, now=t0)
    assert _open_files(tmp_path)  # the kept connection (the pool's too)
    del s
    gc.collect()  # an engine nobody disposed takes its nonce connection along
    assert _open_files(tmp_path) == []


def test_disposed_engine_still_consumes_and_remembers_nonces(store):
    t0 = datetime.now(UTC)
    assert consume_nonce(store.engine, "before", keep_until=t0, now=t0)
    store.dispose()  # closes the kept connection; the next launch opens another
    assert not consume_nonce(store.engine, "before", keep_until=t0, now=t0)
    assert consume_nonce(store.engine, "after", keep_until=t0, now=t0)
    assert kept(store) == ["after", "before"]


def test_nonce_is_single_use_across_threads(store):
    t0 = datetime.now(UTC)
    barrier = threading.Barrier(8)

    def attempt(_: int) -> bool:
        barrier.wait()
        return consume_nonce(store.engine, "raced", keep_until=t0, now=t0)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count(True) == 1
    assert kept(store) == ["raced"]


def test_in_memory_sqlite_uses_the_pooled_connection():
    # A connection of its own would open a second, empty in-memory database.
    mem = Store.open("sqlite://", Path("unused.key"))
    try:
        mem.upgrade()
        t0 = datetime.now(UTC)
        assert consume_nonce(mem.engine, "m", keep_until=t0, now=t0)
        assert not consume_nonce(mem.engine, "m", keep_until=t0, now=t0)
        assert kept(mem) == ["m"]
    finally:
        mem.dispose()
