"""Delivery half of the nightly benchmark: the engine against a naive serial re-send, both
talking to a mock LTI platform in another process (``lmsbridge mock lti``) that answers every
request after ``latency`` seconds (a ``slow`` fault rule on every route).

Figures: grades delivered per second (engine full run vs naive loop), HTTP requests the
platform received per delivered grade, and the write requests of an incremental run after
``change`` of the grades changed, against the naive run's (which re-sends every grade).
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import select, update

import lmsbridge.adapters.lti as lti_adapter
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.lti.advantage import service_for
from lmsbridge.core.lti.ags import AgsClient, Score
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.plugins import PluginSource, Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    contexts,
    courses,
    gradebook_columns,
    grades,
    items,
    launches,
    learners,
    programs,
    published_links,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
NAIVE_AT = T0 + timedelta(hours=12)  # newer than the full run's scores, older than changes
CHANGED_AT = T0 + timedelta(days=2)
LMSBRIDGE = Path(sys.executable).with_name("lmsbridge")


class MockProcess:
    """``lmsbridge mock lti`` in a child process, with ``latency`` on every answer."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen([str(LMSBRIDGE), "mock", "lti", "--port", "0"],
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()  # "mock lti listening on http://…"
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"the mock did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[-1].strip()
        # Its access log goes on stderr: drain it, or the mock blocks once the pipe is full.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        if latency > 0:
            self.control("faults", {"kind": "slow", "delay": latency, "times": None})

    def control(self, path: str, body) -> None:
        requests.post(f"{self.url}/_mock/{path}", json=body, timeout=30).raise_for_status()

    def state(self) -> dict:
        return requests.get(f"{self.url}/_mock/state", timeout=60).json()

    def requests_seen(self) -> int:
        return self.state()["seq"]

    def scores(self) -> int:
        return sum(len(b) for c in self.state()["contexts"].values()
                   for i in c["line_items"] for b in i["scores"].values())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def seed(store: Store, mock: MockProcess, n_contexts: int, n_learners: int,
         n_items: int) -> Tenant:
    """Option A: every learner launched every item link of every context."""
    ring = ToolKeyring(store)
    ring.current()
    mock.control("tool", {"client_id": "bench-tool", "deployment_ids": ["1"],
                          "jwks": ring.jwks(), "login_url": "https://tool/lti/login",
                          "launch_url": "https://tool/lti/launch"})
    registration = requests.get(f"{mock.url}/_mock/state", timeout=30).json()["platform"]
    tenant = store.tenants.add(Tenant("bench", "lti", "item"))
    store.platforms.add(PlatformRegistration(
        tenant="bench", issuer=registration["issuer"], client_id="bench-tool",
        deployment_ids=("1",), auth_login_url=registration["auth_url"],
        auth_token_url=registration["token_url"], jwks_url=registration["jwks_url"]))
    ids = [f"l{n}" for n in range(n_learners)]
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, "bench")
        conn.execute(programs.insert().values(id="p", name="P"))
        conn.execute(courses.insert().values(program_id="p", id="c", name="C"))
        conn.execute(items.insert(), [{"course_id": "c", "id": f"i{n}", "name": f"Item {n}",
                                       "max_score": 1.0} for n in range(n_items)])
        conn.execute(learners.insert(), [{"id": i} for i in ids])
        conn.execute(grades.insert(), [{"learner_id": i, "course_id": "c", "item_id": f"i{n}",
                                        "score": 0.5, "max_score": 1.0, "revision": 1,
                                        "updated_at": T0}
                                       for i in ids for n in range(n_items)])
        for c in range(n_contexts):
            ctx = f"ctx{c}"
            mock.control("contexts", {"id": ctx})
            mock.control(f"contexts/{ctx}/members", [{"user_id": f"sub-{i}"} for i in ids])
            mock.control(f"contexts/{ctx}/resource_links",
                         [{"id": f"rl-{n}"} for n in range(n_items)])
            conn.execute(contexts.insert().values(
                tenant_id=tid, context_id=ctx,
                lineitems_url=f"{mock.url}/lti/contexts/{ctx}/lineitems",
                memberships_url=f"{mock.url}/lti/contexts/{ctx}/memberships"))
            conn.execute(published_links.insert(), [{
                "tenant_id": tid, "context_id": ctx, "resource_link_id": f"rl-{n}",
                "program_id": "p", "course_id": "c", "item_id": f"i{n}",
                "grade_sync": "item"} for n in range(n_items)])
            conn.execute(launches.insert(), [{
                "tenant_id": tid, "context_id": ctx, "resource_link_id": f"rl-{n}",
                "issuer": "https://lms", "sub": f"sub-{i}", "learner_id": i, "program_id": "p",
                "course_id": "c", "item_id": f"i{n}", "roles": "[]"}
                for i in ids for n in range(n_items)])
    return tenant


