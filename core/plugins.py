"""The plugin registry: loads adapters, reports broken ones, dispatches hook calls.

Adapters come from the ``lmsbridge.adapters`` entry-point group — the built-in ones too, so
they load exactly like a third-party package. ``LMSBRIDGE_LOAD_PLUGINS`` (comma-separated
adapter names) limits what loads; set empty, nothing loads. A plugin that fails to import,
implements an unknown hook or claims a name another distribution already has is reported by
distribution name and skipped: one broken package never stops the runner.

Core code talks to adapters through :class:`Registry`'s typed methods only, never through
``pm.hook``; each call goes to the one adapter owning the tenant.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy
from attrs import field, frozen

from lmsbridge.core import hookspecs
from lmsbridge.core.audit import Audit
from lmsbridge.core.capabilities import HOOK_OF, AdapterSpec
from lmsbridge.core.errors import AdapterError, NotFound
from lmsbridge.core.hookspecs import NAME, MockPlatform
from lmsbridge.core.model import (
    Context,
    Delivery,
    DeliveryResult,
    GradebookColumn,
    Program,
    Progress,
    Provider,
    Publication,
    RosterMember,
    Tenant,
)

if TYPE_CHECKING:
    from lmsbridge.core.lti.setup import ToolConfig
    from lmsbridge.core.lti.tool_urls import ToolUrls
    from lmsbridge.core.runtime import Runtime

GROUP = "lmsbridge.adapters"
ALLOW_ENV = "LMSBRIDGE_LOAD_PLUGINS"
BUILTIN_DISTRIBUTION = "lmsbridge"
BUILTIN_ADAPTERS = ("moodle", "canvas", "blackboard", "d2l", "oracle", "coursera", "lti")

hookimpl = pluggy.HookimplMarker(NAME)


@frozen
class PluginSource:
    """Where a plugin comes from: an entry point, or anything tests construct."""

    name: str
    distribution: str
    version: str
    load: Callable[[], object] = field(eq=False, repr=False)


@frozen
class LoadedAdapter:
    spec: AdapterSpec
    plugin: object = field(eq=False, repr=False)
    distribution: str
    version: str
    # Hooks of declared capabilities that the plugin does not implement (yet).
    missing_hooks: tuple[str, ...] = ()


@frozen
class PluginProblem:
    distribution: str
    plugin: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} from distribution {self.distribution!r} skipped: " \
               f"{self.reason}"


class _Manager(pluggy.PluginManager):
    """Treats an unmarked ``lmsbridge_*`` function as an implementation too, so a misspelt
    hook name is caught as unknown instead of being silently ignored."""

    def parse_hookimpl_opts(self, plugin: object, name: str):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(f"{NAME}_"):
            attr = getattr(plugin, name, None)
            if inspect.isroutine(attr):
                return {}
        return opts


def entry_point_sources(group: str = GROUP) -> list[PluginSource]:
    """Installed plugins, built-ins first so they win a name conflict, then by distribution."""
    sources = []
    for ep in metadata.entry_points(group=group):
        dist = ep.dist.name if ep.dist else "unknown"
        version = ep.dist.version if ep.dist else "unknown"
        sources.append(PluginSource(ep.name, dist, version, ep.load))
    return sorted(sources, key=lambda s: (s.distribution != BUILTIN_DISTRIBUTION,
                                          s.distribution, s.name))


def allow_list(environ: dict[str, str] | None = None) -> set[str] | None:
    raw = (os.environ if environ is None else environ).get(ALLOW_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


class Registry:
    """The loaded adapters, the problems met loading them, and typed dispatch."""

    def __init__(self) -> None:
        self.pm = _Manager(NAME)
        self.pm.add_hookspecs(hookspecs)
        self.audit = Audit()
        self.pm.register(self.audit, name="lmsbridge.core.audit")
        self.adapters: dict[str, LoadedAdapter] = {}
        self.problems: list[PluginProblem] = []
        self._callers: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls, sources: Iterable[PluginSource] | None = None,
             allow: set[str] | None = None) -> Registry:
        """Load ``sources``, by default the installed entry points filtered by the allow-list
        in ``LMSBRIDGE_LOAD_PLUGINS``."""
        registry = cls()
        if sources is None:
            sources = entry_point_sources()
            allow = allow_list() if allow is None else allow
        for source in sources:
            if allow is None or source.name in allow:
                registry.add(source)
        registry.check_pending()
        return registry

    def add(self, source: PluginSource) -> LoadedAdapter | None:
        """Load and register one plugin; on any problem record it and return None."""
        try:
            plugin = source.load()
        except Exception as exc:  # a third party's import error must not stop us
            return self._problem(source, f"failed to import: {type(exc).__name__}: {exc}")
        try:
            self.pm.register(plugin, name=f"{source.distribution}:{source.name}")
        except (pluggy.PluginValidationError, ValueError) as exc:
            return self._problem(source, f"invalid hook implementation: {exc}")

        unknown = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()
                         if not c.has_spec())
        if unknown:
            self.pm.unregister(plugin)
            return self._problem(source, f"implements unknown hook(s) {', '.join(unknown)}")

        spec = self._spec_of(plugin, source)
        if spec is None:  # the problem is recorded
            self.pm.unregister(plugin)
            return None
        if spec.name in self.adapters:
            self.pm.unregister(plugin)
            owner = self.adapters[spec.name].distribution
            return self._problem(source, f"adapter name {spec.name!r} is already provided by "
                                         f"distribution {owner!r}")

        implemented = {c.name for c in self.pm.get_hookcallers(plugin) or ()}
        missing = tuple(sorted(HOOK_OF[c] for c in spec.capabilities
                               if HOOK_OF[c] not in implemented))
        loaded = LoadedAdapter(spec, plugin, source.distribution, source.version, missing)
        self.adapters[spec.name] = loaded
        self._callers.clear()
        return loaded

    def _spec_of(self, plugin: object, source: PluginSource) -> AdapterSpec | None:
        impls = [i for i in self.pm.hook.lmsbridge_adapter.get_hookimpls() if i.plugin is plugin]
        if not impls:
            return self._problem(source, "does not implement lmsbridge_adapter()")
        try:
            spec = impls[0].function()
        except Exception as exc:
            return self._problem(source, f"lmsbridge_adapter() failed: "
                                         f"{type(exc).__name__}: {exc}")
        if not isinstance(spec, AdapterSpec):
            return self._problem(source, f"lmsbridge_adapter() returned {type(spec).__name__},"
                                         " not AdapterSpec")
        return spec

    def _problem(self, source: PluginSource, reason: str) -> None:
        self.problems.append(PluginProblem(source.distribution, source.name, reason))
        return None

    def check_pending(self) -> None:
        """Fail loudly if any registered plugin implements a hook that has no spec."""
        self.pm.check_pending()

    def adapter(self, name: str) -> LoadedAdapter:
        try:
            return self.adapters[name]
        except KeyError:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise NotFound(f"no adapter named {name!r} is loaded (loaded: {known})") from None

    # --- dispatch ---------------------------------------------------------------------

    def _call(self, adapter: str, hook: str, **kwargs: Any) -> Any:
        loaded = self.adapter(adapter)
        key = (adapter, hook)
        caller = self._callers.get(key)
        if caller is None:
            if hook not in {c.name for c in self.pm.get_hookcallers(loaded.plugin) or ()}:
                raise AdapterError(f"adapter {adapter!r} does not implement {hook}")
            others = [a.plugin for name, a in self.adapters.items() if name != adapter]
            caller = self._callers[key] = self.pm.subset_hook_caller(hook, others)
        runtime = kwargs.get("runtime")
        bind = getattr(runtime, "for_adapter", None)
        if callable(bind):  # the adapter's state is its own: bind the runtime to it
            kwargs["runtime"] = bind(adapter)
        return caller(**kwargs)

    def ensure_columns(self, tenant: Tenant, context: Context,
                       columns: Sequence[GradebookColumn],
                       runtime: Runtime | None = None) -> list[GradebookColumn]:
        return self._call(tenant.kind, "lmsbridge_ensure_columns", tenant=tenant,
                          context=context, columns=columns, runtime=runtime)

    def write_grades(self, tenant: Tenant, context: Context | None,
                     deliveries: Sequence[Delivery],
                     runtime: Runtime | None = None) -> list[DeliveryResult]:
        return self._call(tenant.kind, "lmsbridge_write_grades", tenant=tenant,
                          context=context, deliveries=deliveries, runtime=runtime)

    def read_roster(self, tenant: Tenant, context: Context,
                    runtime: Runtime | None = None) -> Iterable[RosterMember]:
        return self._call(tenant.kind, "lmsbridge_read_roster", tenant=tenant, context=context,
                          runtime=runtime)

    def publish_content(self, tenant: Tenant, context: Context | None,
                        publications: Sequence[Publication],
                        runtime: Runtime | None = None) -> list[Publication]:
        return self._call(tenant.kind, "lmsbridge_publish_content", tenant=tenant,
                          context=context, publications=publications, runtime=runtime)

    def retire_content(self, tenant: Tenant, context: Context | None,
                       publications: Sequence[Publication],
                       runtime: Runtime | None = None) -> list[Publication]:
        return self._call(tenant.kind, "lmsbridge_retire_content", tenant=tenant,
                          context=context, publications=publications, runtime=runtime)

    def read_catalog(self, provider: Provider, program_ids: Sequence[str],
                     runtime: Runtime | None = None) -> Iterable[Program]:
        return self._call(provider.kind, "lmsbridge_read_catalog", provider=provider,
                          program_ids=program_ids, runtime=runtime)

    def read_progress(self, provider: Provider, since: datetime | None,
                      runtime: Runtime | None = None) -> Iterable[Progress]:
        return self._call(provider.kind, "lmsbridge_read_progress", provider=provider,
                          since=since, runtime=runtime)

    def check_connection(self, tenant: Tenant,
                         runtime: Runtime | None = None) -> Sequence[str]:
        """The problems with the tenant's connection to its platform, one line each."""
        return self._call(tenant.kind, "lmsbridge_check_connection", tenant=tenant,
                          runtime=runtime)

    def mock_platform(self, adapter: str) -> MockPlatform:
        return self._call(adapter, "lmsbridge_mock_platform")

    def platform_setup(self, adapter: str, urls: ToolUrls,
                       tenant: str | None = None) -> ToolConfig:
        """What an admin of ``adapter``'s platform pastes to register the tool."""
        return self._call(adapter, "lmsbridge_platform_setup", urls=urls, tenant=tenant)

    def setup_adapters(self) -> list[str]:
        """The adapters that give setup instructions, by name."""
        return sorted(name for name, loaded in self.adapters.items()
                      if "lmsbridge_platform_setup" in
                      {c.name for c in self.pm.get_hookcallers(loaded.plugin) or ()})

    def register_commands(self, cli: Any) -> None:
        """Let every loaded adapter add its commands to ``cli`` (a click group)."""
        self.pm.hook.lmsbridge_register_commands(cli=cli)
