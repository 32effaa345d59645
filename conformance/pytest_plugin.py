"""pytest plugin running the conformance suite against installed lmsbridge adapters.

    pytest -p lmsbridge.conformance.pytest_plugin --pyargs lmsbridge.conformance \\
        [--lmsbridge-adapter NAME ...] [--junitxml FILE]

Every suite test is parametrized over the selected adapters (all loaded ones by default) and
marked with the capability it checks. Whether it runs follows the adapter's ``AdapterSpec``:
a declared capability runs; a core capability neither declared nor opted out of fails; an
opt-out skips with its reason; an undeclared optional capability skips. An adapter without
a mock platform skips with "no mock platform". A mock whose platform can be reached more
than one way (Canvas: REST with an API token, or LTI Advantage) lists them in
``connect_modes`` (mode -> {capability: why that way cannot offer it}); the suite then runs
once per mode, ``connect(store, name, mode=...)`` connecting the tenant that way. Each JUnit
test case carries ``adapter`` and ``capability`` properties (and ``mode``): the JUnit XML is
the capability matrix. Its test suite carries ``lmsbridge_suite_version``, the
:data:`~lmsbridge.conformance.suite.SUITE_VERSION` the adapters were checked against.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lmsbridge.conformance.matrix import VERSION_PROPERTY
from lmsbridge.conformance.suite import SUITE_VERSION
from lmsbridge.conformance.suite.harness import Connection
from lmsbridge.core.capabilities import CORE, HOOK_OF, Capability
from lmsbridge.core.errors import AdapterError
from lmsbridge.core.plugins import LoadedAdapter, Registry
from lmsbridge.core.runtime import Runtime
from lmsbridge.core.store import Store

MARKER = "lmsbridge_capability"
NO_MOCK = "no mock platform"
_REGISTRY = pytest.StashKey[Registry]()
_SELECTED = pytest.StashKey[list[str]]()
_MODES = pytest.StashKey[dict[str, list[str | None]]]()
#: Seconds an adapter waits for the mock; the slow-answer checks lower it.
DEFAULT_TIMEOUT = 10.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lmsbridge", "lmsbridge conformance")
    group.addoption("--lmsbridge-adapter", action="append", default=[], metavar="NAME",
                    dest="lmsbridge_adapters",
                    help="adapter to check (repeatable; default: every loaded adapter)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(capability): the capability a test checks")
    registry = Registry.load()
    wanted = config.getoption("lmsbridge_adapters") or sorted(registry.adapters)
    unknown = [name for name in wanted if name not in registry.adapters]
    if unknown:
        problems = "; ".join(str(p) for p in registry.problems)
        raise pytest.UsageError(
            f"--lmsbridge-adapter: no adapter named {', '.join(map(repr, unknown))} is loaded "
            f"(loaded: {', '.join(sorted(registry.adapters)) or 'none'})"
            + (f"; plugin problems: {problems}" if problems else ""))
    config.stash[_REGISTRY] = registry
    config.stash[_SELECTED] = wanted
    config.stash[_MODES] = {name: _modes(registry, name) for name in wanted}


def _modes(registry: Registry, name: str) -> list[str | None]:
    """The ways the suite connects a tenant for this adapter: its mock's ``connect_modes``,
    or one unnamed way."""
    try:
        mock = registry.mock_platform(name)
    except AdapterError:
        return [None]
    modes = getattr(mock, "connect_modes", None) if mock is not None else None
    return list(modes) if modes else [None]


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _REGISTRY not in config.stash:
        return []
    registry = config.stash[_REGISTRY]
    lines = [f"lmsbridge conformance suite version {SUITE_VERSION}",
             f"lmsbridge adapters under test: {', '.join(config.stash[_SELECTED])}"]
    lines += [f"lmsbridge plugin problem: {p}" for p in registry.problems]
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "adapter_name" in metafunc.fixturenames:
        modes = metafunc.config.stash[_MODES]
        pairs = [(name, mode) for name in metafunc.config.stash[_SELECTED]
                 for mode in modes[name]]
        metafunc.parametrize(("adapter_name", "connect_mode"), pairs,
                             ids=[name if mode is None else f"{name}-{mode}"
                                  for name, mode in pairs])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Properties are set at collection, so even a test skipped in setup carries them.
    for item in items:
        marker = item.get_closest_marker(MARKER)
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or "adapter_name" not in callspec.params:
            continue
        item.user_properties.append(("adapter", callspec.params["adapter_name"]))
        item.user_properties.append(("capability", Capability(marker.args[0]).value))
        if callspec.params.get("connect_mode") is not None:
            item.user_properties.append(("mode", callspec.params["connect_mode"]))


def capability_gate(adapter: LoadedAdapter, capability: Capability) -> None:
    """Skip or fail the current test by what the adapter declared about ``capability``."""
    spec = adapter.spec
    if capability in spec.capabilities:
        return
    if capability in spec.opt_outs:
        pytest.skip(f"opted out: {spec.opt_outs[capability]}")
    if capability in CORE[spec.kind]:
        pytest.fail(f"missing core capability {capability.value} for {spec.kind.value} "
                    "adapters: declare it, or opt out with a reason", pytrace=False)
    pytest.skip(f"optional for {spec.kind.value} adapters, not declared")


@pytest.fixture(scope="session")
def conformance_registry(pytestconfig: pytest.Config,
                         record_testsuite_property: Callable[[str, object], None]) -> Registry:
    record_testsuite_property(VERSION_PROPERTY, SUITE_VERSION)
    return pytestconfig.stash[_REGISTRY]


@pytest.fixture
def capability(request: pytest.FixtureRequest) -> Capability:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        pytest.fail(f"suite test without @pytest.mark.{MARKER}(...)", pytrace=False)
    return Capability(marker.args[0])


@pytest.fixture
def connect_mode() -> str | None:
    """How ``connect`` connects the tenant (parametrized from the mock's connect_modes)."""
    return None


@pytest.fixture
def adapter(conformance_registry: Registry, adapter_name: str, connect_mode: str | None,
            capability: Capability) -> LoadedAdapter:
    loaded = conformance_registry.adapter(adapter_name)
    capability_gate(loaded, capability)
    return loaded


@pytest.fixture
def platform(conformance_registry: Registry, adapter: LoadedAdapter, connect_mode: str | None,
             capability: Capability) -> Iterator[object]:
    """The adapter's mock platform, started on loopback, stopped after the test."""
    try:
        mock = conformance_registry.mock_platform(adapter.spec.name)
    except AdapterError:
        pytest.skip(NO_MOCK)
    if mock is None:
        pytest.skip(NO_MOCK)
    # Checked once there is a mock to check against: a skeleton without one is reported as
    # "no mock platform" rather than as a failure of every hook it has yet to write.
    lacks = (getattr(mock, "connect_modes", None) or {}).get(connect_mode, {})
    if capability in lacks:
        pytest.skip(f"not over {connect_mode}: {lacks[capability]}")
    hook = HOOK_OF[capability]
    if hook in adapter.missing_hooks:
        pytest.fail(f"declares {capability.value} but does not implement {hook}",
                    pytrace=False)
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(scope="session")
def suite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home: Path = tmp_path_factory.mktemp("lmsbridge-conformance")
    store = Store.open(f"sqlite:///{home / 'conformance.db'}", key_file=home / "secret.key")
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def runtime(suite_store: Store) -> Runtime:
    return Runtime(suite_store, timeout=DEFAULT_TIMEOUT)


@pytest.fixture
def conn(conformance_registry: Registry, adapter: LoadedAdapter, platform: object,
         runtime: Runtime, suite_store: Store, connect_mode: str | None) -> Connection:
    connect = getattr(platform, "connect", None)
    if connect is None:
        pytest.fail(f"the mock platform {type(platform).__name__} lacks 'connect' "
                    "(see docs/adapters.md)", pytrace=False)
    name = f"c-{uuid.uuid4().hex[:10]}"
    target = connect(suite_store, name) if connect_mode is None \
        else connect(suite_store, name, mode=connect_mode)
    if target.kind != adapter.spec.name:
        pytest.fail(f"connect() returned a {target.kind!r} tenant for the "
                    f"{adapter.spec.name!r} adapter", pytrace=False)
    return Connection(conformance_registry, adapter, platform, runtime, target,
                      store=suite_store)
