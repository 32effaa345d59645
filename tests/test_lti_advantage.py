"""The generic "lti" adapter's hooks (core.lti.advantage) through the plugin registry, against
the mock LTI platform over real HTTP, as the engine calls them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lti_service_fixtures import CONTEXT, TOOL, seed

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.errors import ConfigError
from lmsbridge.core.lti.advantage import tokens_for
from lmsbridge.core.model import (
    Context,
    Course,
    Delivery,
    GradebookColumn,
    MemberStatus,
    Outcome,
    PlatformRegistration,
    Program,
    Publication,
    Tenant,
    evolve,
)
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TENANT = Tenant("state-u", "lti")


@pytest.fixture
def runtime(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'lmsbridge.db'}", key_file=tmp_path / "key")
    store.upgrade()
    store.tenants.add(TENANT)
    yield Runtime(store)
    store.dispose()


@pytest.fixture
def platform(runtime):
    with MockLtiPlatform(page_size=2, lineitem_url_query="type_id=7") as mock:
        runtime.keyring.current()
        mock.register_tool(client_id="tool-1", deployment_ids=["dep-1"],
                           jwks=runtime.keyring.jwks(), login_url=f"{TOOL}/lti/login",
                           launch_url=f"{TOOL}/lti/launch")
        seed(mock)
        runtime._store.platforms.add(PlatformRegistration(**mock.registration(TENANT.name)))
        yield mock


@pytest.fixture
def registry():
    return Registry.load()


@pytest.fixture
def context(platform) -> Context:
    return Context(TENANT.name, CONTEXT, "Math 101", lineitems_url=platform.lineitems_url(CONTEXT),
                   memberships_url=platform.memberships_url(CONTEXT))


def columns(*keys: str) -> list[GradebookColumn]:
    return [GradebookColumn(TENANT.name, CONTEXT, key, f"Label {key}", score_maximum=10)
            for key in keys]


def state(platform) -> dict:
    return requests.get(f"{platform.url}/_mock/state", timeout=5).json()


def delivery(user: str, column: str, score: float, ref: str | None = None,
             when: datetime = T0, revision: int = 0) -> Delivery:
    return Delivery(TENANT.name, CONTEXT, column, f"learner-{user}", user, score, 10, when,
                    grade_revision=revision, column_ref=ref)


def test_ensure_columns_creates_only_what_is_missing(registry, runtime, platform, context):
    platform.add_line_item(CONTEXT, label="Made by hand", scoreMaximum=5, tag="item:b")
    ensured = registry.ensure_columns(TENANT, context, columns("item:a", "item:b", "item:c"),
                                      runtime)
    refs = [c.platform_ref for c in ensured]
    assert all(ref and ref.endswith("?type_id=7") for ref in refs) and len(set(refs)) == 3
    items = state(platform)["contexts"][CONTEXT]["line_items"]
    assert [(i["label"], i.get("resourceId")) for i in items] == [
        ("Made by hand", None), ("Label item:a", "item:a"), ("Label item:c", "item:c")]
    again = registry.ensure_columns(TENANT, context, columns("item:c", "item:a", "item:b"),
                                    runtime)
    assert [c.platform_ref for c in again] == [refs[2], refs[0], refs[1]]
    assert len(state(platform)["contexts"][CONTEXT]["line_items"]) == 3


def test_ensure_columns_survives_a_lost_create_answer(registry, runtime, platform, context):
    platform.faults.add("status", method="POST", path="/lineitems$", status=502, after=True)
    with pytest.raises(Exception, match="502"):
        registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    (ensured,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    items = state(platform)["contexts"][CONTEXT]["line_items"]
    assert len(items) == 1 and ensured.platform_ref == items[0]["id"]


def test_a_deleted_line_item_is_created_again(registry, runtime, platform, context):
    (first,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    platform.line_items[CONTEXT].clear()  # an instructor deleted the column
    (second,) = registry.ensure_columns(TENANT, context, [first], runtime)
    assert second.platform_ref != first.platform_ref


def test_write_grades_reports_one_result_per_delivery(registry, runtime, platform, context):
    a, b = registry.ensure_columns(TENANT, context, columns("item:a", "item:b"), runtime)
    batch = [
        delivery("user-0", "item:a", 7, a.platform_ref),
        delivery("user-1", "item:b", 9),  # no column_ref: found by resourceId
        delivery("nobody", "item:a", 1, a.platform_ref),
        delivery("user-2", "item:zzz", 1),  # no such column
    ]
    results = registry.write_grades(TENANT, context, batch, runtime)
    assert [r.dedupe_key for r in results] == [d.dedupe_key for d in batch]
    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DELIVERED,
                                            Outcome.REJECTED, Outcome.REJECTED]
    assert "User not found" in results[2].detail and "item:zzz" in results[3].detail
    held = state(platform)["contexts"][CONTEXT]["line_items"]
    assert held[0]["results"]["user-0"]["resultScore"] == 7
    assert held[1]["results"]["user-1"]["resultScore"] == 9
    # The same grade revision sent again (its answer was lost) is already there: CURRENT.
    resent = registry.write_grades(TENANT, context, batch[:1], runtime)
    assert resent[0].outcome is Outcome.CURRENT


def test_throttling_stops_the_batch_with_retry_after(registry, runtime, platform, context):
    (a,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    platform.faults.add("throttle", method="POST", path="/scores$", retry_after=20, skip=1)
    batch = [delivery(f"user-{i}", "item:a", i, a.platform_ref) for i in range(4)]
    results = registry.write_grades(TENANT, context, batch, runtime)
    assert [r.outcome for r in results] == [Outcome.DELIVERED] + [Outcome.RETRY] * 3
    assert [r.retry_after for r in results] == [None, 20, 20, 20]
    assert results[2].detail.startswith("not sent:")
    scores = [r for r in state(platform)["requests"] if r["path"].endswith("/scores")]
    assert len(scores) == 2  # nothing was sent after the 429


def test_5xx_is_retry_but_the_batch_goes_on(registry, runtime, platform, context):
    (a,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    platform.faults.add("status", method="POST", path="/scores$", status=500)
    batch = [delivery(f"user-{i}", "item:a", i, a.platform_ref) for i in range(2)]
    results = registry.write_grades(TENANT, context, batch, runtime)
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.DELIVERED]


def test_expired_token_is_reminted_once_and_tokens_are_shared(registry, runtime, platform,
                                                             context):
    (a,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    registry.write_grades(TENANT, context, [delivery("user-0", "item:a", 1, a.platform_ref)],
                          runtime)
    platform.faults.add("expired_token", path="/scores$")
    later = delivery("user-0", "item:a", 2, a.platform_ref, when=T0 + timedelta(hours=1),
                     revision=1)
    assert registry.write_grades(TENANT, context, [later], runtime)[0].outcome \
        is Outcome.DELIVERED
    assert tokens_for(runtime).minted == 3  # lineitem, score, score after the 401


def test_token_failure_is_retry_not_a_lost_grade(registry, runtime, platform, context):
    (a,) = registry.ensure_columns(TENANT, context, columns("item:a"), runtime)
    platform.register_tool(client_id="tool-1", deployment_ids=["dep-1"], jwks={"keys": []})
    tokens_for(runtime).clear()
    batch = [delivery(f"user-{i}", "item:a", i, a.platform_ref) for i in range(2)]
    results = registry.write_grades(TENANT, context, batch, runtime)
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert "invalid_client" in results[0].detail


def test_read_roster_yields_every_member(registry, runtime, platform, context):
    platform.remove_member(CONTEXT, "user-4")
    platform.add_member(CONTEXT, "user-3", status="Inactive")
    roster = list(registry.read_roster(TENANT, context, runtime))
    assert [m.user_id for m in roster] == ["user-0", "user-1", "user-2", "user-3", "teacher"]
    assert roster[0].email == "user0@example.edu" and roster[0].sourced_id == "sis-0"
    assert roster[3].status is MemberStatus.INACTIVE
    assert roster[-1].name == "Tea Cher" and roster[-1].roles[0].endswith("#Instructor")


def test_missing_service_urls_and_registrations_are_clear(registry, runtime, platform, context):
    bare = evolve(context, lineitems_url=None, memberships_url=None)
    with pytest.raises(ConfigError, match="no AGS line items URL"):
        registry.ensure_columns(TENANT, bare, columns("item:a"), runtime)
    with pytest.raises(ConfigError, match="no NRPS memberships URL"):
        list(registry.read_roster(TENANT, bare, runtime))
    other = Tenant("other-u", "lti")
    runtime._store.tenants.add(other)
    with pytest.raises(ConfigError, match="no LTI platform registration"):
        registry.ensure_columns(other, evolve(context, tenant="other-u"), [], runtime)


def test_retire_content_reports_links_stale(registry, runtime, platform, context, caplog):
    course = Course("c-1", "p-1", "Algebra")
    pub = Publication(TENANT.name, Program("p-1", "Math", courses=[course]), course,
                      context_id=CONTEXT)
    with caplog.at_level(logging.WARNING):
        result = registry.retire_content(TENANT, context, [pub], runtime)
    assert result == [pub] and not result[0].retired
    assert "course:c-1" in caplog.text and "instructor must remove" in caplog.text


def test_a_deep_linked_links_line_item_is_adopted(registry, runtime, platform, context):
    # The platform created this line item with the resource link a deep linking response
    # declared; it has neither our resourceId nor our tag.
    platform.add_resource_link(CONTEXT, "rl-dl", line_item={"label": "Quiz", "scoreMaximum": 10})
    column = GradebookColumn(TENANT.name, CONTEXT, "item:q", "Quiz", score_maximum=10,
                             resource_link_id="rl-dl")
    (ensured,) = registry.ensure_columns(TENANT, context, [column], runtime)
    items = state(platform)["contexts"][CONTEXT]["line_items"]
    assert len(items) == 1 and ensured.platform_ref == items[0]["id"]
