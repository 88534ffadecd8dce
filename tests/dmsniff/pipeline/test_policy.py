"""How a run uses the machine: the garbage collector's settings and the periodic full collection
(dmsniff/pipeline/policy.py, and where the dispatcher calls it)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from dmsniff.model import ConnectionEnd
from dmsniff.pipeline import Addon, Dispatcher, addons, policy
from dmsniff.pipeline.policy import settle_heap, tidy_heap


@pytest.fixture
def tuned_heap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """settle_heap() for one test, then the test process's own collector settings back.

    Starts untuned whatever ran before: a CLI test that ran a report in this process called
    settle_heap() too."""
    monkeypatch.setattr(policy, "_tidy", False)  # and back to what it was afterwards
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_tidy_gives_back_the_interpreters_spare_tuples(tuned_heap: None) -> None:
    """What tidy_heap is for: tuples freed in a burst stay on the interpreter's free lists, which
    only a full collection empties; a run with no full collection kept them for good."""
    settle_heap()
    burst = [tuple(range(i, i + 17)) for i in range(3000)]  # 17 items: a free list of its own
    del burst
    held = sys.getallocatedblocks()
    tidy_heap()
    assert held - sys.getallocatedblocks() >= 1500  # up to 2,000 spare 17-tuples were kept


def test_no_tidy_unless_the_run_asked_for_it(tuned_heap: None, monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[int] = []

    def collect(generation: int = 2) -> int:
        collections.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    tidy_heap()  # a library caller: its collector is its own
    settle_heap(tidy=False)  # the terminal UI
    tidy_heap()
    assert collections == []
    settle_heap()
    tidy_heap()
    assert collections == [2]


def test_the_dispatcher_tidies_every_tidy_records_records(monkeypatch: pytest.MonkeyPatch) -> None:
    tidies: list[int] = []
    seen: list[str] = []

    class Counter(Addon):
        def connection_end(self, end: ConnectionEnd) -> None:
            seen.append(end.connection)

    monkeypatch.setattr(addons, "TIDY_RECORDS", 3)
    monkeypatch.setattr(addons, "tidy_heap", lambda: tidies.append(len(seen)))
    d = Dispatcher([Counter()])
    for n in range(8):
        d.record(((n, 1, 1), ConnectionEnd(n, f"C{n}", 1.0, False)))
    assert tidies == [3, 6]  # after the 3rd and the 6th record, each record handed on first
    assert len(seen) == 8
