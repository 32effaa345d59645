"""Build wheels and throwaway venvs for the tests that install lmsbridge like a user would.

A venv is made ``--without-pip``; a plain path line in a .pth file makes the test venv's
packages importable there (its own .pth files, such as the editable lmsbridge, are not
processed), so the wheels installed into it are what gets imported and nothing is
downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).parents[1]


def build_wheel(source: Path, out: Path, name: str) -> Path:
    """The wheel of the project at ``source``; ``name`` is its distribution, underscored."""
    # Built from a copy, so setuptools' build/ and egg-info never land in the work tree.
    work = out / f"src-{name}"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", ".demo", "dist", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(work)], check=True)
    (wheel,) = out.glob(f"{name}-*.whl")
    return wheel


def make_venv(home: Path, wheels: list[Path]) -> Path:
    """A fresh venv at ``home`` with ``wheels`` installed; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path("
                              "'purelib'))"], capture_output=True, text=True, check=True)
    Path(purelib.stdout.strip(), "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", *map(str, wheels)], check=True)
    return python


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python args`` without any LMSBRIDGE_* setting of the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd,
                          env=env)
