"""`lmsbridge demo` end to end: real launches through the mocks, two syncs, and the platforms'
own state saying the second sync sent exactly the grades that changed upstream — and, to the
Oracle pod, exactly the new completions and no content write."""

import json

import pytest
from sqlalchemy import func, select

from lmsbridge.core.cli import main
from lmsbridge.core.demo import oracle as demo_oracle
from lmsbridge.core.demo.script import CHANGES
from lmsbridge.core.demo.world import CATALOG, institutions
from lmsbridge.core.engine.learning import CONTEXT
from lmsbridge.core.store import Store
from lmsbridge.core.store.schema import (
    deliveries,
    gradebook_columns,
    launches,
    published_links,
    tenants,
)

pytestmark = pytest.mark.slow


def test_demo_sends_only_the_changed_grades_on_the_second_sync(tmp_path, capsys):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)

    # Per the platforms' /_mock/state: every grade sent once by the first sync (no refused
    # or repeated POSTs), then exactly the changed cells, and no column made twice.
    first, second = out["first"], out["second"]
    assert out["changed"] == {"northfield": len(CHANGES), "lakeside": len(CHANGES),
                              "harbor": 2}
    for tenant, changed in out["changed"].items():
        assert second[tenant]["scores"] - first[tenant]["scores"] == changed
        assert second[tenant]["score_requests"] - first[tenant]["score_requests"] == changed
        assert first[tenant]["score_requests"] == first[tenant]["scores"] > 0
        assert second[tenant]["columns"] == first[tenant]["columns"]
    # item: the 2 published item links; course: the course's 3 gradable items; final: 1.
    assert {t: f["columns"] for t, f in first.items()} == {"northfield": 2, "lakeside": 3,
                                                           "harbor": 1}
    assert out["delivered_everything"] and out["only_changes_sent"]

    # Per the Oracle pod's /_mock/state. Sync #1: the program's courses created as content,
    # a start for every learner in every course (they all have progress in both), and a
    # completion of the one-lab course for all but the last learner of each institution.
    learners = sum(len(i.learners) for i in institutions())  # 10
    starts, completions = learners * len(CATALOG), learners - len(institutions())  # 20, 7
    first_pod = out["oracle_first"]
    assert (first_pod["content_created"], first_pod["content_updated"],
            first_pod["content_unchanged"], first_pod["content_writes"]) == (len(CATALOG), 0,
                                                                           0, len(CATALOG))
    assert (first_pod["starts"], first_pod["completions"]) == (starts, completions)
    assert first_pod["statements"] == starts + completions
    assert first_pod["statement_requests"] > 0
    # Sync #2: one learner per institution finished the longer course; the pod stores
    # exactly those completions (their starts it already held), and the content is untouched.
    assert out["completed"] == len(institutions())
    second_pod = out["oracle_second"]
    assert second_pod["statements"] == second_pod["completions"] == out["completed"]
    assert second_pod["starts"] == 0
    assert (second_pod["content_created"], second_pod["content_updated"],
            second_pod["content_unchanged"], second_pod["content_writes"]) == (0, 0,
                                                                             len(CATALOG), 0)

    # The tool, not the demo, wrote what the launches left behind: deep-linked links bound
    # to the platforms' resource link ids at their first launch.
    store = Store.open(f"sqlite:///{folder / 'lmsbridge.db'}", folder / "lmsbridge.key")
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(launches)).scalar() \
            == out["launches"] == 10
        ids = conn.execute(select(published_links.c.resource_link_id)
                           .where(published_links.c.context_id != CONTEXT)).scalars().all()
        assert len(ids) == out["deep_links"] and not any(i.startswith("dl:") for i in ids)
        assert conn.execute(select(func.count()).select_from(gradebook_columns)).scalar() == 6
        # The pod's answers are kept as the learning tenant's links: one per course.
        pod_tenant = select(tenants.c.id).where(tenants.c.name == demo_oracle.TENANT)
        assert sorted(conn.execute(select(published_links.c.resource_link_id).where(
            published_links.c.tenant_id.in_(pod_tenant))).scalars()) == \
            sorted(f"course:{c}" for c in CATALOG)
        assert set(conn.execute(select(deliveries.c.status).where(
            deliveries.c.tenant_id.in_(pod_tenant))).scalars()) == {"delivered"}
    store.dispose()


def test_demo_refuses_a_folder_that_already_holds_a_demo(tmp_path, capsys):
    (tmp_path / "lmsbridge.db").write_text("")
    assert main(["demo", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "already holds a demo database" in err and "--dir" in err
