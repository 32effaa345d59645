"""The Oracle hooks end to end: registry -> adapter -> real HTTP -> mock pod -> store."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from oracle_helpers import (
    NOW,
    PROGRAM,
    Sleeps,
    course,
    oracle_tenant,
    publications,
    seed_catalog,
    seed_learner,
)
from ralph.models.xapi.base.statements import BaseXapiStatement

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.client import OracleError
from lmsbridge.adapters.oracle.completions import CompletionWriter
from lmsbridge.adapters.oracle.connect import connect
from lmsbridge.adapters.oracle.ledger import ContentLedger
from lmsbridge.adapters.oracle.options import OracleOptions
from lmsbridge.adapters.oracle.publish import ContentPublisher
from lmsbridge.adapters.oracle.xapi import validate_statement
from lmsbridge.core.errors import ConfigError
from lmsbridge.core.model import Delivery, Item, Outcome, Publication, Tenant, evolve
from lmsbridge.core.plugins import Registry

COURSES = [course(1), course(2), course(3)]

pytest_plugins = ["oracle_fixtures"]


@pytest.fixture
def registry(store) -> Registry:
    """The registry, its write_grades given deliveries as the engine loads them: with their
    typed completions filled from the store."""
    registry = Registry.load()
    write = registry.write_grades

    def write_grades(tenant, context, deliveries, runtime=None):
        return write(tenant, context, store.learning.completions(deliveries), runtime)

    registry.write_grades = write_grades
    return registry


def state(runtime, tenant):
    return runtime.for_adapter("oracle").state(tenant)


def writes(pod) -> list[tuple[str, int | None]]:
    return [(e.method, e.status) for e in pod.requests if e.method in ("POST", "PATCH")]


# ------------------------------------------------------------------------- content


def test_publish_creates_then_an_unchanged_catalog_sends_nothing(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    out = registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    assert all(p.platform_ref for p in out)
    held = {c[r.PROVIDER_CONTENT_ID]: c for c in pod.content_items()}
    assert set(held) == {"course:c1", "course:c2", "course:c3"}
    assert held["course:c1"]["ContentURL"] == "https://www.coursera.org/learn/c1"
    assert held["course:c1"]["Status"] == "ACTIVE"
    assert [p.platform_ref for p in out] == [held[p.key][r.CONTENT_ID] for p in out]

    pod.log.clear()
    again = registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    assert [p.platform_ref for p in again] == [p.platform_ref for p in out]
    assert writes(pod) == []  # no POST, no PATCH
    assert len(pod.content_items()) == 3


def test_a_changed_course_is_patched_and_nothing_else(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    pod.log.clear()
    changed = [COURSES[0], course(2, name="Course 2, revised"), COURSES[2]]
    registry.publish_content(tenant, None, publications(tenant.name, changed), runtime)
    assert writes(pod) == [("PATCH", 200)]
    titles = {c[r.PROVIDER_CONTENT_ID]: c["Title"] for c in pod.content_items()}
    assert titles["course:c2"] == "Course 2, revised"


def test_attribute_mapping_comes_from_tenant_options(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod, attribute_mapping={
        "publisher": {"constant": "Coursera"}, "summary": None})
    registry.publish_content(tenant, None, publications(tenant.name, COURSES[:1]), runtime)
    (item,) = pod.content_items()
    assert item["Publisher"] == "Coursera" and "ShortDescription" not in item
    assert item["Description"] == "About course 1"


def test_content_already_in_oracle_is_adopted_not_duplicated(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    # Another install (or a lost database) publishes the same catalog: no duplicates.
    other = oracle_tenant(store, pod, name="acme-copy")
    pod.log.clear()
    registry.publish_content(other, None, publications(other.name, COURSES), runtime)
    assert writes(pod) == [] and len(pod.content_items()) == 3


def test_bad_courses_and_items_are_reported_not_half_sent(registry, store, runtime, pod,
                                                         oracle_log):
    tenant = oracle_tenant(store, pod)
    c1 = COURSES[0]
    pubs = [Publication(tenant=tenant.name, program=PROGRAM, course=course(9, url=None)),
            Publication(tenant=tenant.name, program=PROGRAM, course=c1, item=None),
            Publication(tenant=tenant.name, program=PROGRAM, course=c1,
                        item=Item("i1", "c1", "Quiz"))]
    out = registry.publish_content(tenant, None, pubs, runtime)
    assert [p.platform_ref is not None for p in out] == [False, True, False]
    assert [c[r.PROVIDER_CONTENT_ID] for c in pod.content_items()] == ["course:c1"]
    assert "content_url is required" in oracle_log.text
    assert "created=1" in oracle_log.text and "skipped=1 failed=1" in oracle_log.text


def test_retire_deactivates_once_and_republish_reactivates(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    gone = publications(tenant.name, COURSES[:1])
    out = registry.retire_content(tenant, None, gone, runtime)
    assert out[0].retired and out[0].platform_ref
    held = {c[r.PROVIDER_CONTENT_ID]: c for c in pod.content_items()}
    assert held["course:c1"]["Status"] == "INACTIVE"
    dt.date.fromisoformat(held["course:c1"]["DeactivationDate"])
    assert held["course:c2"]["Status"] == "ACTIVE"

    pod.log.clear()
    registry.retire_content(tenant, None, gone, runtime)
    assert writes(pod) == []
    never_pushed = publications(tenant.name, [course(7)])
    assert registry.retire_content(tenant, None, never_pushed, runtime)[0].retired

    registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    back = {c[r.PROVIDER_CONTENT_ID]: c for c in pod.content_items()}["course:c1"]
    assert back["Status"] == "ACTIVE" and back["DeactivationDate"] is None


def test_retire_uses_the_injected_date(store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    options, client = connect(tenant, runtime)
    publisher = ContentPublisher(options, client, ContentLedger(state(runtime, tenant)),
                                 today=lambda: dt.date(2026, 5, 31))
    publisher.publish(publications(tenant.name, COURSES[:1]))
    _, report = publisher.retire(publications(tenant.name, COURSES[:1]))
    assert report.deactivated == 1
    assert pod.content_items()[0]["DeactivationDate"] == "2026-05-31"


def test_throttling_stops_the_run_and_the_next_call_finishes_it(registry, store, runtime, pod,
                                                                oracle_log):
    tenant = oracle_tenant(store, pod)
    registry.publish_content(tenant, None, publications(tenant.name, COURSES[:1]), runtime)
    # The hook does not sleep: the engine calls again after the platform's delay.
    pod.faults.add("throttle", method="POST", retry_after=30, times=1)
    with pytest.raises(OracleError) as err:
        registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    assert err.value.transient and err.value.retry_after == 30
    assert "oracle publish tenant=acme-oracle interrupted (OracleError) created=0 updated=0 " \
        "unchanged=1" in oracle_log.text
    assert len(pod.content_items()) == 1 and len(writes(pod)) == 2  # one POST, then throttled
    out = registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    assert all(p.platform_ref for p in out) and len(pod.content_items()) == 3
    assert "created=2 updated=0 unchanged=1 deactivated=0" in oracle_log.text


def test_each_run_logs_its_counts_and_returns_what_an_admin_needs(registry, store, runtime,
                                                                 pod, oracle_log):
    tenant = oracle_tenant(store, pod)
    registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    out = registry.retire_content(tenant, None, publications(tenant.name, COURSES[:2]), runtime)
    held = {c[r.PROVIDER_CONTENT_ID]: c[r.CONTENT_ID] for c in pod.content_items()}
    assert [(p.retired, p.platform_ref) for p in out] == [
        (True, held["course:c1"]), (True, held["course:c2"])]
    lines = [rec.getMessage() for rec in oracle_log.records if rec.levelno == logging.INFO
             and rec.name == "lmsbridge.adapters.oracle"]
    assert lines == [
        "oracle publish tenant=acme-oracle created=3 updated=0 unchanged=0 deactivated=0 "
        "skipped=0 failed=0",
        "oracle retire tenant=acme-oracle created=0 updated=0 unchanged=0 deactivated=2 "
        "skipped=0 failed=0"]


def test_a_lost_post_answer_is_retried_without_duplicating(store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    pod.faults.add("reset", method="POST", after=True)
    options, client = connect(tenant, runtime, sleep=Sleeps())
    publisher = ContentPublisher(options, client, ContentLedger(state(runtime, tenant)))
    out, report = publisher.publish(publications(tenant.name, COURSES[:1]))
    assert report.created == 1 and len(pod.content_items()) == 1
    assert out[0].platform_ref == pod.content_items()[0][r.CONTENT_ID]


def test_a_provider_not_enabled_in_oracle_is_a_configuration_error(registry, store, runtime,
                                                                    pod):
    tenant = oracle_tenant(store, pod, provider_code="UDEMY")
    with pytest.raises(ConfigError, match="'UDEMY'.*Configure External Providers"):
        registry.publish_content(tenant, None, publications(tenant.name, COURSES[:1]), runtime)
    assert writes(pod) == []


# ------------------------------------------------------------------------- options


@pytest.mark.parametrize(("options", "named"), [
    ({"username": "u"}, "'issuer'"),
    ({"issuer": "i"}, "'username'"),
    ({"issuer": "i", "username": "u", "identify_by": "phone"}, "'identify_by'"),
    ({"issuer": "i", "username": "u", "auth": "basic"}, "'auth'"),
    ({"auth": "oauth"}, "'oauth_token_url'"),
    ({"issuer": "i", "username": "u", "attribute_mapping": {"colour": "name"}},
     "'attribute_mapping'"),
    ({"issuer": "i", "username": "u", "isuer": "typo"}, "'isuer'"),
])
def test_bad_options_name_the_option(options, named):
    tenant = Tenant(name="t", kind="oracle", base_url="https://pod.example", options=options)
    with pytest.raises(ConfigError, match=named):
        OracleOptions.from_tenant(tenant)


def test_a_missing_key_says_how_to_make_one(store, runtime):
    tenant = store.tenants.add(Tenant(name="t", kind="oracle", base_url="https://pod.example",
                                      options={"issuer": "i", "username": "u"}))
    with pytest.raises(ConfigError, match="oracle keygen --tenant t"):
        connect(tenant, runtime)


# ------------------------------------------------------------------------- completions


def delivery(tenant: str, learner: str, course_id: str = "c1", score: float = 80,
             at: dt.datetime = NOW, prefix: str = "", revision: int = 0) -> Delivery:
    return Delivery(tenant=tenant, context_id="oracle", column_key=f"{prefix}course:{course_id}",
                    learner_id=learner, lms_user_id=learner, score=score, max_score=100,
                    timestamp=at, grade_revision=revision)


def check_with_ralph(statement: dict) -> None:
    sent = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    BaseXapiStatement(**sent)
    validate_statement(sent)


def test_completions_become_valid_statements_and_a_resend_changes_nothing(
        registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    seed_learner(store, "L2", email="bob@example.com")
    batch = [delivery(tenant.name, "L1"), delivery(tenant.name, "L2", "c2", score=100)]
    results = registry.write_grades(tenant, None, batch, runtime)
    assert [(x.dedupe_key, x.outcome) for x in results] == [
        (d.dedupe_key, Outcome.DELIVERED) for d in batch]
    held = pod.state()["statements"]
    assert len(held) == 4  # a start and a completion each
    for statement in held:
        check_with_ralph(statement)
    completion = next(s for s in held if s["verb"]["id"].endswith("completed")
                      and s["actor"]["mbox"] == "mailto:ann@example.com")
    assert completion["object"]["id"] == "https://www.coursera.org/learn/c1"
    assert completion["result"]["score"] == {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}
    assert completion["timestamp"] == "2026-06-01T12:00:00.000Z"

    pod.log.clear()
    again = registry.write_grades(tenant, None, batch, runtime)
    assert [x.outcome for x in again] == [Outcome.CURRENT, Outcome.CURRENT]
    assert [e.status for e in pod.requests if e.path == r.STATEMENTS_PATH] == [204]
    assert len(pod.state()["statements"]) == 4


def test_learners_are_identified_by_user_name_when_the_tenant_says_so(
        registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod, identify_by="username")
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com", username="ANN.SMITH")
    registry.write_grades(tenant, None, [delivery(tenant.name, "L1", prefix="start:")], runtime)
    (statement,) = pod.state()["statements"]
    assert statement["actor"]["account"] == {"homePage": pod.url, "name": "ANN.SMITH"}
    assert "mbox" not in statement["actor"]
    assert statement["verb"]["id"].endswith("initialized")
    check_with_ralph(statement)


def test_a_learner_without_the_identifier_is_rejected_not_sent(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", username="only.a.username")
    seed_learner(store, "L2", email="bob@example.com")
    results = registry.write_grades(
        tenant, None, [delivery(tenant.name, "L1"), delivery(tenant.name, "L2")], runtime)
    assert results[0].outcome == Outcome.REJECTED
    assert "L1" in results[0].detail and "work email" in results[0].detail
    assert results[1].outcome == Outcome.DELIVERED
    assert {s["actor"]["mbox"] for s in pod.state()["statements"]} == {"mailto:bob@example.com"}


def test_unknown_course_or_column_key_is_rejected(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    bad_key = Delivery(tenant=tenant.name, context_id="x", column_key="item:q1", learner_id="L1",
                       lms_user_id="L1", score=1, max_score=1, timestamp=NOW)
    results = registry.write_grades(
        tenant, None, [bad_key, delivery(tenant.name, "L1", "nope")], runtime)
    assert [x.outcome for x in results] == [Outcome.REJECTED, Outcome.REJECTED]
    assert "column_key" in results[0].detail and "'nope'" in results[1].detail
    assert pod.state()["statements"] == []


def test_a_revised_score_is_a_new_completion_and_the_start_is_not_resent(
        registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    registry.write_grades(tenant, None, [delivery(tenant.name, "L1", score=70)], runtime)
    later = NOW + dt.timedelta(days=1)
    results = registry.write_grades(
        tenant, None, [delivery(tenant.name, "L1", score=90, at=later, revision=1)], runtime)
    assert results[0].outcome == Outcome.DELIVERED
    held = pod.state()["statements"]
    completions = sorted((s for s in held if s["verb"]["id"].endswith("completed")),
                         key=lambda s: s["timestamp"])
    assert [c["result"]["score"]["raw"] for c in completions] == [70, 90]
    assert len(held) == 3  # the start was already held: one start, two completions
    again = registry.write_grades(
        tenant, None, [delivery(tenant.name, "L1", score=90, at=later, revision=1)], runtime)
    assert again[0].outcome == Outcome.CURRENT and len(pod.state()["statements"]) == 3


def test_the_start_statement_carries_started_at_and_no_invented_effort(
        registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    began = NOW - dt.timedelta(days=40)
    d = evolve(delivery(tenant.name, "L1"), started_at=began)
    assert registry.write_grades(tenant, None, [d], runtime)[0].outcome == Outcome.DELIVERED
    by_verb = {s["verb"]["display"]["en-US"]: s for s in pod.state()["statements"]}
    assert by_verb["initialized"]["timestamp"] == "2026-04-22T12:00:00.000Z"
    assert by_verb["completed"]["timestamp"] == "2026-06-01T12:00:00.000Z"
    # 40 days between start and finish are not 40 days of effort; no pass mark is known.
    assert set(by_verb["completed"]["result"]) == {"completion", "score"}
    for statement in by_verb.values():
        check_with_ralph(statement)


def test_a_start_after_the_completion_is_rejected_by_name(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    d = evolve(delivery(tenant.name, "L1"), started_at=NOW + dt.timedelta(seconds=1))
    (result,) = registry.write_grades(tenant, None, [d], runtime)
    assert result.outcome == Outcome.REJECTED and "started_at" in result.detail
    assert pod.state()["statements"] == []


def test_a_course_missing_from_the_catalog_is_found_in_oracle(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod, identify_by="username")
    registry.publish_content(tenant, None, publications(tenant.name, COURSES[:1]), runtime)
    d = Delivery(tenant=tenant.name, context_id="oracle", column_key="course:c1",
                 learner_id="L9", lms_user_id="ann.smith", score=5, max_score=10, timestamp=NOW)
    assert registry.write_grades(tenant, None, [d], runtime)[0].outcome == Outcome.DELIVERED
    objects = {s["object"]["id"] for s in pod.state()["statements"]}
    assert objects == {"https://www.coursera.org/learn/c1"}


def test_throttled_lookups_hold_every_delivery_back(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod, identify_by="username")
    registry.publish_content(tenant, None, publications(tenant.name, COURSES[:2]), runtime)
    pod.faults.add("throttle", method="GET", retry_after=45, times=1)
    batch = [Delivery(tenant=tenant.name, context_id="oracle", column_key=f"course:c{n}",
                      learner_id="L9", lms_user_id="ann.smith", score=5, max_score=10,
                      timestamp=NOW) for n in (1, 2)]
    results = registry.write_grades(tenant, None, batch, runtime)
    assert [(x.outcome, x.retry_after) for x in results] == [(Outcome.RETRY, 45)] * 2
    assert pod.state()["statements"] == []


def test_statements_go_in_batches(store, runtime, pod):
    tenant = oracle_tenant(store, pod, statement_batch_size=3)
    seed_catalog(store, COURSES)
    for n in range(4):
        seed_learner(store, f"L{n}", email=f"l{n}@example.com")
    options, client = connect(tenant, runtime)
    writer = CompletionWriter(state(runtime, tenant), options, client)
    results = writer.write(store.learning.completions(
        [delivery(tenant.name, f"L{n}") for n in range(4)]))
    assert {x.outcome for x in results} == {Outcome.DELIVERED}
    posts = [e for e in pod.requests if e.path == r.STATEMENTS_PATH]
    assert len(posts) == 3  # 8 statements, 3 per POST
    assert len(pod.state()["statements"]) == 8


def test_throttling_that_does_not_end_is_retry_with_the_platforms_delay(store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    pod.faults.add("throttle", path="statements", retry_after=120, times=None)
    options, client = connect(tenant, runtime, sleep=Sleeps())
    results = CompletionWriter(state(runtime, tenant), options, client).write(
        store.learning.completions([delivery(tenant.name, "L1")]))
    assert results[0].outcome == Outcome.RETRY and results[0].retry_after == 120
    assert pod.state()["statements"] == []


def test_an_answer_lost_after_storing_is_retried_and_counts_once(store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    pod.faults.add("status", status=503, path="statements", after=True)
    options, client = connect(tenant, runtime, sleep=Sleeps())
    results = CompletionWriter(state(runtime, tenant), options, client).write(
        store.learning.completions([delivery(tenant.name, "L1")]))
    # The pod stored both statements, then the answer was lost; the re-send is a no-op (204).
    assert results[0].outcome == Outcome.CURRENT
    assert len(pod.state()["statements"]) == 2


def test_future_timestamps_are_refused_before_sending(store, runtime, pod):
    tenant = oracle_tenant(store, pod)
    seed_catalog(store, COURSES)
    seed_learner(store, "L1", email="ann@example.com")
    options, client = connect(tenant, runtime)
    writer = CompletionWriter(state(runtime, tenant), options, client,
                              now=lambda: NOW - dt.timedelta(days=1))
    (result,) = writer.write(store.learning.completions([delivery(tenant.name, "L1")]))
    assert result.outcome == Outcome.REJECTED and "future" in result.detail


def test_the_mock_is_served_through_the_registry(registry):
    mock = registry.mock_platform("oracle")
    assert mock.name == "oracle" and not mock.running


def test_a_refused_publish_says_what_the_admin_must_fix(registry, store, runtime, pod):
    tenant = oracle_tenant(store, pod, issuer="not.the.trusted.issuer")
    with pytest.raises(OracleError, match="acme-oracle.*issuer mismatch.*Oracle.s setup guide, step 9.3"):
        registry.publish_content(tenant, None, publications(tenant.name, COURSES), runtime)
    assert writes(pod) == []


def test_the_signing_key_is_loaded_once_per_tenant_and_again_after_a_new_key(store, pod, runtime):
    from lmsbridge.adapters.oracle.auth import generate_keypair
    from lmsbridge.adapters.oracle.connect import connect
    from lmsbridge.core.secret import Secret

    tenant = pod.connect(store, "reuse")
    _, first = connect(tenant, runtime)
    _, again = connect(tenant, runtime)
    assert again.auth.minter is first.auth.minter  # no second ~30 ms key load
    keys = generate_keypair("lmsbridge reuse")
    store.tenants.set_secret("reuse", "private_key", Secret(keys.private_key_pem.decode()))
    store.tenants.set_secret("reuse", "certificate", Secret(keys.certificate_pem.decode()))
    _, rotated = connect(tenant, runtime)
    assert rotated.auth.minter is not first.auth.minter
    assert rotated.auth.minter.x5t != first.auth.minter.x5t
