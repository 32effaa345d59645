"""Every hook is tested here and documented in docs/hooks.md with its exact signature."""

import inspect
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from toy import ToyAdapter, source

from lmsbridge.core import hookimpl, hookspecs
from lmsbridge.core.audit import PROVIDER_HOOKS, TENANT_HOOKS, Audit
from lmsbridge.core.capabilities import HOOK_OF
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


class Toy(ToyAdapter):
    """The toy adapter with a connection check: fine for uni-a only."""

    @hookimpl
    def lmsbridge_check_connection(self, tenant):
        self.calls.append(("check_connection", tenant.name))
        return [] if tenant.name == "uni-a" else [f"{tenant.name}: api_token invalid or expired"]


@pytest.fixture
def toys():
    canvas, coursera = Toy("canvas"), Toy("coursera")
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


def _params(function) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p != "self"]


OWNED = set(TENANT_HOOKS) | set(PROVIDER_HOOKS)


def test_every_hook_that_takes_an_owner_is_audited():
    owners = {("tenant", "Tenant"), ("provider", "Provider")}
    owned = {h for h in HOOKS
             if owners & {(p.name, p.annotation)
                          for p in inspect.signature(getattr(hookspecs, h)).parameters.values()}}
    assert owned == OWNED and len(owned) == len(TENANT_HOOKS) + len(PROVIDER_HOOKS)
    assert not set(TENANT_HOOKS) & set(PROVIDER_HOOKS)
    registry = Registry.load([])
    assert {c.name for c in registry.pm.get_hookcallers(registry.audit)} == owned
    wrapped = [getattr(Audit, n).lmsbridge_impl["specname"] for n in dir(Audit)
               if hasattr(getattr(Audit, n), "lmsbridge_impl")]
    assert sorted(wrapped) == sorted(owned), "one audit wrapper per hook with an owner"


def test_each_capability_is_served_by_one_hook_with_an_owner():
    """HOOK_OF names exactly the hooks that take a tenant or provider, one capability each;
    hooks without an owner (registration, mocks, setup text, commands) serve none."""
    assert sorted(HOOK_OF.values()) == sorted(OWNED)


def test_the_registry_facade_has_one_method_per_hook():
    """Registry's typed methods are written out by hand; they match hookspecs.py."""
    named = set(re.findall(r"[\"'](lmsbridge_[a-z_]+)[\"']", inspect.getsource(Registry)))
    assert named <= set(HOOKS), "the facade calls a hook hookspecs.py lacks"
    facade = {h: getattr(Registry, h.removeprefix("lmsbridge_"), None) for h in HOOKS
              if h != "lmsbridge_adapter"}  # read by Registry.add when a plugin loads
    assert [h for h, method in facade.items() if method is None] == []
    for hook, method in facade.items():
        spec = _params(getattr(hookspecs, hook))
        if hook in OWNED:
            assert _params(method) == spec, hook
        else:  # may add which adapter to ask
            assert set(spec) <= set(_params(method)), hook


def test_each_facade_method_with_an_owner_calls_its_hook_with_every_argument(monkeypatch):
    registry = Registry.load([])
    calls = []
    monkeypatch.setattr(registry, "_call",
                        lambda adapter, hook, **kwargs: calls.append((adapter, hook, kwargs)))
    for hook in sorted(OWNED):
        owners = {"tenant": TENANT, "provider": PROVIDER}
        args = {p: owners.get(p, object()) for p in _params(getattr(hookspecs, hook))}
        getattr(registry, hook.removeprefix("lmsbridge_"))(**args)
        owner = TENANT if "tenant" in args else PROVIDER
        assert calls.pop() == (owner.kind, hook, args)


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


def test_hook_check_connection(toys):
    registry, canvas, _, records = toys
    assert list(registry.check_connection(TENANT)) == []
    problems = registry.check_connection(Tenant("uni-b", "canvas"))
    assert problems == ["uni-b: api_token invalid or expired"]
    assert canvas.calls[-1] == ("check_connection", "uni-b")
    assert (records[-1].hook, records[-1].owner, records[-1].detail) == (
        "lmsbridge_check_connection", "uni-b", {"problems": 1})
    plain = Registry.load([source(ToyAdapter("d2l"))])
    with pytest.raises(Exception, match="does not implement lmsbridge_check_connection"):
        plain.check_connection(Tenant("uni-a", "d2l"))


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


def test_hook_platform_setup(toys):
    from lmsbridge.core.lti.setup import ToolConfig, tool_urls

    _, canvas, coursera, _ = toys

    class WithSetup(ToyAdapter):
        @hookimpl
        def lmsbridge_platform_setup(self, urls, tenant):
            return ToolConfig(self.name, "Admin > Tools", (("Login URL", urls.login),),
                              (f"named after {tenant}",))

    registry = Registry.load([source(WithSetup("moodle")), source(canvas), source(coursera)])
    assert registry.setup_adapters() == ["moodle"]
    urls = tool_urls("https://tool.example")
    cfg = registry.platform_setup("moodle", urls, "uni-a")
    assert cfg.fields == (("Login URL", urls.login),) and cfg.notes == ("named after uni-a",)
    with pytest.raises(Exception, match="does not implement lmsbridge_platform_setup"):
        registry.platform_setup("canvas", urls)


def test_hook_register_commands(toys):
    import click

    _, canvas, _, _ = toys

    class WithCommands(ToyAdapter):
        @hookimpl
        def lmsbridge_register_commands(self, cli):
            @cli.command(name=self.name)
            def hello():
                click.echo(f"hello from {self.name}")

    registry = Registry.load([source(WithCommands("d2l")), source(canvas)])
    group = click.Group()
    registry.register_commands(group)
    assert sorted(group.commands) == ["d2l"]


def test_adapters_state_is_their_own_per_tenant(tmp_path):
    from lmsbridge.core.runtime import Runtime
    from lmsbridge.core.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'db'}", key_file=tmp_path / "key")
    store.upgrade()
    store.tenants.add(TENANT)
    store.tenants.add(Tenant("uni-b", "canvas"))
    seen = {}

    class Stateful(ToyAdapter):
        @hookimpl
        def lmsbridge_read_roster(self, tenant, context, runtime):
            state = runtime.state(tenant)
            seen[self.name] = state.get("n", 0)
            state.put("n", seen[self.name] + 1)
            return []

    registry = Registry.load([source(Stateful("canvas")), source(Stateful("d2l"))])
    runtime = Runtime(store)
    registry.read_roster(TENANT, CONTEXT, runtime)
    registry.read_roster(TENANT, CONTEXT, runtime)
    assert seen == {"canvas": 1}
    registry.read_roster(Tenant("uni-a", "d2l"), CONTEXT, runtime)  # another adapter
    registry.read_roster(Tenant("uni-b", "canvas"), CONTEXT, runtime)  # another tenant
    assert seen == {"canvas": 0, "d2l": 0}
    ledger = runtime.for_adapter("canvas").state("uni-a")
    assert list(ledger.items()) == [("n", 2)] and ledger.delete("n") and ledger.get("n") is None
    with pytest.raises(RuntimeError, match="bound to no adapter"):
        runtime.state(TENANT)
    store.dispose()
