"""Every hook is tested here and documented in docs/hooks.md with its exact signature."""

import inspect
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from toy import ToyAdapter, source

from lmsbridge.core import hookimpl, hookspecs
from lmsbridge.core.audit import PROVIDER_HOOKS, TENANT_HOOKS
from lmsbridge.core.model import (
    Context,
    Course,
    Delivery,
    GradebookColumn,
    Item,
    Outcome,
    Program,
    Provider,
    Publication,
    Tenant,
)
from lmsbridge.core.plugins import Registry

HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("lmsbridge_"))
DOCS = Path(__file__).parents[1] / "docs" / "hooks.md"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
TENANT = Tenant("uni-a", "canvas", "item")
CONTEXT = Context("uni-a", "course-1")
PROVIDER = Provider("acme", "coursera")


@pytest.fixture
def toys():
    canvas, coursera = ToyAdapter("canvas"), ToyAdapter("coursera")
    registry = Registry.load([source(canvas), source(coursera)])
    records = []
    registry.audit.sinks.append(records.append)
    return registry, canvas, coursera, records


def test_every_hook_has_a_test():
    tested = {n.removeprefix("test_hook_") for n in globals() if n.startswith("test_hook_")}
    assert {h.removeprefix("lmsbridge_") for h in HOOKS} <= tested


def test_every_hook_is_documented_with_its_signature():
    docs = DOCS.read_text()
    for hook in HOOKS:
        signature = str(inspect.signature(getattr(hookspecs, hook))).replace("'", "")
        assert f"{hook}{signature}" in docs, f"docs/hooks.md lacks `{hook}{signature}`"


def test_every_hook_that_takes_an_owner_is_audited():
    owned = {
        h
        for h in HOOKS
        if {"tenant", "provider"} & set(inspect.signature(getattr(hookspecs, h)).parameters)
    }
    assert owned == set(TENANT_HOOKS) | set(PROVIDER_HOOKS)
    registry = Registry.load([])
    assert {c.name for c in registry.pm.get_hookcallers(registry.audit)} == owned


def test_docs_mention_no_hook_that_does_not_exist():
    assert set(re.findall(r"\blmsbridge_[a-z_]+(?=\()", DOCS.read_text())) <= set(HOOKS)


def test_hook_adapter(toys):
    registry, canvas, *_ = toys
    assert registry.adapters["canvas"].spec.title == "Toy canvas"
    assert registry.adapters["canvas"].missing_hooks == ()


def test_hook_mock_platform(toys):
    registry, canvas, *_ = toys
    assert registry.mock_platform("canvas") == "mock of canvas"


def test_hook_ensure_columns(toys):
    registry, canvas, _, records = toys
    cols = [GradebookColumn("uni-a", "course-1", "item:i1", "Quiz 1")]
    (col,) = registry.ensure_columns(TENANT, CONTEXT, cols)
    assert col.platform_ref == "canvas-item:i1"
    assert records[-1].hook == "lmsbridge_ensure_columns"


def test_hook_write_grades(toys):
    registry, canvas, _, records = toys
    d = Delivery("uni-a", "course-1", "item:i1", "l1", "u1", 0.8, 1.0, NOW)
    (result,) = registry.write_grades(TENANT, CONTEXT, [d])
    assert (result.dedupe_key, result.outcome) == (d.dedupe_key, Outcome.DELIVERED)
    assert canvas.calls == [("write_grades", "uni-a", 1)]


def test_hook_read_roster(toys):
    registry, *_ = toys
    (member,) = list(registry.read_roster(TENANT, CONTEXT))
    assert (member.user_id, member.email) == ("u1", "a@uni.test")


PROGRAM = Program("p1", "Data Science")
COURSE = Course("c1", "p1", "Python 101", url="https://provider.test/learn/python-101")


def test_hook_publish_content(toys):
    registry, *_ = toys
    pub = Publication("uni-a", PROGRAM, COURSE, Item("i1", "c1", "Quiz 1"), "course-1")
    assert registry.publish_content(TENANT, CONTEXT, [pub])[0].platform_ref == "ref-item:i1"


def test_hook_retire_content(toys):
    registry, *_ = toys
    pub = Publication("uni-a", PROGRAM, COURSE)
    assert pub.key == "course:c1"
    assert registry.retire_content(TENANT, None, [pub])[0].retired


def test_hook_read_catalog(toys):
    registry, _, coursera, records = toys
    (program,) = registry.read_catalog(PROVIDER, ["p1"])
    assert program.courses[0].items[0].name == "Quiz"
    assert coursera.calls == [("read_catalog", "acme", ("p1",))]
    assert (records[-1].owner, records[-1].adapter) == ("acme", "coursera")


def test_hook_read_progress(toys):
    registry, _, coursera, _ = toys
    (progress,) = registry.read_progress(PROVIDER, NOW)
    assert progress.score == 0.5 and coursera.calls[-1] == ("read_progress", "acme", NOW)


def test_hooks_get_the_runtime_only_when_they_ask_for_it(toys):
    registry, canvas, *_ = toys
    seen = []

    class WithRuntime(ToyAdapter):
        @hookimpl
        def lmsbridge_read_roster(self, tenant, context, runtime):
            seen.append(runtime)
            return []

    registry = Registry.load([source(WithRuntime("d2l")), source(canvas)])
    marker = object()
    registry.read_roster(Tenant("uni-b", "d2l"), CONTEXT, runtime=marker)
    registry.read_roster(TENANT, CONTEXT, runtime=marker)  # ToyAdapter's impl has no runtime
    assert seen == [marker]
