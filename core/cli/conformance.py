"""``lmsbridge conformance``: run the conformance suite and print the capability matrix."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from lmsbridge.core.cli.app import App, pass_app
from lmsbridge.core.errors import ConfigError


def suite_command(junit: Path, adapters: tuple[str, ...], quiet: bool = True) -> list[str]:
    """The pytest command line that runs the packaged suite, isolated from any project's
    pytest configuration in the working directory."""
    args = [sys.executable, "-m", "pytest", "-p", "lmsbridge.conformance.pytest_plugin",
            "--pyargs", "lmsbridge.conformance", "-p", "no:cacheprovider",
            f"--junitxml={junit}", "-o", "junit_family=xunit2"]
    args += ["-q"] if quiet else ["-v"]
    for name in adapters:
        args += ["--lmsbridge-adapter", name]
    return args


@click.command()
@click.option("--adapter", "adapters", multiple=True, metavar="NAME",
              help="Adapter to check (repeatable; default: every loaded adapter).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also keep the JUnit XML (the capability matrix) in FILE.")
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's output.")
@pass_app
def conformance(app: App, adapters: tuple[str, ...], junit: Path | None,
                verbose: bool) -> None:
    """Check adapters against their mock platforms; print the capability matrix."""
    from lmsbridge.conformance.matrix import read_junit, table

    for name in adapters:
        app.registry.adapter(name)  # an unknown name is one clear line, before pytest runs
    try:
        import pytest  # noqa: F401 - the suite runs on pytest
    except ImportError:
        raise ConfigError("the conformance suite needs pytest: pip install pytest") from None
    with tempfile.TemporaryDirectory(prefix="lmsbridge-conformance-") as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\n")
        xml = junit.resolve() if junit else work / "conformance.xml"
        proc = subprocess.run([*suite_command(xml, adapters, quiet=not verbose),
                               "-c", str(work / "pytest.ini"), "--rootdir", str(work)],
                              cwd=work, capture_output=not verbose, text=True)
        if not xml.exists():
            detail = (proc.stderr or proc.stdout or "").strip().splitlines()
            raise ConfigError("the conformance suite did not run: "
                              + (detail[-1] if detail else f"exit {proc.returncode}"))
        matrix = read_junit(xml)
    app.console.print(table(matrix))
    if junit:
        app.err.print(f"JUnit XML: {junit}")
    if not matrix.ok or proc.returncode not in (0, 5):
        raise click.exceptions.Exit(1)
