"""Runs: one runner per tenant, stale runs taken over, and a SIGKILLed run resumed exactly."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from engine_fixtures import (
    Clock,
    ToyAdapter,
    ToyGradebook,
    add_catalog,
    launch,
    publish,
    registry,
    set_grade,
)
from sqlalchemy import func, select

from lmsbridge.core.engine.runner import Engine
from lmsbridge.core.engine.runs import Runs, TenantBusy
from lmsbridge.core.model import RunStatus, Tenant
from lmsbridge.core.store.schema import deliveries, sync_runs

TESTS = Path(__file__).parent


def test_one_runner_per_tenant_and_a_silent_one_is_taken_over(store):
    store.tenants.add(Tenant("uni", "toy"))
    clock = Clock()
    first = Runs(store, clock, owner="elsewhere:1")
    run_id = first.start("uni")
    with pytest.raises(TenantBusy, match="tenant 'uni' is being synced.*elsewhere:1"):
        Runs(store, clock, owner="other:2").start("uni")
    clock.advance(minutes=5)
    first.beat(run_id)
    clock.advance(minutes=9)
    with pytest.raises(TenantBusy):
        Runs(store, clock, owner="other:2").start("uni")
    clock.advance(minutes=2)  # heartbeat now 11 minutes old: the runner is gone
    second = Runs(store, clock, owner="other:2").start("uni")
    with store.engine.connect() as conn:
        statuses = dict(conn.execute(select(sync_runs.c.id, sync_runs.c.status)).all())
    assert statuses == {run_id: RunStatus.ABANDONED, second: RunStatus.RUNNING}


def test_a_run_of_a_dead_process_on_this_host_is_taken_over_at_once(store):
    import socket
    store.tenants.add(Tenant("uni", "toy"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    Runs(store, Clock(), owner=f"{socket.gethostname()}:{dead.pid}").start("uni")
    assert Runs(store, Clock()).start("uni")


def test_a_busy_tenant_is_reported_and_others_still_run(store):
    with ToyGradebook() as gb:
        for name in ("a", "b"):
            store.tenants.add(Tenant(name, "toy", base_url=gb.url))
        Runs(store, Clock(), owner="elsewhere:1").start("a")
        result = Engine(store, registry(ToyAdapter(), coursera=False), now=Clock()).sync()
    by_name = {t.tenant: t.status for t in result.tenants}
    assert by_name == {"a": "busy", "b": "ok"} and not result.delivered_everything


def _pending(store):
    with store.engine.connect() as conn:
        return dict(conn.execute(select(deliveries.c.status, func.count())
                                 .group_by(deliveries.c.status)).all())


def test_sigkill_mid_run_then_restart_delivers_exactly_what_was_left(store, tmp_path):
    with ToyGradebook() as gb:
        t = Tenant("uni", "toy", "item", base_url=gb.url)
        store.tenants.add(t)
        add_catalog(store, "p1", "c1", ["q1", "q2", "q3"])
        for item in ("q1", "q2", "q3"):
            publish(store, t, "ctx", f"l-{item}", "p1", "c1", item)
            for n in range(4):
                launch(store, t, f"s{n}", "ctx", f"l-{item}", "p1", "c1", item)
                set_grade(store, f"s{n}", "c1", item, 0.25 * n)
        requests.post(f"{gb.url}/_mock/hold", json={"after": 5}, timeout=5)
        url = store.engine.url.render_as_string(hide_password=False)
        env = {**os.environ, "PYTHONPATH": str(TESTS)}
        runner = subprocess.Popen(
            [sys.executable, str(TESTS / "engine_kill_runner.py"), url,
             str(tmp_path / "secret.key")], env=env, stdout=subprocess.PIPE)
        try:
            # Blocks until the runner's 6th score write is held at the platform.
            assert requests.get(f"{gb.url}/_mock/wait_held", timeout=40).status_code == 200
        finally:
            runner.kill()
            runner.wait()
        requests.post(f"{gb.url}/_mock/release", timeout=5)
        assert len(gb.applied) == 5
        assert _pending(store) == {"delivered": 5, "pending": 7}
        before = gb.score_requests

        restarted = subprocess.run(
            [sys.executable, str(TESTS / "engine_kill_runner.py"), url,
             str(tmp_path / "secret.key")], env=env, capture_output=True, timeout=60)
        assert restarted.returncode == 0, restarted.stderr.decode()[-2000:]
        # The 7 left (the held one included) went out once each; nothing was sent twice.
        assert gb.score_requests - before == 7
        cells = [(ctx, ref, user) for ctx, ref, user, _ in gb.applied]
        assert len(cells) == len(set(cells)) == 12
        assert _pending(store) == {"delivered": 12}
        with store.engine.connect() as conn:
            runs = sorted(conn.execute(select(sync_runs.c.status)).scalars())
        assert runs == [RunStatus.ABANDONED, RunStatus.SUCCEEDED]


def test_stale_threshold_is_configurable(store):
    store.tenants.add(Tenant("uni", "toy"))
    clock = Clock()
    Runs(store, clock, owner="far:1").start("uni")
    clock.advance(seconds=61)
    assert Runs(store, clock, stale_after=timedelta(minutes=1)).start("uni")
