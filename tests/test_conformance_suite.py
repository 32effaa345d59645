"""The conformance suite itself: gating by declared capabilities, the matrix, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from lmsbridge.conformance.matrix import FAIL, PASS, SKIP, read_junit, table
from lmsbridge.conformance.pytest_plugin import capability_gate
from lmsbridge.conformance.suite import SUITE_VERSION
from lmsbridge.core.capabilities import AdapterSpec, Capability
from lmsbridge.core.cli import main
from lmsbridge.core.cli.conformance import suite_command
from lmsbridge.core.plugins import LoadedAdapter

#: Adapters whose mock implements the suite protocol: every cell must pass or skip by choice.
STRICT = ("canvas", "coursera", "lti", "moodle", "oracle")
#: Matrix rows of the strict adapters (one per way a mock connects a tenant) and the
#: capabilities each must pass.
_LMS = (Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE, Capability.ROSTER_READ)
STRICT_ROWS = {"canvas[rest]": _LMS, "canvas[lti]": _LMS, "lti": _LMS,
               "moodle[lti]": _LMS, "moodle[ws]": _LMS,
               "coursera": (Capability.CATALOG_READ, Capability.PROGRESS_READ),
               "oracle": (Capability.CONTENT_PUBLISH, Capability.CONTENT_RETIRE,
                          Capability.GRADE_WRITE)}
SKELETONS = ("blackboard", "d2l")


def _loaded(**spec) -> LoadedAdapter:
    return LoadedAdapter(AdapterSpec(**{"name": "x", "kind": "lms", "title": "X",
                                        "capabilities": [], **spec}), object(), "dist", "1")


def _outcome(adapter: LoadedAdapter, capability: Capability) -> tuple[str, str]:
    try:
        capability_gate(adapter, capability)
    except pytest.skip.Exception as exc:
        return "skip", str(exc)
    except pytest.fail.Exception as exc:
        return "fail", str(exc)
    return "run", ""


def test_declared_capabilities_run():
    assert _outcome(_loaded(capabilities=["roster_read"]), Capability.ROSTER_READ)[0] == "run"


def test_a_missing_core_capability_fails():
    status, why = _outcome(_loaded(), Capability.GRADE_WRITE)
    assert status == "fail" and "missing core capability grade_write" in why


def test_an_opt_out_skips_with_its_reason():
    adapter = _loaded(opt_outs={"content_publish": "published by deep linking"})
    assert _outcome(adapter, Capability.CONTENT_PUBLISH) == \
        ("skip", "opted out: published by deep linking")


def test_an_undeclared_optional_capability_skips():
    status, why = _outcome(_loaded(), Capability.CATALOG_READ)
    assert status == "skip" and why == "optional for lms adapters, not declared"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """One suite run over Canvas and the skeletons, as CI runs it."""
    work = tmp_path_factory.mktemp("suite")
    (work / "pytest.ini").write_text("[pytest]\n")
    xml = work / "conformance.xml"
    cmd = suite_command(xml, (*STRICT, *SKELETONS)) + ["-c", str(work / "pytest.ini"),
                                                      "--rootdir", str(work)]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert xml.exists(), proc.stdout + proc.stderr
    return read_junit(xml), proc


@pytest.mark.parametrize("adapter", STRICT_ROWS)
def test_adapters_with_a_mock_pass_every_declared_capability(matrix, adapter):
    result, proc = matrix
    cells = result.cells[adapter]
    assert not [c for c in cells.values() if c.status == FAIL], proc.stdout[-3000:]
    for capability in STRICT_ROWS[adapter]:
        assert cells[capability].status == PASS, (capability, cells[capability])
    if Capability.GRADE_WRITE in STRICT_ROWS[adapter]:
        assert cells[Capability.GRADE_WRITE].passed >= 15  # faults included, not a token test


@pytest.mark.parametrize("adapter", SKELETONS)
def test_skeletons_show_no_mock_platform_instead_of_crashing(matrix, adapter):
    result, _ = matrix
    cells = result.cells[adapter]
    assert cells[Capability.GRADE_WRITE].detail == "no mock platform"
    assert all(c.status == SKIP for c in cells.values())


def test_the_run_succeeds_and_the_junit_carries_properties(matrix):
    result, proc = matrix
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert result.ok
    assert set(result.adapters) == {*STRICT_ROWS, *SKELETONS}


def test_the_junit_names_the_suite_version(matrix):
    result, _ = matrix
    assert result.suite_version == SUITE_VERSION


def test_the_matrix_title_names_the_suite_version(tmp_path: Path):
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest"><properties>'
        '<property name="lmsbridge_suite_version" value="7"/></properties>'
        '<testcase classname="a" name="t1"><properties><property name="adapter" value="acme"/>'
        '<property name="capability" value="roster_read"/></properties></testcase>'
        '</testsuite></testsuites>')
    console = Console(width=300, record=True)
    console.print(table(read_junit(xml)))
    assert "lmsbridge conformance (suite version 7)" in console.export_text()


def test_canvas_runs_over_rest_and_over_lti_advantage(matrix):
    result, _ = matrix
    for row in ("canvas[rest]", "canvas[lti]"):
        for capability in (Capability.GRADEBOOK_COLUMNS, Capability.GRADE_WRITE,
                           Capability.ROSTER_READ):
            assert result.cell(row, capability).status == PASS, (row, capability)
    assert result.cell("canvas[rest]", Capability.CONTENT_PUBLISH).status == PASS
    publish = result.cell("canvas[lti]", Capability.CONTENT_PUBLISH)
    assert publish.status == SKIP and publish.detail.startswith("not over lti: ")
    assert "deep linking" in publish.detail


def test_a_failing_adapter_turns_its_cell_red(tmp_path: Path):
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="a" name="t1"><properties><property name="adapter" value="acme"/>'
        '<property name="capability" value="grade_write"/></properties>'
        '<failure message="AssertionError: 2 grade(s) never delivered">x</failure></testcase>'
        '<testcase classname="a" name="t2"><properties><property name="adapter" value="acme"/>'
        '<property name="capability" value="grade_write"/></properties></testcase>'
        '</testsuite></testsuites>')
    result = read_junit(xml)
    cell = result.cell("acme", "grade_write")
    assert (cell.status, cell.passed, cell.failed) == (FAIL, 1, 1)
    assert "never delivered" in cell.detail and not result.ok


def test_cli_names_an_unknown_adapter(capsys):
    assert main(["conformance", "--adapter", "nosuch"]) == 1
    assert "no adapter named 'nosuch'" in capsys.readouterr().err


def test_plugin_rejects_an_unknown_adapter(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p",
                           "lmsbridge.conformance.pytest_plugin", "--pyargs",
                           "lmsbridge.conformance", "--lmsbridge-adapter", "nosuch",
                           "-c", str(tmp_path / "pytest.ini")],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 4
    assert "no adapter named 'nosuch' is loaded" in proc.stderr


def test_a_setup_failure_reads_as_one_line_and_moded_rows_keep_their_names(tmp_path: Path):
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="a" name="t1"><properties><property name="adapter" value="acme"/>'
        '<property name="capability" value="roster_read"/>'
        '<property name="mode" value="lti"/></properties>'
        '<error message="failed on setup with &quot;Failed: the mock platform AcmeMock lacks '
        '\'connect\'&quot;">x</error></testcase></testsuite></testsuites>')
    result = read_junit(xml)
    cell = result.cell("acme[lti]", "roster_read")
    assert cell.detail == "setup: the mock platform AcmeMock lacks 'connect'"
    console = Console(width=300, record=True)
    console.print(table(result))
    assert "acme[lti]" in console.export_text()
