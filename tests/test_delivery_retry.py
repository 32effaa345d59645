"""Deliveries whose answer could not be read are retried, not failed, and the outbox's rule
for failed deliveries: refused for good stays failed until the grade changes; failed without
that mark (an earlier version's misreading) is sent once more. Over real HTTP, against the
mock LTI platform and the toy gradebook, faults injected by their fault rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
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
from flask import Response
from sqlalchemy import select

import lmsbridge.adapters.lti as lti_adapter
from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.conformance.mock._http import DropConnection
from lmsbridge.conformance.mock.faults import FaultRule
from lmsbridge.core.engine.delivery import DeliveryOptions
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.plugins import PluginSource, Registry
from lmsbridge.core.store.schema import contexts, deliveries

TOOL = "https://tool.example"
LEARNERS = ("ann", "bob")
SCORES = r"/scores$"


class CuttingPlatform(MockLtiPlatform):
    """Its ``malformed_json`` answers declare the whole body but send half, then reset: a
    platform or proxy dying mid-body, after the status line and headers went out."""

    def malformed_json_response(self, rule: FaultRule, answer: Response | None) -> Response:
        assert answer is not None, "use with after=True"
        body = answer.get_data()

        def half_then_reset() -> Iterator[bytes]:
            yield body[:len(body) // 2]
            raise DropConnection

        cut = Response(half_then_reset(), status=answer.status_code,
                       mimetype="application/json")
        cut.headers["Content-Length"] = str(len(body))
        return cut


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=[MockLtiPlatform, CuttingPlatform], ids=["garbled", "cut-mid-body"])
def platform(request, store) -> Iterator[MockLtiPlatform]:
    ring = ToolKeyring(store)
    ring.current()
    with request.param() as mock:
        mock.register_tool(client_id="tool-1", deployment_ids=["1"], jwks=ring.jwks(),
                           login_url=f"{TOOL}/lti/login", launch_url=f"{TOOL}/lti/launch")
        yield mock


@pytest.fixture
def tenant(store, platform) -> Tenant:
    """One item link in one course shell, launched and graded by every learner."""
    t = Tenant("uni", "lti", "item")
    store.tenants.add(t)
    store.platforms.add(PlatformRegistration(**platform.registration("uni")))
    add_catalog(store, "p1", "c1", ["q1"])
    platform.add_context("ctx")
    with store.engine.begin() as conn:
        conn.execute(contexts.insert().values(
            tenant_id=store.tenants.id_of(conn, "uni"), context_id="ctx",
            lineitems_url=platform.lineitems_url("ctx"),
            memberships_url=platform.memberships_url("ctx")))
    platform.add_resource_link("ctx", "rl-q1")
    publish(store, t, "ctx", "rl-q1", "p1", "c1", "q1")
    for n, learner in enumerate(LEARNERS):
        platform.add_member("ctx", f"sub-{learner}")
        launch(store, t, learner, "ctx", "rl-q1", "p1", "c1", "q1")
        set_grade(store, learner, "c1", "q1", 0.6 + n / 10)
    return t


def lti_engine(store, clock) -> Engine:
    registry = Registry.load([PluginSource("lti", "lmsbridge", "0", lambda: lti_adapter)])
    return Engine(store, registry, now=clock, sleep=lambda s: clock.advance(seconds=s))


def held_scores(platform) -> dict[str, list[float]]:
    """Every score body the platform stored, by user: one per cell means applied once."""
    held: dict[str, list[float]] = {}
    for context in platform.state()["contexts"].values():
        for item in context["line_items"]:
            for user, bodies in item["scores"].items():
                held.setdefault(user, []).extend(b["scoreGiven"] for b in bodies)
    return held


def statuses(store) -> list[tuple[str, str | None]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(deliveries.c.status, deliveries.c.last_error)
            .order_by(deliveries.c.learner_id, deliveries.c.grade_revision))]


def test_an_unreadable_refusal_of_a_score_the_platform_holds_is_retried_then_current(
        store, platform, tenant, clock):
    # The platform applies both scores and the answers are lost; the re-sends are refused as
    # stale ("already holds it"), but that 400 arrives garbled / cut mid-body.
    lost = platform.faults.add("reset", path=SCORES, after=True, times=2)
    garbled = platform.faults.add("malformed_json", path=SCORES, after=True, times=2)
    first = lti_engine(store, clock).sync(
        options=SyncOptions(delivery=DeliveryOptions(max_rounds=2))).tenants[0]
    assert lost.fired == garbled.fired == 2
    assert (first.status, first.pending, first.failed) == ("undelivered", 2, 0)
    assert [status for status, _ in statuses(store)] == ["pending", "pending"]

    clock.advance(hours=1)
    second = lti_engine(store, clock).sync()
    assert second.delivered_everything  # `lmsbridge sync` exits 0
    report = second.tenants[0]
    assert (report.current, report.pending, report.failed) == (2, 0, 0)
    assert held_scores(platform) == {"sub-ann": [0.6], "sub-bob": [0.7]}  # each once
    assert [status for status, _ in statuses(store)] == ["delivered", "delivered"]


def test_failed_deliveries_from_before_the_rule_are_sent_once_more(store, platform, tenant,
                                                                  clock):
    # What an earlier version left: scores applied (answers lost), then the garbled stale
    # refusal read as a refusal for good.
    platform.faults.add("reset", path=SCORES, after=True, times=2)
    lti_engine(store, clock).sync(options=SyncOptions(delivery=DeliveryOptions(max_rounds=1)))
    with store.engine.begin() as conn:
        conn.execute(deliveries.update().values(
            status="failed", last_error='POST …/scores answered HTTP 400: {"error": "bad_re'))
    assert lti_engine(store, clock).sync().tenants[0].failed == 0  # re-queued, then current

    assert [status for status, _ in statuses(store)] == ["delivered", "delivered"]
    assert held_scores(platform) == {"sub-ann": [0.6], "sub-bob": [0.7]}


# ------------------------------------------------------- refused for good (toy gradebook)


@pytest.fixture
def gradebook() -> Iterator[ToyGradebook]:
    with ToyGradebook() as server:
        yield server


def toy_tenant(store, gradebook) -> Tenant:
    t = Tenant("uni", "toy", "item", base_url=gradebook.url)
    store.tenants.add(t)
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, t, "ctx", "l1", "p1", "c1", "q1")
    launch(store, t, "ann", "ctx", "l1", "p1", "c1", "q1")
    return t


def score_posts(gradebook: ToyGradebook) -> int:
    return sum(1 for r in gradebook.requests if r.path.endswith("/scores"))


def toy_engine(store, clock) -> Engine:
    return Engine(store, registry(ToyAdapter(), coursera=False), now=clock,
                  sleep=lambda s: clock.advance(seconds=s))


def test_a_refused_delivery_stays_failed_until_the_grade_changes(store, gradebook, clock):
    t = toy_tenant(store, gradebook)
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("status", status=422, path=SCORES)
    assert not toy_engine(store, clock).sync().delivered_everything
    assert statuses(store) == [("failed", "rejected: HTTP 422")]

    clock.advance(days=1)
    again = toy_engine(store, clock).sync()
    assert not again.delivered_everything and again.tenants[0].failed == 1
    assert score_posts(gradebook) == 1  # not sent again
    assert store.outbox.reopen(store.tenants.ref(t.name)) == (0, 0)

    set_grade(store, "ann", "c1", "q1", 0.8, at=clock())
    clock.advance(hours=1)
    changed = toy_engine(store, clock).sync()
    assert changed.delivered_everything and changed.tenants[0].sent == 1
    assert statuses(store) == [("delivered", None)]  # the refused revision is dropped
    assert [score for *_, score in gradebook.applied] == [0.8]


def test_a_refused_delivery_refused_again_after_its_second_chance_stays_failed(
        store, gradebook, clock):
    t = toy_tenant(store, gradebook)
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("status", status=422, path=SCORES, times=None)
    toy_engine(store, clock).sync()
    with store.engine.begin() as conn:  # as an earlier version recorded a refusal
        conn.execute(deliveries.update().values(last_error="HTTP 422"))
    assert store.outbox.reopen(store.tenants.ref(t.name)) == (1, 0)
    assert statuses(store) == [("pending", "HTTP 422")]

    toy_engine(store, clock).sync()
    toy_engine(store, clock).sync()
    assert statuses(store) == [("failed", "rejected: HTTP 422")]
    assert score_posts(gradebook) == 2  # the first refusal and the one second chance


def test_the_run_report_counts_failed_deliveries_queued_again_and_dropped(
        store, gradebook, clock):
    toy_tenant(store, gradebook)
    set_grade(store, "ann", "c1", "q1", 0.5)
    gradebook.faults.add("status", status=422, path=SCORES)
    toy_engine(store, clock).sync()
    with store.engine.begin() as conn:  # as an earlier version recorded a refusal
        conn.execute(deliveries.update().values(last_error="HTTP 422"))
    again = toy_engine(store, clock).sync().tenants[0]
    assert (again.requeued, again.dropped, again.sent) == (1, 0, 1)

    gradebook.faults.add("status", status=422, path=SCORES)
    set_grade(store, "ann", "c1", "q1", 0.8, at=clock())
    toy_engine(store, clock).sync()  # refused for good
    set_grade(store, "ann", "c1", "q1", 0.9, at=clock())
    replaced = toy_engine(store, clock).sync().tenants[0]
    assert (replaced.requeued, replaced.dropped, replaced.sent) == (0, 1, 1)
