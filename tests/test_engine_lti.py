"""The engine on the real LTI stack: a tenant of kind ``lti``, grades through the ``lti``
adapter's AGS client into the mock LTI platform, counted in the platform's own state."""

from __future__ import annotations

import pytest
from engine_fixtures import Clock, add_catalog, launch, publish, set_grade
from sqlalchemy import func, select

import lmsbridge.adapters.lti as lti_adapter
from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.engine.delivery import DeliveryOptions
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.plugins import PluginSource, Registry
from lmsbridge.core.store.schema import contexts, gradebook_columns

TOOL = "https://tool.example"
# context -> items published as item links (Option A)
COURSE = {"ctx-a": ["q1", "q2", "q3"], "ctx-b": ["q4", "q5"]}
LEARNERS = 20


@pytest.fixture
def platform(store):
    ring = ToolKeyring(store)
    ring.current()
    with MockLtiPlatform(page_size=5, log_size=10_000) as mock:
        mock.register_tool(client_id="tool-1", deployment_ids=["1"], jwks=ring.jwks(),
                           login_url=f"{TOOL}/lti/login", launch_url=f"{TOOL}/lti/launch")
        yield mock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def tenant(store, platform):
    """Links published and launched by every learner, as the tool records them."""
    t = Tenant("uni", "lti", "item")
    store.tenants.add(t)
    store.platforms.add(PlatformRegistration(**platform.registration("uni")))
    add_catalog(store, "p1", "c1", [i for items in COURSE.values() for i in items])
    for ctx, items in COURSE.items():
        platform.add_context(ctx)
        with store.engine.begin() as conn:
            conn.execute(contexts.insert().values(
                tenant_id=store.tenants.id_of(conn, "uni"), context_id=ctx,
                lineitems_url=platform.lineitems_url(ctx),
                memberships_url=platform.memberships_url(ctx)))
        for n in range(LEARNERS):
            platform.add_member(ctx, f"sub-l{n}")
        for item in items:
            platform.add_resource_link(ctx, f"rl-{item}")
            publish(store, t, ctx, f"rl-{item}", "p1", "c1", item)
            for n in range(LEARNERS):
                launch(store, t, f"l{n}", ctx, f"rl-{item}", "p1", "c1", item)
                set_grade(store, f"l{n}", "c1", item, round(0.5 + n / 100, 2))
    return t


def engine(store, clock) -> Engine:
    registry = Registry.load([PluginSource("lti", "lmsbridge", "0", lambda: lti_adapter)])
    return Engine(store, registry, now=clock, sleep=lambda s: clock.advance(seconds=s))


def scores_by_cell(platform) -> dict[tuple[str, str], int]:
    cells = {}
    for context in platform.state()["contexts"].values():
        for item in context["line_items"]:
            for user, bodies in item["scores"].items():
                cells[(item["id"], user)] = len(bodies)
    return cells


def requests_to(platform, method: str, suffix: str) -> int:
    return sum(1 for r in platform.requests if r.method == method and r.path.endswith(suffix))


def line_items(platform) -> int:
    return sum(len(c["line_items"]) for c in platform.state()["contexts"].values())


EXPECTED = sum(len(items) for items in COURSE.values()) * LEARNERS


def test_grades_flow_through_ags_and_an_unchanged_day_sends_nothing(store, platform, tenant,
                                                                    clock):
    report = engine(store, clock).sync().tenants[0]
    assert (report.status, report.columns_created, report.sent) == ("ok", 5, EXPECTED)
    cells = scores_by_cell(platform)
    assert len(cells) == EXPECTED and set(cells.values()) == {1}
    assert line_items(platform) == 5
    columns_before = requests_to(platform, "POST", "/lineitems")
    posts_before = requests_to(platform, "POST", "/scores")

    clock.advance(days=1)
    again = engine(store, clock).sync().tenants[0]
    assert (again.status, again.columns_created, again.planned, again.sent) == ("ok", 0, 0, 0)
    assert requests_to(platform, "POST", "/scores") == posts_before  # zero score POSTs
    assert requests_to(platform, "POST", "/lineitems") == columns_before == 5
    assert line_items(platform) == 5
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(gradebook_columns)).scalar() == 5

    set_grade(store, "l3", "c1", "q2", 0.99, at=clock())
    third = engine(store, clock).sync().tenants[0]
    assert (third.planned, third.sent) == (1, 1)
    assert requests_to(platform, "POST", "/scores") == posts_before + 1


def test_faults_on_one_grade_in_ten_still_deliver_every_grade_exactly_once(
        store, platform, tenant, clock):
    scores = r"/scores$"
    rules = [platform.faults.add("throttle", path=scores, rate=0.04, retry_after=3, seed=1),
             platform.faults.add("status", path=scores, status=503, rate=0.03, seed=2),
             # The platform applies the score and the answer is lost: the retry must be
             # recognised as "already held", not applied twice.
             platform.faults.add("reset", path=scores, rate=0.03, after=True, seed=3)]
    options = SyncOptions(delivery=DeliveryOptions(batch_size=10, max_rounds=50))
    report = engine(store, clock).sync(options=options).tenants[0]

    assert all(rule.fired > 0 for rule in rules)
    assert report.status == "ok" and report.pending == report.failed == 0
    assert report.sent + report.current == EXPECTED
    cells = scores_by_cell(platform)
    assert len(cells) == EXPECTED and set(cells.values()) == {1}  # each applied exactly once
    assert line_items(platform) == 5


def test_a_deep_linked_link_waits_for_its_first_launch(store, platform, tenant, clock):
    # Published by deep linking in ctx-b (where q3 has no link yet), never launched.
    publish(store, tenant, "ctx-b", "dl:not-launched-yet", "p1", "c1", "q3")
    report = engine(store, clock).sync().tenants[0]
    assert report.status == "ok" and not report.errors
    assert report.columns_created == 5 and line_items(platform) == 5
