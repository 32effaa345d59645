"""The nightly sync against a toy gradebook over real HTTP: options, outbox, incremental."""

import pytest
from engine_fixtures import (
    LEARNER_ROLE,
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

from lmsbridge.core.engine.delivery import DeliveryOptions
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.model import Tenant
from lmsbridge.core.store.schema import deliveries, gradebook_columns, held_grades, sync_runs


@pytest.fixture
def gradebook():
    with ToyGradebook() as server:
        yield server


@pytest.fixture
def clock():
    return Clock()


def engine(store, clock, *plugins, sleeps=None):
    return Engine(store, registry(*(plugins or (ToyAdapter(),)), coursera=False), now=clock,
                  sleep=(sleeps.append if sleeps is not None else _no_wait))


def _no_wait(seconds):
    raise AssertionError(f"the engine waited {seconds}s where it should not")


def tenant(store, gradebook, option="item", name="uni", **kw):
    t = Tenant(name, "toy", option, base_url=gradebook.url, **kw)
    store.tenants.add(t)
    return t


def count(store, table, **where):
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(table.c[k] == v)
        return conn.execute(q).scalar()


def applied(gradebook):
    return sorted((user, score) for _ctx, _ref, user, score in gradebook.applied)


def test_option_a_sends_a_grade_once_the_learner_launched_that_link(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1", "q2"])
    publish(store, t, "ctx", "link-q1", "p1", "c1", "q1")
    publish(store, t, "ctx", "link-q2", "p1", "c1", "q2")
    launch(store, t, "ann", "ctx", "link-q1", "p1", "c1", "q1")
    for learner in ("ann", "bob"):
        for item in ("q1", "q2"):
            set_grade(store, learner, "c1", item, 0.5)
    report = engine(store, clock).sync().tenants[0]
    # Only ann launched, and only q1's link: one grade goes out; columns exist for both links.
    assert applied(gradebook) == [("sub-ann", 0.5)]
    assert (report.columns_created, report.planned, report.sent, report.status) == (2, 1, 1, "ok")


def test_option_a_without_sso_needs_one_launch_per_link_and_any_launch_per_learner(
        store, gradebook, clock):
    t = tenant(store, gradebook, "item", grade_sync_without_sso=True)
    add_catalog(store, "p1", "c1", ["q1", "q2"])
    publish(store, t, "ctx", "link-q1", "p1", "c1", "q1")
    publish(store, t, "ctx", "link-q2", "p1", "c1", "q2")
    launch(store, t, "teacher", "ctx", "link-q1", "p1", "c1", "q1")  # connects q1 only
    launch(store, t, "bob", "ctx", "link-q1", "p1", "c1", "q1")
    launch(store, t, "cy", "ctx", "link-q1", "p1", "c1", "q1")
    set_grade(store, "bob", "c1", "q1", 0.8)
    set_grade(store, "bob", "c1", "q2", 0.9)  # q2's link never launched: not sent
    set_grade(store, "dan", "c1", "q1", 0.7)  # never launched anything: not sent
    engine(store, clock).sync()
    assert applied(gradebook) == [("sub-bob", 0.8)]
    launch(store, t, "teacher", "ctx", "link-q2", "p1", "c1", "q2")
    engine(store, clock).sync()
    assert applied(gradebook) == [("sub-bob", 0.8), ("sub-bob", 0.9)]


def test_option_b_creates_item_columns_only_after_the_first_launch(store, gradebook, clock):
    t = tenant(store, gradebook, "course")
    add_catalog(store, "p1", "c1", ["q1", "q2", "q3"])
    publish(store, t, "ctx", "course-link", "p1", "c1")
    set_grade(store, "ann", "c1", "q1", 1.0)
    set_grade(store, "ann", "c1", "q3", 0.25)
    report = engine(store, clock).sync().tenants[0]
    assert report.columns_created == 0 and count(store, gradebook_columns) == 0
    launch(store, t, "ann", "ctx", "course-link", "p1", "c1")
    report = engine(store, clock).sync().tenants[0]
    assert report.columns_created == 3 and len(gradebook.columns) == 3
    assert applied(gradebook) == [("sub-ann", 0.25), ("sub-ann", 1.0)]


def test_final_option_sends_the_course_grade_to_one_column_per_course_link(
        store, gradebook, clock):
    t = tenant(store, gradebook, "final")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "course-link", "p1", "c1")
    launch(store, t, "ann", "ctx", "course-link", "p1", "c1")
    set_grade(store, "ann", "c1", "q1", 1.0)  # item grades are not sent in this option
    set_grade(store, "ann", "c1", None, 0.9)
    engine(store, clock).sync()
    assert list(gradebook.columns) == [("ctx", "course:c1")]
    assert applied(gradebook) == [("sub-ann", 0.9)]


def test_incremental_sends_only_what_changed_and_an_unchanged_day_sends_nothing(
        store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    for n in range(5):
        launch(store, t, f"s{n}", "ctx", "l1", "p1", "c1", "q1")
        set_grade(store, f"s{n}", "c1", "q1", 0.5)
    eng = engine(store, clock)
    assert eng.sync().tenants[0].sent == 5
    before = gradebook.score_requests
    quiet = eng.sync().tenants[0]
    assert gradebook.score_requests == before and (quiet.planned, quiet.unchanged) == (0, 5)
    set_grade(store, "s2", "c1", "q1", 0.75, at=clock() )
    set_grade(store, "s3", "c1", "q1", 0.5)  # same score: not a change
    changed = eng.sync().tenants[0]
    assert (changed.planned, changed.sent, changed.unchanged) == (1, 1, 4)
    assert gradebook.score_requests == before + 1
    full = eng.sync(options=SyncOptions(full=True)).tenants[0]
    # A full sync re-sends every cell; the platform already holds them all.
    assert (full.resent, full.current) == (5, 5)


def test_dry_run_prints_the_plan_and_writes_nothing(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    set_grade(store, "ann", "c1", "q1", 0.5)
    report = engine(store, clock).sync(options=SyncOptions(dry_run=True)).tenants[0]
    assert report.planned == 1 and report.columns_wanted == 1
    assert report.sample[0]["learner_id"] == "ann"
    assert count(store, deliveries) == count(store, sync_runs) == 0
    assert gradebook.requests == []


def test_a_newer_grade_supersedes_a_pending_one(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("status", status=503, path="/scores$", times=None)
    eng = engine(store, clock, sleeps=[])
    eng.sync(options=SyncOptions(delivery=DeliveryOptions(max_rounds=1)))
    set_grade(store, "ann", "c1", "q1", 0.9, at=clock())
    gradebook.faults.clear()
    clock.advance(hours=1)
    report = eng.sync().tenants[0]
    assert applied(gradebook) == [("sub-ann", 0.9)]
    assert report.status == "ok" and count(store, deliveries, status="pending") == 0


def test_retry_waits_what_retry_after_says_then_delivers(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("throttle", path="/scores$", retry_after=7)
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock.advance(seconds=seconds)

    eng = Engine(store, registry(ToyAdapter(), coursera=False), now=clock, sleep=sleep)
    report = eng.sync().tenants[0]
    assert sleeps == [7.0] and report.sent == 1 and report.status == "ok"


def test_a_rejected_grade_is_failed_not_retried_and_the_exit_state_says_so(
        store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("status", status=422, path="/scores$")
    result = engine(store, clock).sync()
    assert not result.delivered_everything and result.tenants[0].failed == 1
    again = engine(store, clock).sync()
    assert again.tenants[0].planned == 0 and len(gradebook.applied) == 0


def test_a_tenant_whose_platform_is_down_keeps_pending_and_never_stops_others(
        store, clock):
    with ToyGradebook() as up, ToyGradebook() as down:
        down.faults.add("status", status=503, path="/scores$", times=None)
        for name, gb in (("up", up), ("down", down)):
            t = tenant(store, gb, "item", name=name)
            if name == "up":
                add_catalog(store, "p1", "c1", ["q1"])
            publish(store, t, "ctx", "l1", "p1", "c1", "q1")
            launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
        set_grade(store, "ann", "c1", "q1", 0.5)
        sleeps = []

        def sleep(seconds):
            sleeps.append(seconds)
            clock.advance(seconds=seconds)

        eng = Engine(store, registry(ToyAdapter(), coursera=False), now=clock, sleep=sleep)
        result = eng.sync()
        by_name = {r.tenant: r for r in result.tenants}
        assert by_name["up"].status == "ok" and len(up.applied) == 1
        assert by_name["down"].status == "undelivered" and by_name["down"].pending == 1
        assert not result.delivered_everything
        # Backoff grows between attempts; every wait was short enough to stay in this run.
        assert sleeps == sorted(sleeps) and len(sleeps) == 4
        clock.advance(hours=80)
        later = eng.sync(["down"], SyncOptions(delivery=DeliveryOptions(max_rounds=1)))
        assert later.tenants[0].overdue and later.tenants[0].oldest_pending_hours > 72


def test_requests_in_flight_never_exceed_the_adapter_limit(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    for ctx in ("a", "b", "c", "d", "e", "f"):
        publish(store, t, ctx, "l1", "p1", "c1", "q1")
        for n in range(3):
            launch(store, t, f"{ctx}{n}", ctx, "l1", "p1", "c1", "q1")
            set_grade(store, f"{ctx}{n}", "c1", "q1", 0.5)
    eng = engine(store, clock, ToyAdapter(max_in_flight=2))
    report = eng.sync(options=SyncOptions(delivery=DeliveryOptions(batch_size=1))).tenants[0]
    assert report.sent == 18 and gradebook.max_in_flight <= 2


def test_confirmed_deliveries_record_what_the_platform_holds(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    set_grade(store, "ann", "c1", "q1", 0.5)
    engine(store, clock).sync()
    with store.engine.connect() as conn:
        row = conn.execute(select(held_grades)).one()
    assert (row.column_key, row.learner_id, row.score, row.grade_revision) == (
        "item:q1", "ann", 0.5, 1)


def test_roster_lists_learners_enrolled_without_sso(store, gradebook, clock):
    t = tenant(store, gradebook, "item")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    gradebook.members["ctx"] = [
        {"user_id": "sub-ann", "roles": [LEARNER_ROLE]},
        {"user_id": "sub-zed", "roles": [LEARNER_ROLE], "email": "zed@uni.test"},
        {"user_id": "prof", "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#"
                                      "Instructor"]}]
    report = engine(store, clock).sync().tenants[0]
    assert report.learners_without_sso == 1 and report.without_sso == {"ctx": ["zed@uni.test"]}
