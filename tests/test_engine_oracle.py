"""The nightly sync driving an Oracle Learning tenant: MockCoursera -> engine -> MockOracle,
over real HTTP both ways. Content is pushed, progress goes out as xAPI starts and
completions (checked by ralph's models and our own rules), and an unchanged day costs no
writes."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from engine_fixtures import T0, Clock
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import select

import lmsbridge.adapters.coursera as coursera_module
import lmsbridge.adapters.oracle as oracle_module
from lmsbridge.adapters.coursera.mapping import to_ms
from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.mapping import ORACLE_ATTRIBUTE_NAMES, ORACLE_STATUS_CODES
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.adapters.oracle.xapi import VERBS, validate_statement
from lmsbridge.core.engine import catalog
from lmsbridge.core.engine.progress import ingest
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.model import Provider, evolve
from lmsbridge.core.plugins import PluginSource, Registry
from lmsbridge.core.secret import Secret
from lmsbridge.core.store.schema import deliveries

STARTED = VERBS["start"]["id"]
COMPLETED = VERBS["completion"]["id"]
LRS_FIELDS = ("stored", "version", "authority")  # set by the LRS, not sent by us


@pytest.fixture
def pod():
    with MockOracle() as mock:
        yield mock


@pytest.fixture
def provider():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as mock:
        mock.add_program("p1", "Data Science")
        mock.add_course("p1", "c1", "Python", description="Learn Python")
        mock.add_item("c1", "q1", "Quiz 1")
        mock.add_course("p1", "c2", "Statistics")
        mock.add_item("c2", "q2", "Quiz 2")
        mock.add_program("p2", "Not activated")
        mock.add_course("p2", "c9", "Elsewhere")
        yield mock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def world(store, pod, provider, clock):
    tenant = pod.connect(store, "acme")
    # Oracle's setup guide, step 3: learners known to Oracle by their work email.
    tenant = store.tenants.update(evolve(tenant, options={**tenant.options,
                                                          "identify_by": "email"}))
    store.programs.activate("acme", "p1")
    Providers(store).add(Provider("coursera", "coursera", provider.url, "org-1"), "cid",
                         Secret("s3cret"))
    registry = Registry.load([
        PluginSource("coursera", "lmsbridge", "0", lambda: coursera_module),
        PluginSource("oracle", "lmsbridge", "0", lambda: oracle_module)])
    engine = Engine(store, registry, now=clock, sleep=_no_wait)
    return tenant, engine


def _no_wait(seconds):
    raise AssertionError(f"the engine waited {seconds}s where it should not")


def at(days: float) -> int:
    return to_ms(T0 - timedelta(days=days))


def progress(provider) -> None:
    # ann completed c1 (final grade 0.8) and started c2; bob started c1; carl has no email.
    provider.set_progress("ann", "c1", item_id="q1", score=1, email="ann@uni.example",
                          at_ms=at(10))
    provider.set_progress("ann", "c1", score=0.8, completed=True, at_ms=at(5))
    provider.set_progress("ann", "c2", item_id="q2", score=0.5, at_ms=at(4))
    provider.set_progress("bob", "c1", item_id="q1", score=0.4, email="bob@uni.example",
                          at_ms=at(3))
    provider.set_progress("carl", "c1", item_id="q1", score=0.9, at_ms=at(2))


def writes(pod) -> list[tuple[str, str]]:
    return [(q.method, q.path) for q in pod.requests if q.method in ("POST", "PATCH", "PUT")]


def content_writes(pod) -> list[tuple[str, str]]:
    return [w for w in writes(pod) if w[1] != r.STATEMENTS_PATH]


def statement_posts(pod) -> list[tuple[str, str]]:
    return [w for w in writes(pod) if w[1] == r.STATEMENTS_PATH]


def sent(statement: dict) -> dict:
    return {k: v for k, v in statement.items() if k not in LRS_FIELDS}


def check(statement: dict) -> None:
    BaseXapiStatement.model_validate(copy.deepcopy(sent(statement)))
    validate_statement(sent(statement))


def by_verb(pod) -> dict[str, list[tuple[str, str, float | None]]]:
    out: dict[str, list] = {}
    for s in pod.state()["statements"]:
        score = ((s.get("result") or {}).get("score") or {}).get("raw")
        out.setdefault(s["verb"]["id"], []).append(
            (s["actor"].get("mbox"), s["object"]["id"].rsplit("/", 1)[-1], score))
    return {verb: sorted(rows) for verb, rows in out.items()}


def test_first_sync_pushes_the_catalog_and_sends_starts_and_completions(world, pod, provider):
    tenant, engine = world
    progress(provider)
    report = engine.sync().tenants[0]

    content = {c[r.PROVIDER_CONTENT_ID]: c for c in pod.content_items()}
    assert sorted(content) == ["course:c1", "course:c2"]  # p2 is not activated
    assert content["course:c1"][ORACLE_ATTRIBUTE_NAMES["title"]] == "Python"
    assert report.content["created"] == 2 and report.content["failed"] == 0

    for statement in pod.state()["statements"]:
        check(statement)
    verbs = by_verb(pod)
    # ann: start + completion of c1 (0.8 of 1), start of c2; bob: start of c1; carl: nothing.
    assert verbs[COMPLETED] == [("mailto:ann@uni.example", "c1", 0.8)]
    assert verbs[STARTED] == [("mailto:ann@uni.example", "c1", None),
                              ("mailto:ann@uni.example", "c2", None),
                              ("mailto:bob@uni.example", "c1", None)]
    completion = next(s for s in pod.state()["statements"] if s["verb"]["id"] == COMPLETED)
    assert completion["timestamp"].startswith((T0 - timedelta(days=5)).date().isoformat())

    assert report.learners_without_identity == ["carl"]
    assert (report.planned, report.sent, report.failed, report.pending) == (3, 3, 0, 0)
    assert report.status == "ok" and report.columns_created == 0


def test_an_unchanged_second_sync_writes_nothing(world, pod, provider, store):
    _, engine = world
    progress(provider)
    engine.sync()
    before = (len(content_writes(pod)), len(statement_posts(pod)),
              len(pod.state()["statements"]))
    report = engine.sync(options=SyncOptions(force_catalog=True)).tenants[0]
    after = (len(content_writes(pod)), len(statement_posts(pod)),
             len(pod.state()["statements"]))
    assert after == before
    assert report.content["unchanged"] == 2 and report.content["created"] == 0
    assert (report.planned, report.sent, report.unchanged, report.status) == (0, 0, 3, "ok")
    with store.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalars().all() == ["delivered"] * 3


def test_a_course_removed_upstream_is_deactivated(world, pod, provider, clock):
    _, engine = world
    progress(provider)
    engine.sync()
    provider.remove_course("p1", "c2")
    clock.advance(hours=25)  # the daily catalog sync is due
    report = engine.sync().tenants[0]
    content = {c[r.PROVIDER_CONTENT_ID]: c for c in pod.content_items()}
    assert content["course:c2"][ORACLE_ATTRIBUTE_NAMES["status"]] == \
        ORACLE_STATUS_CODES["inactive"]
    assert content["course:c2"][ORACLE_ATTRIBUTE_NAMES["deactivation_date"]]
    assert content["course:c1"][ORACLE_ATTRIBUTE_NAMES["status"]] == \
        ORACLE_STATUS_CODES["active"]
    assert report.content["deactivated"] == 1 and report.content["unchanged"] == 1
    # Deactivated once: the next day hands nothing more to the retire hook.
    clock.advance(hours=25)
    again = engine.sync().tenants[0]
    assert again.content["deactivated"] == 0 and again.status == "ok"


def test_a_changed_final_grade_sends_one_new_completion(world, pod, provider):
    _, engine = world
    progress(provider)
    engine.sync()
    stored = len(pod.state()["statements"])
    provider.set_progress("ann", "c1", score=0.95, completed=True, at_ms=at(1))
    report = engine.sync().tenants[0]
    statements = pod.state()["statements"]
    assert len(statements) == stored + 1
    new = statements[-1]
    check(new)
    assert new["verb"]["id"] == COMPLETED and new["result"]["score"]["raw"] == 0.95
    assert (report.planned, report.sent, report.status) == (1, 1, "ok")


def test_a_learner_gains_an_email_and_is_sent_then(world, pod, provider):
    _, engine = world
    progress(provider)
    assert engine.sync().tenants[0].learners_without_identity == ["carl"]
    provider.set_progress("carl", "c1", item_id="q1", score=0.9, email="carl@uni.example",
                          at_ms=at(1))
    report = engine.sync().tenants[0]
    assert report.learners_without_identity == []
    assert ("mailto:carl@uni.example", "c1", None) in by_verb(pod)[STARTED]
    assert (report.planned, report.sent) == (1, 1)


def test_dry_run_plans_without_writing(world, pod, provider, store):
    tenant, engine = world
    progress(provider)
    catalog.sync(store, engine.registry, engine.runtime, engine.now, force=True)
    ingest(store, engine.registry, engine.runtime, Providers(store).get("coursera"))
    report = engine.sync(options=SyncOptions(dry_run=True)).tenants[0]
    assert report.dry_run and report.planned == 3 and report.columns_wanted == 0
    assert report.learners_without_identity == ["carl"]
    assert sorted(row["column_key"] for row in report.sample) == [
        "course:c1", "start:course:c1", "start:course:c2"]
    assert writes(pod) == []
    with store.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.id)).first() is None
