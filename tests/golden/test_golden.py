"""The full JSONL report of every capture we have equals its golden copy, byte for byte.

Refactors (issue 17) and speed-ups (issue 18) must not change what dmsniff reports.  When a
change means to, ``python -m tests.golden.regen`` rewrites the copies and the commit says why.
"""

from __future__ import annotations

import difflib

import pytest

from tests.golden.cases import DATA, Case, cases


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_report_equals_its_golden_copy(case: Case) -> None:
    assert case.golden.exists(), f"no golden copy: python -m tests.golden.regen {case.name}"
    want = case.golden.read_bytes()
    got = case.run()
    if got != want:
        diff = difflib.unified_diff(want.decode().splitlines(), got.decode().splitlines(),
                                    "golden", "now", n=0, lineterm="")
        shown = "\n".join(line[:300] for line in list(diff)[:40])
        pytest.fail(f"{case.name}: the report changed (python -m tests.golden.regen {case.name} if meant)\n"
                    f"{shown}")


def test_no_golden_copy_without_its_capture() -> None:
    """A copy left behind when a capture is renamed or removed guards nothing: remove it too."""
    names = {c.name for c in cases()}
    stale = sorted(p.stem for p in DATA.glob("*.jsonl") if p.stem not in names)
    assert not stale, f"golden copies without a capture: {stale}"
