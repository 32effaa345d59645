"""Nightly-sync benchmark (run by hand; figures go in notes, never in tests).

Delivery (``nightly_delivery``): the engine's full and incremental runs against a naive
serial re-send, through a mock LTI platform in another process answering after 50 ms (and
0 ms). Planning: a stored history of ``learners × items``
grades that the platform already holds (Option B: one course link, every learner launched
it), then ``--change`` of them get a new revision; we time an incremental plan against a
full plan of the same store (the naive "re-send everything" baseline), and compare the peak
RSS of planning in a fresh process at ``learners`` and at ``learners / 10``.

    .venv/bin/python bench/nightly.py --learners 50000 --items 20 --change 0.01
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nightly_delivery

from lmsbridge.core.engine import planning
from lmsbridge.core.engine.scope import TenantScope
from lmsbridge.core.model import Tenant
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    courses,
    deliveries,
    grades,
    held_grades,
    items,
    launches,
    learners,
    programs,
    published_links,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def seed(url: str, key: Path, n_learners: int, n_items: int, change: float) -> None:
    store = Store.open(url, key)
    store.upgrade()
    tenant = store.tenants.add(Tenant("bench", "lti", "course"))
    rng = random.Random(7)
    with store.engine.begin() as conn:
        tid = store.tenants.id_of(conn, tenant.name)
        conn.execute(programs.insert().values(id="p", name="P"))
        conn.execute(courses.insert().values(program_id="p", id="c", name="C"))
        conn.execute(items.insert(), [{"course_id": "c", "id": f"i{n}", "name": f"I{n}",
                                       "max_score": 1.0} for n in range(n_items)])
        conn.execute(published_links.insert().values(
            tenant_id=tid, context_id="ctx", resource_link_id="link", program_id="p",
            course_id="c", grade_sync="course"))
        for start in range(0, n_learners, 10_000):
            ids = [f"l{n}" for n in range(start, min(n_learners, start + 10_000))]
            conn.execute(learners.insert(), [{"id": i} for i in ids])
            conn.execute(launches.insert(), [{
                "tenant_id": tid, "context_id": "ctx", "resource_link_id": "link",
                "issuer": "https://lms", "sub": f"sub-{i}", "learner_id": i, "program_id": "p",
                "course_id": "c", "roles": "[]"} for i in ids])
            for it in range(n_items):
                changed = [rng.random() < change for _ in ids]
                conn.execute(grades.insert(), [{
                    "learner_id": i, "course_id": "c", "item_id": f"i{it}", "score": 0.5,
                    "max_score": 1.0, "revision": 2 if ch else 1, "updated_at": T0}
                    for i, ch in zip(ids, changed, strict=True)])
                conn.execute(held_grades.insert(), [{
                    "tenant_id": tid, "context_id": "ctx", "column_key": f"item:i{it}",
                    "learner_id": i, "score": 0.5, "max_score": 1.0, "grade_revision": 1,
                    "delivered_at": T0} for i in ids])
    store.dispose()


def plan_once(url: str, key: Path, full: bool) -> dict:
    store = Store.open(url, key)
    tenant = store.tenants.get("bench")
    start = time.perf_counter()
    result = planning.plan(TenantScope.bind(store, tenant, now=lambda: T0 + timedelta(days=1)),
                           full=full, dry_run=True)
    seconds = time.perf_counter() - start
    store.dispose()
    return {"seconds": round(seconds, 2), "planned": result.planned + result.resent,
            "unchanged": result.unchanged,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def in_child(url: str, key: Path, full: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--plan-only", url, str(key),
                          "--full" if full else "--incremental"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def scenario(tmp: Path, n_learners: int, n_items: int, change: float) -> dict:
    url = f"sqlite:///{tmp / f'bench-{n_learners}.db'}"
    key = tmp / "key"
    start = time.perf_counter()
    seed(url, key, n_learners, n_items, change)
    seeded = time.perf_counter() - start
    with Store.open(url, key).engine.connect() as conn:
        assert conn.execute(deliveries.select().limit(1)).first() is None
    return {"learners": n_learners, "grades": n_learners * n_items,
            "seed_seconds": round(seeded, 1),
            "incremental": in_child(url, key, full=False),
            "full_baseline": in_child(url, key, full=True)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--plan-only":
        print(json.dumps(plan_once(sys.argv[2], Path(sys.argv[3]), sys.argv[4] == "--full")))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50_000, help="planning: learners")
    parser.add_argument("--items", type=int, default=20, help="planning: items per learner")
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--latency", type=float, default=0.05,
                        help="delivery: seconds the mock platform takes per answer")
    parser.add_argument("--contexts", type=int, default=4, help="delivery: course shells")
    parser.add_argument("--delivery-learners", type=int, default=200)
    parser.add_argument("--delivery-items", type=int, default=5)
    parser.add_argument("--naive-grades", type=int, default=200,
                        help="grades the naive loop sends (its rate is per grade)")
    parser.add_argument("--skip-planning", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    args = parser.parse_args()
    results: dict = {"delivery": []}
    with tempfile.TemporaryDirectory() as tmp:
        for latency in dict.fromkeys((args.latency, 0.0)):
            results["delivery"].append(nightly_delivery.scenario(
                Path(tmp), latency, args.contexts, args.delivery_learners,
                args.delivery_items, args.change, args.naive_grades))
        if not args.skip_planning:
            small = scenario(Path(tmp), args.learners // 10, args.items, args.change)
            big = scenario(Path(tmp), args.learners, args.items, args.change)
            inc, full = big["incremental"], big["full_baseline"]
            results.update(small=small, big=big, ratios={
                "incremental_writes_vs_full": round(inc["planned"] / max(1, full["planned"]),
                                                    4),
                "planning_speedup_vs_full": round(full["seconds"] / max(1e-9, inc["seconds"]),
                                                  2),
                "rss_growth_10x_learners": round(inc["peak_rss_mb"]
                                                 / small["incremental"]["peak_rss_mb"], 2)})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


def print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Nightly sync benchmark", title_justify="left")
    for column in ("measure", "engine", "naive baseline", "ratio", "target"):
        table.add_column(column)
    for d in results["delivery"]:
        ms, full, naive = d["latency_ms"], d["engine_full"], d["naive"]
        table.add_row(f"grades/s, full run, {ms} ms latency ({d['grades']} grades)",
                      str(full["per_second"]), str(naive["per_second"]),
                      f"{d['speedup_vs_naive']}x", ">= 10x" if ms else "")
        table.add_row(f"HTTP requests per grade, {ms} ms", str(full["requests_per_grade"]),
                      str(naive["requests_per_grade"]), "", "")
        inc = d["engine_incremental"]
        table.add_row(f"writes, incremental ({d['changed']} grades changed, {ms} ms)",
                      str(inc["delivered"]), str(d["grades"]),
                      f"{d['incremental_writes_vs_naive']:.2%}", "<= 1.1%")
    if "big" in results:
        big, r = results["big"], results["ratios"]
        inc, full = big["incremental"], big["full_baseline"]
        table.add_row(f"planning seconds, {big['grades']:,} grades",
                      str(inc["seconds"]), str(full["seconds"]),
                      f"{r['planning_speedup_vs_full']}x", "a few seconds")
        table.add_row("planned writes (incremental vs full)", str(inc["planned"]),
                      str(full["planned"]), f"{r['incremental_writes_vs_full']:.2%}",
                      "<= 1.1%")
        table.add_row("peak RSS MB planning, 10x learners",
                      f"{inc['peak_rss_mb']} (vs {results['small']['incremental']['peak_rss_mb']})",
                      "", f"{r['rss_growth_10x_learners']}x", "< 1.5x")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
