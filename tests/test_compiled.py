"""The mypyc-compiled build (setup.py) reports exactly what the pure-Python source reports.

A copy of the checkout is compiled in place (``setup.py build_ext --inplace``, as a regular install
does it), every listed module is checked to load from its extension, and then, in that copy:
the golden tests (every capture of ``captures/`` and the shared corpus, byte for byte), the
truncation test (every capture cut at every offset), and the two benchmark mixes at 6,000 packets
each, with one worker and two, against the pure source's report of the same capture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Left out of the copy: caches, builds, virtual environments, earlier extension modules.
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "__pycache__", "*.so", ".hypothesis", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", "*.egg-info", "out",
)


def _modules() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        paths = tomllib.load(f)["tool"]["dmsniff"]["mypyc"]["modules"]
    return [p.removesuffix(".py").replace("/", ".") for p in paths]


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DMSNIFF_COMPILE")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env={**env, "DMSNIFF_COMPILE": "1"}, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compiled copy of the checkout, beside a link to the shared corpus (tests find it at ../shared)."""
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.fail("no C compiler: the compiled build cannot be checked (apt-get install gcc)")
    base = tmp_path_factory.mktemp("compiled")
    tree = base / "dmsniff"
    shutil.copytree(ROOT, tree, ignore=_IGNORE, symlinks=True)
    if (ROOT.parent / "shared").exists():
        (base / "shared").symlink_to(ROOT.parent / "shared")
    built = _run(["setup.py", "build_ext", "--inplace"], tree, timeout=1200)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "pure Python" not in built.stderr, built.stderr[-3000:]
    return tree


def test_every_listed_module_loads_compiled(compiled: Path) -> None:
    names = _modules()
    assert len(names) >= 20
    probe = "import importlib, sys\nfor n in sys.argv[1:]:\n    print(n, importlib.import_module(n).__file__)"
    out = _run(["-c", probe, *names], compiled, timeout=60)
    assert out.returncode == 0, out.stderr
    files = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert set(files) == set(names)
    pure = [n for n, f in files.items() if not f.endswith(".so") or not f.startswith(str(compiled))]
    assert not pure, f"not compiled: {pure}"


def test_golden_reports_and_truncation_unchanged_when_compiled(compiled: Path) -> None:
    tests = ["tests/golden", "tests/regressions/test_truncation.py"]
    pytest_args = ["-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", "-x", *tests]
    out = _run(pytest_args, compiled, timeout=1800)
    assert out.returncode == 0, out.stdout[-4000:]
    assert " passed" in out.stdout and " failed" not in out.stdout


@pytest.mark.parametrize("mix", ["gencap", "gendm"])
def test_benchmark_mix_reports_equal_pure(compiled: Path, mix: str, tmp_path: Path) -> None:
    capture = tmp_path / f"{mix}.pcap"
    generator = ROOT / "benchmarks" / f"{mix}.py"
    made = _run([str(generator), str(capture), "--packets", "6000"], ROOT, timeout=300)
    assert made.returncode == 0, made.stderr
    report = ["-m", "dmsniff", "report", "--format", "jsonl", "-q"]
    pure = _run([*report, "-j", "1", str(capture)], ROOT, timeout=300)
    assert pure.returncode == 0, pure.stderr
    assert pure.stdout.count('"type":"session"') > 10  # a real workload, not an empty report
    for jobs in ("1", "2"):
        fast = _run([*report, "-j", jobs, str(capture)], compiled, timeout=300)
        assert fast.returncode == 0, fast.stderr
        assert fast.stdout == pure.stdout, f"-j {jobs}: the compiled build's report differs"
