"""The capability matrix: rebuilt from the JUnit XML of a conformance run.

Each suite test case carries ``adapter`` and ``capability`` properties. A cell is ``FAIL``
when any of its tests failed or errored, ``pass`` when the rest passed, else the skip reason
(``no mock platform``, ``opted out: …``). An adapter run in several connect modes gets one
row per mode, ``name[mode]`` (e.g. ``canvas[rest]``, ``canvas[lti]``). The test suite's
``lmsbridge_suite_version`` property is the suite version the run checked against.
"""

from __future__ import annotations

import re
from pathlib import Path

from attrs import define, field, frozen
from lxml import etree
from rich.markup import escape
from rich.table import Table

from lmsbridge.core.capabilities import Capability

PASS, FAIL, SKIP = "pass", "FAIL", "skip"
#: The JUnit test suite property naming the suite version (set by the pytest plugin).
VERSION_PROPERTY = "lmsbridge_suite_version"


@frozen
class Cell:
    status: str  # pass, FAIL or skip
    detail: str = ""  # first failure message or the skip reason
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        if self.status == PASS:
            return f"pass ({self.passed})"
        if self.status == FAIL:
            return f"FAIL ({self.failed}/{self.passed + self.failed}): {self.detail}"
        return self.detail


@define
class _Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(factory=list)
    skips: list[str] = field(factory=list)


@frozen
class Matrix:
    cells: dict[str, dict[Capability, Cell]]
    #: The conformance suite version the run checked against, when the report names it.
    suite_version: str | None = None

    @property
    def adapters(self) -> list[str]:
        return sorted(self.cells)

    @property
    def ok(self) -> bool:
        return not any(c.status == FAIL for row in self.cells.values() for c in row.values())

    def cell(self, adapter: str, capability: Capability | str) -> Cell | None:
        return self.cells.get(adapter, {}).get(Capability(capability))


def read_junit(path: str | Path) -> Matrix:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    tallies: dict[str, dict[Capability, _Tally]] = {}
    for case in root.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "adapter" not in props or "capability" not in props:
            continue
        row = props["adapter"] + (f"[{props['mode']}]" if props.get("mode") else "")
        tally = tallies.setdefault(row, {}).setdefault(
            Capability(props["capability"]), _Tally())
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            tally.failed += 1
            tally.failures.append(_first_line(problem.get("message") or problem.text or ""))
        elif skipped is not None:
            tally.skipped += 1
            tally.skips.append(_skip_reason(skipped.get("message") or ""))
        else:
            tally.passed += 1
    versions = [p.get("value") for suite in root.iter("testsuite")
                for p in suite.findall("properties/property") if p.get("name") == VERSION_PROPERTY]
    return Matrix({adapter: {cap: _cell(t) for cap, t in row.items()}
                   for adapter, row in tallies.items()},
                  suite_version=versions[0] if versions else None)


def _cell(t: _Tally) -> Cell:
    if t.failed:
        return Cell(FAIL, t.failures[0], t.passed, t.failed, t.skipped)
    if t.passed:
        return Cell(PASS, "", t.passed, t.failed, t.skipped)
    return Cell(SKIP, t.skips[0] if t.skips else "skipped", 0, 0, t.skipped)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "failed"
    # pytest reports a fixture's failure as: failed on setup with "Failed: <why>"
    setup = re.fullmatch(r'failed on setup with "(.*)"', line)
    if setup:
        line = "setup: " + setup.group(1).removeprefix("Failed: ")
    return line.removeprefix("Failed: ")[:200]


def _skip_reason(message: str) -> str:
    return message.removeprefix("Skipped: ").strip()


def table(matrix: Matrix) -> Table:
    """The matrix as a rich Table: one row per adapter, one column per capability; the
    title names the suite version when the report does."""
    title = "lmsbridge conformance"
    if matrix.suite_version:
        title += f" (suite version {matrix.suite_version})"
    t = Table(title=title, title_justify="left", show_lines=True)
    t.add_column("adapter")
    for capability in Capability:
        t.add_column(capability.value)
    styles = {PASS: "green", FAIL: "bold red", SKIP: "yellow"}
    for adapter in matrix.adapters:
        row = [escape(adapter)]  # "canvas[lti]" is not rich markup
        for capability in Capability:
            cell = matrix.cell(adapter, capability)
            row.append("" if cell is None else f"[{styles[cell.status]}]{cell}[/]")
        t.add_row(*row)
    return t
