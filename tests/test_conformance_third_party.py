"""A third party runs the conformance suite against its own adapter package.

Builds the wheels of lmsbridge and of the example adapter in ``tests/example_adapter/``,
installs both into a fresh venv (their dependencies come from the test venv through a .pth
file, so nothing is downloaded) and runs the suite there exactly as docs/adapters.md says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from wheel_venv import build_wheel, make_venv
from wheel_venv import run as _run

from lmsbridge.conformance.matrix import PASS, SKIP, read_junit
from lmsbridge.core.capabilities import Capability

EXAMPLE = Path(__file__).parent / "example_adapter"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory, lmsbridge_wheel) -> Path:
    """A fresh venv holding the lmsbridge and lmsbridge-example wheels."""
    example = build_wheel(EXAMPLE, tmp_path_factory.mktemp("wheels"), "lmsbridge_example")
    return make_venv(tmp_path_factory.mktemp("venv") / "v", [lmsbridge_wheel, example])


@pytest.fixture(scope="module")
def run(venv, tmp_path_factory):
    """The documented command, run in an empty directory of the fresh venv."""
    work = tmp_path_factory.mktemp("integrator")
    xml = work / "conformance.xml"
    proc = _run(venv, "-m", "pytest", "-p", "lmsbridge.conformance.pytest_plugin",
                "--pyargs", "lmsbridge.conformance", "--lmsbridge-adapter", "example",
                "--junit-xml", str(xml), "-o", "junit_family=xunit2", "-q", cwd=work)
    assert xml.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return read_junit(xml), proc


def test_both_packages_come_from_the_fresh_venv(venv, tmp_path):
    code = ("import lmsbridge.conformance, lmsbridge_example\n"
            "print(lmsbridge.conformance.__file__); print(lmsbridge_example.__file__)")
    proc = _run(venv, "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    prefix = str(venv.parent.parent)
    assert all(line.startswith(prefix) for line in proc.stdout.splitlines()), proc.stdout


def test_the_run_passes_and_only_the_named_adapter_is_checked(run):
    matrix, proc = run
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert matrix.adapters == ["example"]
    assert matrix.ok


def test_declared_capabilities_pass_with_their_fault_checks(run):
    matrix, _ = run
    for capability, at_least in [(Capability.GRADEBOOK_COLUMNS, 10),
                                 (Capability.GRADE_WRITE, 15), (Capability.ROSTER_READ, 5)]:
        cell = matrix.cell("example", capability)
        assert cell.status == PASS and cell.passed >= at_least, (capability, cell)
        assert cell.failed == cell.skipped == 0, (capability, cell)


def test_opt_outs_and_undeclared_capabilities_skip_with_their_reasons(run):
    matrix, _ = run
    publish = matrix.cell("example", Capability.CONTENT_PUBLISH)
    assert publish.status == SKIP
    assert publish.detail == ("opted out: Example LMS has no API to create links; content "
                              "arrives by deep linking")
    for capability in (Capability.CONTENT_RETIRE, Capability.CATALOG_READ,
                       Capability.PROGRESS_READ):
        cell = matrix.cell("example", capability)
        assert (cell.status, cell.detail) == (SKIP, "optional for lms adapters, not declared")
