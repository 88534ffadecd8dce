"""How a run uses the machine: when to decode in worker processes, how many, and the garbage
collector's settings for a long decoding run."""

from __future__ import annotations

import gc
import os

from dmsniff.pipeline.records import Input

# Below this size a capture is decoded in one process: forking would cost more than it saves.
PARALLEL_MIN_BYTES = 8 << 20


def use_workers(path: Input, jobs: int) -> bool:
    """Whether :meth:`~dmsniff.pipeline.runner.Pipeline.run_files` decodes ``path`` in worker processes."""
    if jobs < 2 or path == "-":
        return False
    try:
        size = sum(os.path.getsize(p) for p in ((path,) if isinstance(path, str) else path))
    except OSError:
        return False
    return size >= PARALLEL_MIN_BYTES


def default_jobs() -> int:
    """Two workers where there are two cores to spare; the merge itself is light."""
    return max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


# Records between two full collections in a run tuned by settle_heap (see tidy_heap).
TIDY_RECORDS = 50_000

_tidy = False  # whether tidy_heap collects: set by settle_heap, for the process that owns the run


def settle_heap(*, tidy: bool = True) -> None:
    """Tune the garbage collector for a long decoding run, once the modules it needs are loaded.

    Decoding allocates millions of short-lived containers, and each full collection
    walked every object of the loaded modules (lxml, the decoders' tables) again.
    Freezing what exists now takes those out of all later collections (and keeps their
    pages shared with forked workers); a larger first generation makes young collections
    rarer.  Cycles are still collected, so memory stays bounded: on the 200k-packet
    benchmark capture the full report ran 3.9 s -> 3.3 s at the same peak RSS.  For the
    process that owns the run (the CLI, a worker), not for library callers.

    Decoding makes next to no cyclic garbage (a closed TCP connection lets go of its sink).  A
    first generation of 25,000 or 50,000 took 5-10% off the merging process's CPU on the
    benchmark captures, but it peaked 2 MB higher on the 1M-packet CWMP one (49.9 -> 52.0 MB),
    which puts the report's memory growth with capture size over its bound: so 10,000.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    global _tidy
    _tidy = tidy


def tidy_heap() -> None:
    """A full collection, every :data:`TIDY_RECORDS` records (:class:`~dmsniff.pipeline.addons.Dispatcher`).

    With so few containers surviving, the merging process of a report saw no full collection at
    all in a million-packet run, and only a full collection empties the interpreter's free
    lists (up to 2,000 spare tuples of each length up to 20, and the like).  They filled as the
    run went on, 1.5 MB at 200k packets and 4.4 MB at 1M, so peak memory grew with the
    capture's length.  A collection costs 10-50 ms there, a few a million packets.  Not for the
    terminal UI (``settle_heap(tidy=False)``): it keeps every record, so each collection would
    walk them all.
    """
    if _tidy:
        gc.collect()
