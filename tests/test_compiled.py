"""The mypyc-compiled build (setup.py) reports exactly what the pure-Python source reports.

A copy of the checkout is compiled in place (``setup.py build_ext --inplace``, as a regular install
does it), every listed module is checked to load from its extension, and then, in that copy, the
whole test suite runs but for the few tests that patch compiled internals (``COMPILED_EXEMPT``);
and the two benchmark mixes at 6,000 packets each, with one worker and two, must give the pure
source's report of the same capture.  The suite found what the goldens alone had not: lxml's
stubs call every tag a str (a comment's is a function), a log's connection is not a TCP one, and
the exporter subclasses the packet dissector.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_setup_py

# Left out of the copy: caches, builds, virtual environments, earlier extension modules.
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "__pycache__", "*.so", ".hypothesis", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", "*.egg-info", "out",
)


def _modules() -> list[str]:
    """The dotted names of the modules setup.py compiles."""
    return [p.removesuffix(".py").replace("/", ".") for p in load_setup_py().compiled_modules()]


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


# Tests that cannot hold for compiled code, and why; every other test runs against the compiled copy.
COMPILED_EXEMPT = {
    # they replace a function or a Final constant inside a compiled module, which compiled callers
    # do not look up again
    "tests/decoders/http/test_state.py::test_internal_error_is_contained": "patches parse_fields",
    "tests/decoders/http/test_state.py::test_internal_error_inside_a_message_ends_it": "patches _take_body",
    "tests/decoders/syncml/test_irregular.py::test_command_and_item_limits": "patches MAX_COMMANDS",
    # atheris measures coverage of Python bytecode; the harnesses fuzz the pure source
    "tests/fuzz/test_harnesses.py": "fuzzes the pure source",
    # this file: it would compile a copy of the copy
    "tests/test_compiled.py": "itself",
}


def test_whole_suite_passes_on_the_compiled_build(compiled: Path) -> None:
    """Every test but COMPILED_EXEMPT: the goldens (every capture, byte for byte), the corpus, the
    hostile inputs, the CLI, the exports, the TUI, all on the compiled modules."""
    deselect = [arg for test in COMPILED_EXEMPT for arg in ("--deselect", test)]
    pytest_args = ["-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", *deselect]
    out = _run(pytest_args, compiled, timeout=3000)
    assert out.returncode == 0, out.stdout[-6000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert " passed" in summary and " failed" not in summary, summary


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
