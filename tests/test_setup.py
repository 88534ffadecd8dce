"""setup.py compiles for a wheel or an install, never for an editable install or metadata."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, load_setup_py

# (setup.py arguments as setuptools' PEP 517 backend passes them, DMSNIFF_COMPILE, compile?)
CASES = [
    (["setup.py", "bdist_wheel", "--dist-dir", "/tmp/x"], None, True),  # pip install .
    (["setup.py", "editable_wheel", "--dist-dir", "/tmp/x"], None, False),  # pip install -e .
    (["setup.py", "egg_info"], None, False),  # metadata only
    (["setup.py", "dist_info", "--output-dir", "/tmp/x"], None, False),
    (["setup.py", "build_ext", "--inplace"], None, True),
    (["setup.py", "bdist_wheel"], "0", False),
    (["setup.py", "editable_wheel"], "1", False),  # an editable build builds no extension to compile
    (["setup.py", "build_ext", "--inplace"], "1", True),
    (["setup.py", "develop", "build_ext"], None, False),
    (["setup.py", "develop", "build_ext"], "1", True),
]


@pytest.mark.parametrize(("argv", "choice", "expected"), CASES)
def test_when_setup_compiles(argv: list[str], choice: str | None, expected: bool) -> None:
    env = {} if choice is None else {"DMSNIFF_COMPILE": choice}
    assert load_setup_py().wanted(argv, env) is expected


def test_every_listed_module_exists_and_is_checked_by_mypy() -> None:
    modules = load_setup_py().compiled_modules()
    assert modules == sorted(set(modules))
    for path in modules:
        assert (ROOT / path).is_file(), path
        assert path.startswith(("dmsniff/", "decoders/")), path  # [tool.mypy] files: strict-checked
