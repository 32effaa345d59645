"""Catalog and progress from the provider mock (real HTTP) into the store."""

import pytest
from engine_fixtures import Clock, ToyAdapter, ToyGradebook, launch, publish, registry
from sqlalchemy import select

from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.core.engine import catalog, progress
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.errors import AlreadyExists
from lmsbridge.core.model import Provider, Tenant
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.secret import Secret
from lmsbridge.core.store.schema import courses, credentials, grades, items, published_links


class RetireRecorder(ToyAdapter):
    def __init__(self):
        super().__init__()
        self.retired = []

    from lmsbridge.core import hookimpl

    @hookimpl
    def lmsbridge_retire_content(self, tenant, context, publications):
        self.retired.extend(p.key for p in publications)
        return list(publications)  # an LMS cannot deactivate a link: reported stale


@pytest.fixture
def provider_mock():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as mock:
        mock.add_program("p1", "Data Science", seats=3)
        mock.add_course("p1", "c1", "Python")
        mock.add_item("c1", "q1", "Quiz 1")
        mock.add_item("c1", "q2", "Quiz 2", max_score=10)
        mock.add_program("p2", "Not activated")
        mock.add_course("p2", "c9", "Elsewhere")
        yield mock


@pytest.fixture
def setup(store, provider_mock):
    Providers(store).add(Provider("coursera-main", "coursera", provider_mock.url, "org-1"),
                         "cid", Secret("s3cret"))
    store.tenants.add(Tenant("uni", "toy", base_url="https://lms.test"))
    store.programs.activate("uni", "p1")
    return store


def rows(store, table, *cols):
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*(table.c[c] for c in cols))))


def test_provider_secrets_are_stored_encrypted_and_names_are_unique(setup):
    with setup.engine.connect() as conn:
        stored = conn.execute(select(credentials.c.ciphertext)).scalars().all()
    assert stored and not any("s3cret" in s for s in stored)
    with pytest.raises(AlreadyExists, match="coursera-main"):
        Providers(setup).add(Provider("coursera-main"), "x", Secret("y"))


def test_catalog_sync_reads_activated_programs_once_a_day_unless_forced(setup, provider_mock):
    clock = Clock()
    reg = registry(ToyAdapter())
    result = catalog.sync(setup, reg, Runtime(setup), clock)
    assert result.ran and result.added_courses == ["c1"]
    assert rows(setup, courses, "program_id", "id") == [("p1", "c1")]  # p2 not activated
    assert rows(setup, items, "id", "max_score") == [("q1", 1.0), ("q2", 10.0)]
    provider_mock.add_course("p1", "c2", "Statistics")
    clock.advance(hours=2)
    assert not catalog.sync(setup, reg, Runtime(setup), clock).ran
    assert catalog.sync(setup, reg, Runtime(setup), clock, force=True).added_courses == ["c2"]
    provider_mock.add_course("p1", "c3", "SQL")
    clock.advance(hours=24)
    assert catalog.sync(setup, reg, Runtime(setup), clock).added_courses == ["c3"]


def test_content_removed_upstream_is_retired_and_handed_to_the_retire_hook(
        setup, provider_mock):
    adapter = RetireRecorder()
    reg = registry(adapter)
    t = setup.tenants.get("uni")
    catalog.sync(setup, reg, Runtime(setup), Clock())
    publish(setup, t, "ctx", "l-q2", "p1", "c1", "q2")
    publish(setup, t, "ctx", "l-q1", "p1", "c1", "q1")
    provider_mock.remove_item("c1", "q2")
    result = catalog.sync(setup, reg, Runtime(setup), Clock(), force=True)
    assert result.retired_items == ["c1/q2"] and adapter.retired == ["item:q2"]
    assert result.stale_links == {"uni": ["item:q2"]}
    assert rows(setup, published_links, "resource_link_id", "retired") == [
        ("l-q1", False), ("l-q2", True)]
    provider_mock.remove_course("p1", "c1")
    result = catalog.sync(setup, reg, Runtime(setup), Clock(), force=True)
    assert result.retired_courses == ["c1"] and adapter.retired == ["item:q2", "item:q1"]


def test_progress_is_ingested_with_revisions_and_a_watermark(setup, provider_mock):
    reg = registry(ToyAdapter())
    provider = Providers(setup).get("coursera-main")
    provider_mock.set_progress("ann", "c1", item_id="q1", score=0.5, at_ms=1_000_000)
    provider_mock.set_progress("ann", "c1", score=0.4, at_ms=1_000_000)
    first = progress.ingest(setup, reg, Runtime(setup), provider)
    assert (first.read, first.new) == (2, 2)
    provider_mock.set_progress("ann", "c1", item_id="q1", score=0.75, at_ms=2_000_000)
    second = progress.ingest(setup, reg, Runtime(setup), provider)
    assert (second.changed, second.new) == (1, 0)
    assert rows(setup, grades, "item_id", "score", "revision") == [("", 0.4, 1),
                                                                   ("q1", 0.75, 2)]
    queries = [r.query for r in provider_mock.requests if r.path.endswith("enrollmentReports")]
    assert "modifiedSince" not in queries[0] and "modifiedSince=1000000" in queries[1]


def test_a_nightly_run_goes_from_provider_to_gradebook(setup, provider_mock):
    with ToyGradebook() as gb:
        setup.tenants.update(Tenant("uni", "toy", "item", base_url=gb.url))
        t = setup.tenants.get("uni")
        publish(setup, t, "ctx", "l-q1", "p1", "c1", "q1")
        launch(setup, t, "ann", "ctx", "l-q1", "p1", "c1", "q1")
        provider_mock.set_progress("ann", "c1", item_id="q1", score=1.0)
        eng = Engine(setup, registry(ToyAdapter()), now=Clock())
        result = eng.sync(options=SyncOptions(force_catalog=True))
        assert result.delivered_everything and result.tenants[0].sent == 1
        assert [a[2:] for a in gb.applied] == [("sub-ann", 1.0)]
        assert result.tenants[0].licenses_free == 3  # no license taken in this test


def test_a_run_lists_in_the_tenant_report_the_links_to_retired_content_left_on_the_lms(
        setup, provider_mock):
    with ToyGradebook() as gb:
        setup.tenants.update(Tenant("uni", "toy", "item", base_url=gb.url))
        t = setup.tenants.get("uni")
        eng = Engine(setup, registry(RetireRecorder()), now=Clock())
        eng.sync(options=SyncOptions(force_catalog=True))
        publish(setup, t, "ctx", "l-q2", "p1", "c1", "q2")
        provider_mock.remove_item("c1", "q2")
        first = eng.sync(options=SyncOptions(force_catalog=True)).tenants[0]
        assert first.stale_links == ["item:q2"] and first.as_dict()["stale_links"] == ["item:q2"]
        assert eng.sync(options=SyncOptions(force_catalog=True)).tenants[0].stale_links == []
