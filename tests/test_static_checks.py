"""ruff over the project and mypy --strict over the whole tree (decoders/ and dmsniff/) are part of
the test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    beside = Path(sys.executable).with_name("ruff")  # the venv's own ruff, when run from a venv
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (it is in the [test] extra)")
    res = _run(ruff, "check", "dmsniff", "decoders", "tests", "benchmarks", "captures", "fuzz")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_strict_on_the_tree() -> None:
    res = _run(sys.executable, "-m", "mypy")  # configured in pyproject: strict, files = decoders, dmsniff
    assert res.returncode == 0, res.stdout + res.stderr
