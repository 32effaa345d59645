"""The wheel holds every subpackage, and installed plugins are discovered like built-ins.

Builds real wheels and installs them into a throwaway venv (deps come from the test venv
through a .pth file, so nothing is downloaded).
"""

from __future__ import annotations

import configparser
import json
import zipfile
from pathlib import Path

import pytest
from wheel_venv import build_wheel, make_venv
from wheel_venv import run as _run

from lmsbridge.core.store.database import head_revision

ROOT = Path(__file__).parents[1]
PACKAGES = Path(__file__).parent / "packages"
FOLDERS = {"core": "lmsbridge/core", "adapters": "lmsbridge/adapters",
           "conformance": "lmsbridge/conformance"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheels(tmp_path_factory, lmsbridge_wheel) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = {"lmsbridge": lmsbridge_wheel}
    for pkg in sorted(PACKAGES.iterdir()):
        built[pkg.name] = build_wheel(pkg, out, pkg.name.replace("-", "_"))
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheels) -> Path:
    """A fresh venv with the wheels installed and our dependencies visible."""
    return make_venv(tmp_path_factory.mktemp("venv") / "v", list(wheels.values()))


def _source_packages() -> set[str]:
    found = set()
    for folder, target in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join(filter(None, (target.replace("/", "."), *rel.parts))))
    return found


def test_setup_cfg_lists_every_subpackage():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    assert _source_packages() - listed == set(), "add these to setup.cfg [options] packages"
    assert listed - _source_packages() == set(), "setup.cfg lists packages that do not exist"


def test_wheel_contains_every_subpackage_and_migration(wheels):
    names = set(zipfile.ZipFile(wheels["lmsbridge"]).namelist())
    for package in _source_packages():
        assert f"{package.replace('.', '/')}/__init__.py" in names, f"{package} not in wheel"
    migrations = ROOT / "core" / "store" / "migrations"
    for f in [*migrations.glob("versions/*.py"), migrations / "env.py",
              migrations / "script.py.mako"]:
        assert f"lmsbridge/core/store/migrations/{f.relative_to(migrations)}" in names
    assert not any(n.startswith(("core/", "adapters/", "tests/")) for n in names)


def test_installed_wheel_imports_every_adapter_and_migrates(venv, tmp_path):
    code = ("import lmsbridge.core.cli, lmsbridge.conformance\n"
            "for a in ('moodle', 'canvas', 'blackboard', 'd2l', 'oracle', 'coursera', 'lti'):\n"
            "    m = __import__(f'lmsbridge.adapters.{a}', fromlist=['x'])\n"
            "    assert 'site-packages' in m.__file__, m.__file__\n")
    assert _run(venv, "-c", code, cwd=tmp_path).returncode == 0
    proc = _run(venv, "-m", "lmsbridge.core", "db", "upgrade", cwd=tmp_path)
    assert proc.returncode == 0 and f"-> {head_revision()}" in proc.stdout


def test_third_party_adapters_are_discovered_and_broken_ones_skipped(venv, tmp_path):
    proc = _run(venv, "-m", "lmsbridge.core", "adapters", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    adapters = {a["name"]: a for a in json.loads(proc.stdout)}
    assert set(adapters) == {"moodle", "canvas", "blackboard", "d2l", "oracle", "coursera", "lti",
                             "schoology"}
    assert adapters["schoology"]["distribution"] == "lmsbridge-schoology"
    assert adapters["schoology"]["version"] == "0.3.0"
    assert adapters["schoology"]["capabilities"] == ["roster_read"]
    assert adapters["canvas"]["distribution"] == "lmsbridge"  # the built-in won the name
    warnings = proc.stderr.splitlines()
    assert any("'lmsbridge-broken'" in w and "failed to import" in w for w in warnings)
    assert any("'lmsbridge-fake-canvas'" in w and "already provided by distribution "
               "'lmsbridge'" in w for w in warnings)


def test_allow_list_applies_to_installed_plugins(venv, tmp_path):
    env_code = ("import os; os.environ['LMSBRIDGE_LOAD_PLUGINS'] = 'schoology'\n"
                "from lmsbridge.core.plugins import Registry\n"
                "r = Registry.load(); print(sorted(r.adapters), len(r.problems))")
    proc = _run(venv, "-c", env_code, cwd=tmp_path)
    assert proc.stdout.strip() == "['schoology'] 0"
