"""The registry: loading, skipping broken plugins, conflicts, allow-list, dispatch, audit."""

import types

import pytest
from toy import ToyAdapter, source

from lmsbridge.core import AdapterKind, AdapterSpec, hookimpl
from lmsbridge.core.errors import AdapterError, NotFound
from lmsbridge.core.model import Tenant
from lmsbridge.core.plugins import BUILTIN_ADAPTERS, PluginSource, Registry, allow_list


def test_builtins_load_through_entry_points():
    registry = Registry.load()
    assert set(registry.adapters) == set(BUILTIN_ADAPTERS)
    assert {a.distribution for a in registry.adapters.values()} == {"lmsbridge"}
    assert registry.problems == []


def test_allow_list_limits_what_loads(monkeypatch):
    monkeypatch.setenv("LMSBRIDGE_LOAD_PLUGINS", "canvas, oracle")
    assert set(Registry.load().adapters) == {"canvas", "oracle"}
    monkeypatch.setenv("LMSBRIDGE_LOAD_PLUGINS", "")
    assert Registry.load().adapters == {}
    assert allow_list({}) is None


def _broken():
    raise ImportError("No module named 'lmsbridge_zoom.client'")


def test_plugin_that_fails_to_import_is_reported_and_skipped():
    registry = Registry.load(
        [source(ToyAdapter("good")), PluginSource("zoom", "lmsbridge-zoom", "0.3", _broken)]
    )
    assert set(registry.adapters) == {"good"}
    (problem,) = registry.problems
    assert problem.distribution == "lmsbridge-zoom"
    assert "failed to import" in str(problem) and "lmsbridge_zoom.client" in str(problem)


def test_conflicting_name_is_reported_with_both_distributions():
    registry = Registry.load(
        [
            source(ToyAdapter("canvas"), distribution="lmsbridge"),
            source(ToyAdapter("canvas"), distribution="evil-canvas"),
        ]
    )
    assert registry.adapters["canvas"].distribution == "lmsbridge"
    (problem,) = registry.problems
    assert problem.distribution == "evil-canvas"
    assert "already provided by distribution 'lmsbridge'" in problem.reason
    # the loser's hooks are gone: calls reach only the winner
    t = Tenant("uni-a", "canvas")
    assert registry.read_roster(t, None) is not None


def test_misspelt_hook_is_reported_not_ignored():
    plugin = types.SimpleNamespace(
        lmsbridge_adapter=hookimpl(lambda: AdapterSpec("typo", "lms", "Typo", [])),
        lmsbridge_wirte_grades=lambda tenant, context, deliveries: [],  # unmarked, misspelt
    )
    registry = Registry.load([source(plugin, "typo")])
    assert registry.adapters == {}
    assert "unknown hook(s) lmsbridge_wirte_grades" in registry.problems[0].reason
    registry.check_pending()  # nothing pending is left behind by the skipped plugin


def test_hook_with_arguments_not_in_the_spec_is_rejected():
    plugin = types.SimpleNamespace(
        lmsbridge_adapter=hookimpl(lambda: AdapterSpec("bad", "lms", "Bad", [])),
        lmsbridge_read_roster=hookimpl(lambda tenant, context, page_size: []),
    )
    registry = Registry.load([source(plugin, "bad")])
    assert registry.adapters == {} and "page_size" in registry.problems[0].reason


@pytest.mark.parametrize(
    "adapter_hook, reason",
    [
        (None, "does not implement lmsbridge_adapter()"),
        (lambda: {"name": "x"}, "returned dict, not AdapterSpec"),
        (lambda: AdapterSpec("Bad Name", "lms", "X", []), "lmsbridge_adapter() failed"),
    ],
)
def test_bad_registration_is_reported(adapter_hook, reason):
    plugin = types.SimpleNamespace()
    if adapter_hook:
        plugin.lmsbridge_adapter = hookimpl(adapter_hook)
    registry = Registry.load([source(plugin, "x")])
    assert registry.adapters == {} and reason in registry.problems[0].reason


def test_calls_go_only_to_the_owning_adapter():
    canvas, moodle = ToyAdapter("canvas"), ToyAdapter("moodle")
    registry = Registry.load([source(canvas), source(moodle)])
    registry.read_roster(Tenant("uni-a", "canvas"), None)
    registry.read_roster(Tenant("uni-b", "moodle"), None)
    assert canvas.calls == [("read_roster", "uni-a")]
    assert moodle.calls == [("read_roster", "uni-b")]


def test_declared_but_unimplemented_capability_is_listed_and_fails_clearly():
    registry = Registry.load()
    d2l = registry.adapters["d2l"]  # a skeleton: declares capabilities, implements none yet
    assert "lmsbridge_write_grades" in d2l.missing_hooks
    with pytest.raises(AdapterError, match="'d2l' does not implement lmsbridge_read_roster"):
        registry.read_roster(Tenant("uni-a", "d2l"), None)


def test_unknown_adapter_names_what_is_loaded():
    registry = Registry.load([source(ToyAdapter("canvas"))])
    with pytest.raises(NotFound, match=r"no adapter named 'schoology'.*loaded: canvas"):
        registry.read_roster(Tenant("uni-a", "schoology"), None)


def test_every_call_is_audited_with_outcome():
    class Failing(ToyAdapter):
        @hookimpl
        def lmsbridge_read_roster(self, tenant, context):
            raise RuntimeError("platform said 503")

    registry = Registry.load([source(ToyAdapter("canvas")), source(Failing("d2l"))])
    records = []
    registry.audit.sinks.append(records.append)
    registry.read_roster(Tenant("uni-a", "canvas"), None)
    with pytest.raises(RuntimeError):
        registry.read_roster(Tenant("uni-b", "d2l"), None)
    ok, failed = records
    assert (ok.owner, ok.adapter, ok.hook, ok.outcome) == (
        "uni-a",
        "canvas",
        "lmsbridge_read_roster",
        "ok",
    )
    assert (failed.owner, failed.outcome, failed.error) == (
        "uni-b",
        "error",
        "RuntimeError: platform said 503",
    )
    assert ok.duration_ms >= 0


def test_adapter_kind_is_data():
    registry = Registry.load([source(ToyAdapter("oracle", AdapterKind.LEARNING))])
    assert registry.adapters["oracle"].spec.kind is AdapterKind.LEARNING
