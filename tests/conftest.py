"""Shared fixtures: where the public corpus and our own captures live."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
# The public corpus sits beside the checkout (CI clones next to ../shared).
CORPUS = ROOT.parent / "shared" / "corpus"


def load_setup_py() -> ModuleType:
    """The checkout's setup.py as a module, without building anything (it builds only as __main__)."""
    spec = importlib.util.spec_from_file_location("dmsniff_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {CORPUS}")
    return CORPUS