def registry() -> Registry:
    return Registry.load([PluginSource("lti", "lmsbridge", "0", lambda: lti_adapter)])


def engine_run(store: Store, mock: MockProcess, clock) -> dict:
    before_req, before_scores = mock.requests_seen(), mock.scores()
    start = time.perf_counter()
    report = Engine(store, registry(), now=clock).sync(
        options=SyncOptions(read_roster=False)).tenants[0]
    seconds = time.perf_counter() - start
    sent = mock.scores() - before_scores
    assert report.status == "ok", report.errors
    requests_made = mock.requests_seen() - before_req
    return {"seconds": round(seconds, 2), "delivered": sent, "requests": requests_made,
            "per_second": round(sent / seconds, 1) if sent else 0.0,
            "requests_per_grade": round(requests_made / sent, 3) if sent else None}


def naive_run(store: Store, tenant: Tenant, mock: MockProcess, limit: int) -> dict:
    """The baseline: one score POST at a time, every grade re-sent, nothing remembered."""
    runtime = Runtime(store)
    with store.engine.connect() as conn:
        refs = dict(conn.execute(select(
            gradebook_columns.c.context_id + "|" + gradebook_columns.c.key,
            gradebook_columns.c.platform_ref)).all())
        cells = conn.execute(select(launches.c.context_id, launches.c.item_id, launches.c.sub,
                                    grades.c.score, grades.c.max_score)
                             .join(grades, (grades.c.learner_id == launches.c.learner_id)
                                   & (grades.c.item_id == launches.c.item_id))
                             .order_by(launches.c.id)).all()[:limit]
    url = next(iter(refs.values()))
    client = AgsClient(service_for(tenant, url, runtime))  # one session: connections reused
    before = mock.requests_seen()
    start = time.perf_counter()
    for cell in cells:
        lineitem = refs[f"{cell.context_id}|item:{cell.item_id}"]
        client.post_score(lineitem, Score(cell.sub, NAIVE_AT, cell.score,
                                          cell.max_score))
    seconds = time.perf_counter() - start
    requests_made = mock.requests_seen() - before
    return {"seconds": round(seconds, 2), "delivered": len(cells), "requests": requests_made,
            "per_second": round(len(cells) / seconds, 1),
            "requests_per_grade": round(requests_made / len(cells), 3)}


def change_grades(store: Store, fraction: float, seed: int = 11) -> int:
    rng = random.Random(seed)
    with store.engine.begin() as conn:
        # Exactly ``fraction`` of the grades (at least one), so the figure is the 1%.
        every = list(conn.execute(select(grades.c.id).order_by(grades.c.id)).scalars())
        ids = rng.sample(every, max(1, round(len(every) * fraction)))
        if ids:
            conn.execute(update(grades).where(grades.c.id.in_(ids)).values(
                score=0.9, revision=grades.c.revision + 1, updated_at=CHANGED_AT))
    return len(ids)


def scenario(tmp: Path, latency: float, n_contexts: int, n_learners: int, n_items: int,
             change: float, naive_limit: int) -> dict:
    mock = MockProcess(latency)
    store = Store.open(f"sqlite:///{tmp / f'delivery-{latency}.db'}", tmp / "key")
    store.upgrade()
    try:
        tenant = seed(store, mock, n_contexts, n_learners, n_items)
        at = [T0 + timedelta(days=1)]
        full = engine_run(store, mock, lambda: at[0])
        total = n_contexts * n_learners * n_items
        assert full["delivered"] == total, full
        naive = naive_run(store, tenant, mock, naive_limit)
        changed = change_grades(store, change)
        at[0] += timedelta(days=1)
        incremental = engine_run(store, mock, lambda: at[0])
        naive_writes = total  # the naive loop re-sends every grade every night
        return {"latency_ms": round(latency * 1000), "grades": total, "engine_full": full,
                "naive": naive, "changed": changed, "engine_incremental": incremental,
                "speedup_vs_naive": round(full["per_second"] / naive["per_second"], 1),
                "incremental_writes_vs_naive": round(incremental["delivered"] / naive_writes,
                                                     4)}
    finally:
        store.dispose()
        mock.stop()
