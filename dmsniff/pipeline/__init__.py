"""The pipeline: inputs → frames → IP/TCP/UDP → HTTP exchanges and datagrams → protocol records →
addons (session builders, verifier, writers).

One module per job:

- :mod:`~dmsniff.pipeline.records`: what passes between the stages (inputs, records in canonical
  order, a capture's summary, the internal-error finding);
- :mod:`~dmsniff.pipeline.addons`: the addon API (typed hooks, the outbox an addon hands on what
  it makes with) and the dispatcher that calls the hooks;
- :mod:`~dmsniff.pipeline.frames`: the frame driver, one capture's frames into ordered records;
- :mod:`~dmsniff.pipeline.runner`: the runner (:class:`Pipeline`), which reads the inputs of a
  run and feeds the addons, in this process or through
- :mod:`~dmsniff.pipeline.parallel` (worker processes) and :mod:`~dmsniff.pipeline.cluster`
  (a Dask cluster);
- :mod:`~dmsniff.pipeline.policy`: when to use workers, how many, and the garbage collector.

This package re-exports the names callers outside dmsniff use (``from dmsniff.pipeline import
Pipeline, Addon``); the modules of dmsniff import from the module that defines a name.
"""

from dmsniff.pipeline.addons import Addon, Dispatcher, Emitter, Outbox
from dmsniff.pipeline.frames import FrameDriver
from dmsniff.pipeline.policy import PARALLEL_MIN_BYTES, default_jobs, settle_heap, use_workers
from dmsniff.pipeline.records import (
    INTERNAL_ERROR,
    RULES,
    CaptureSummary,
    Input,
    Item,
    internal_error,
)
from dmsniff.pipeline.runner import Pipeline

__all__ = [
    "INTERNAL_ERROR",
    "PARALLEL_MIN_BYTES",
    "RULES",
    "Addon",
    "CaptureSummary",
    "Dispatcher",
    "Emitter",
    "FrameDriver",
    "Input",
    "Item",
    "Outbox",
    "Pipeline",
    "default_jobs",
    "internal_error",
    "settle_heap",
    "use_workers",
]
