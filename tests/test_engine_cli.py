"""The engine's commands as an admin meets them: provider, catalog sync, sync, tenant set."""

import io
import json
import sys

import pytest
from engine_fixtures import add_catalog, publish
from sqlalchemy import select

from lmsbridge.adapters.coursera.mock import MockCoursera
from lmsbridge.core.cli import main
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import deliveries, published_links


@pytest.fixture
def run(capsys, empty_db_url, monkeypatch):
    def run(*args: str, stdin: str | None = None):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        code = main(["--db", empty_db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("db", "upgrade")[0] == 0
    return run


@pytest.fixture
def provider_mock():
    with MockCoursera(org_id="org-1", client_id="cid", client_secret="s3cret") as mock:
        mock.add_program("p1", "Data Science", seats=5)
        mock.add_course("p1", "c1", "Python")
        mock.add_item("c1", "q1", "Quiz")
        yield mock


def test_provider_add_and_list_never_show_the_secret(run, provider_mock):
    code, out, _ = run("provider", "add", "main", "--base-url", provider_mock.url,
                       "--org-id", "org-1", "--client-id", "cid", stdin="s3cret\n")
    assert code == 0 and "added provider main" in out
    code, out, _ = run("provider", "list", "--json")
    assert json.loads(out)[0]["org_id"] == "org-1" and "s3cret" not in out
    code, _, err = run("provider", "add", "main", "--org-id", "o", "--client-id", "c",
                       stdin="x")
    assert code == 1 and err.strip() == "error: provider 'main' already exists"
    code, _, err = run("provider", "add", "other", "--org-id", "o", "--client-id", "c")
    assert code == 1 and "empty" in err and err.count("\n") == 1


def test_catalog_sync_then_sync_json_reports_every_tenant(run, provider_mock):
    run("provider", "add", "main", "--base-url", provider_mock.url, "--org-id", "org-1",
        "--client-id", "cid", stdin="s3cret")
    run("tenant", "add", "uni", "--kind", "canvas", "--grade-sync", "item")
    run("program", "activate", "--tenant", "uni", "p1")
    code, out, _ = run("catalog", "sync")
    assert code == 0 and "courses added: c1" in out
    code, out, _ = run("catalog", "sync")
    assert "less than 24 hours" in out
    code, out, _ = run("sync", "--json")
    report = json.loads(out)
    assert code == 0 and report["delivered_everything"] is True
    assert report["tenants"][0]["tenant"] == "uni" and report["tenants"][0]["licenses_free"] == 5


def test_sync_exit_code_says_something_was_not_delivered(run, empty_db_url, tmp_path):
    run("tenant", "add", "uni", "--kind", "canvas")
    store = Store.open(empty_db_url, tmp_path / "k")
    with store.engine.begin() as conn:
        conn.execute(deliveries.insert().values(
            tenant_id=1, dedupe_key="k1", context_id="ctx", column_key="item:q",
            learner_id="ann", lms_user_id="sub-ann", score=1, max_score=1, grade_revision=1,
            timestamp=__import__("datetime").datetime(2026, 1, 1, tzinfo=__import__(
                "datetime").UTC)))
    store.dispose()
    code, out, err = run("sync")
    assert code == 3 and "not every grade was delivered" in err
    assert "uni" in out and "> 72 h!" in out
    code, out, _ = run("sync", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["tenants"][0]["pending"] == 1


def test_tenant_set_grade_sync_asks_marks_links_and_says_what_to_do(run, empty_db_url,
                                                                       tmp_path):
    run("tenant", "add", "uni", "--kind", "canvas", "--grade-sync", "item")
    store = Store.open(empty_db_url, tmp_path / "k")
    add_catalog(store, "p1", "c1", ["q1"])
    publish(store, store.tenants.get("uni"), "ctx", "l1", "p1", "c1", "q1")
    code, out, err = run("tenant", "set", "uni", "--grade-sync", "course", stdin="n\n")
    assert code == 130 and store.tenants.get("uni").grade_sync == "item"
    code, out, _ = run("tenant", "set", "uni", "--grade-sync", "course", stdin="y\n")
    assert code == 0 and store.tenants.get("uni").grade_sync == "course"
    assert "1 link(s) marked" in out and "reconfigure" in out and "SSO again" in out
    with store.engine.connect() as conn:
        assert conn.execute(select(published_links.c.needs_republish)).scalar() is True
    code, _, err = run("tenant", "set", "uni")
    assert code == 1 and "at least one setting" in err
    code, out, _ = run("tenant", "set", "uni", "--full-sync")
    assert code == 0 and store.tenants.get("uni").incremental is False
    store.dispose()
