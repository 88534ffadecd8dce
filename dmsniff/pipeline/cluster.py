"""Batch runs past one machine: the decoding on a Dask distributed cluster.

``dmsniff report --cluster tcp://scheduler:8786 CAPTURES...`` (or ``--cluster local:N`` for a
cluster of N worker processes on this machine) hands each capture to the cluster as one task, and
a large capture as one task per flow-hash shard: exactly the split :mod:`dmsniff.pipeline.parallel` makes
for its local worker processes (whole TCP connections per shard, by host pair when TLS keys are
given).  A task reads its capture from a path the workers share, decodes link, IP, TCP, TLS,
HTTP and the protocol bodies, and returns its records in canonical order, pickled in batches.
This process then merges the shards of each capture in the order the captures were given and runs the
addons (sessions, verification, writers), so the report is the one a single process writes: the
same ids, the same order, byte for byte.

Logs and message folders (:mod:`dmsniff.logs`) given among the captures are read here, in their
turn: they are opened when the run starts (so that every input is numbered as one process numbers
it, a log that cannot be read taking no number) and held until the captures before them are merged.

Failures: a task that raises is retried (twice); a worker that dies has its tasks rerun
elsewhere by the scheduler; a capture whose task fails on every try is reported like a file
that cannot be read, and nothing else is lost.  Needs the ``cluster`` extra (``pip install
'dmsniff[cluster]'``: dask, distributed).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from dmsniff.capture import CaptureError, open_input
from dmsniff.pipeline.frames import FrameDriver
from dmsniff.pipeline.parallel import _combine, _key_store, drop_bodies, dumps, pass_others_over
from dmsniff.pipeline.policy import PARALLEL_MIN_BYTES, settle_heap
from dmsniff.pipeline.records import CaptureSummary, Input, Item

if TYPE_CHECKING:
    from dmsniff.logs.source import LogSource
    from dmsniff.net.tls_keys import TlsKeySpec
    from dmsniff.pipeline.runner import Pipeline

#: A large capture is cut into about one shard per this many bytes (at least two per worker).
SHARD_BYTES = 64 << 20
#: Records per pickled batch of a task's result.  A task pickles as it decodes, so it never holds
#: a whole capture's records (half a GB of objects for 200k packets: holding them made the workers'
#: tasks a quarter slower than the same decoding in one process), and this process unpickles one
#: batch at a time while it merges.  64, not 1024: this process then unpickled and merged four
#: 200k-packet CWMP captures with 8-10% less CPU (7.7-8.0 s -> 7.1-7.3 s, compiled; 256 was
#: between them, 16 no better than 64).
TASK_BATCH = 64
RETRIES = 2
#: How much lower a local cluster's workers run than this process (a nice increment).  On one machine
#: this process, merging in capture order, is the stage nothing else can do; under fair scheduling the
#: two workers took two thirds of two cores and this process fell behind, then finished its backlog
#: alone.  Ten captures on LocalCluster(2), 2 cores, compiled: 32.5 s -> 30.9 s (medians of three
#: alternating runs, each run faster), same report.  Forked ``-j`` workers gained nothing from it.
WORKER_NICE = 10
#: Dask settings for the workers of a local cluster (ours alone, like their nice value).  A worker's
#: statistical profiler (for the dashboard, which a local cluster here does not serve) samples the
#: task's stack every 10 ms; each sample takes the GIL from the decoding thread.  Six 200k-packet
#: CWMP captures decoded on LocalCluster(2), compiled: 5.3-7.0 s of the decoding thread's own CPU a
#: capture with it, 4.8-5.0 s without (4.6 s in a plain process).
#:
#: Nor is ``MALLOC_TRIM_THRESHOLD_=65536`` set in a worker's environment, as a nanny does by default
#: (Dask's ``pre-spawn-environ``, so that workers holding numpy chunks hand freed memory back at
#: once).  With it glibc gives back the top of its heap whenever 64 KiB are free there, and a
#: decoding task, which frees as fast as it allocates, takes the pages back from the kernel a
#: moment later: 109,000 page faults a 200k-packet capture instead of 7,000-10,000, and 0.2-0.4 s
#: of system time instead of 0.05.  Eight such CWMP captures on LocalCluster(2), compiled, the
#: decoding threads' CPU summed: 50.8 and 42.6 s with it, 43.2 and 37.0 s without (two alternating
#: runs).  Without the variable a worker's allocator behaves as this process's and the ``-j``
#: workers' do (glibc's default, a threshold that adapts); a worker's peak RSS after six such
#: captures was 144 MiB without the variable, 142 MiB with it.
#:
#: Nor do the servers of a local cluster (scheduler and nannies in this process, the workers in theirs)
#: wake as often as Dask's defaults have them: every 20 ms to time their event loop (``tick``), every
#: 100 ms to read the worker's memory, every 500 ms to sample the machine for the dashboard.  An idle
#: LocalCluster(2) took 1.79 s of CPU in 20 s with the defaults (9% of a core: its client process
#: 1.0 s, each worker 0.4 s), 0.32 s with the intervals below; and each wake-up of a worker's loop
#: takes the GIL from the decoding thread.  A loop blocked longer than ``tick.limit`` (3 s) is still
#: reported, and a worker over its memory limit is still stopped, a second later at most.
LOCAL_WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set (Dask's way)
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
# Whether this worker process has tuned its garbage collector for decoding (settle_heap): with
# the default thresholds a task took 6.9-8.0 s of CPU where the same decoding in the CLI takes 6.0.
_settled = False


class ClusterError(Exception):
    """The cluster cannot be used (no dask, no scheduler); the text is one line for the user."""


def decode_task(source: Input, index: int, shard: int, nshards: int, max_body: int, keep_bodies: bool,
                parse_protocols: bool, tls: TlsKeySpec) -> list[bytes]:
    """One task: the records of one shard of one capture in canonical order, as pickled batches of
    at most TASK_BATCH, then its summary, pickled."""
    items: list[Item] = []
    batches: list[bytes] = []

    def out(item: Item) -> None:
        if not keep_bodies:
            drop_bodies(item)
        items.append(item)
        if len(items) >= TASK_BATCH:
            batches.append(dumps(items))
            items.clear()

    global _settled
    with open_input(source) as cap:
        driver = FrameDriver(index, out, max_body=max_body, shard=shard, nshards=nshards,
                             parse_protocols=parse_protocols, keys=_key_store(tls) if tls else None,
                             by_hosts=bool(tls), info=cap.info)
        if not _settled:  # the worker's first task: its decoders are imported now
            settle_heap()
            _settled = True
        pass_others_over(cap, driver)
        driver.run(cap, cap.info)
        summary = driver.summary(cap.info)
    if items:
        batches.append(dumps(items))
    batches.append(dumps(summary))
    return batches


@dataclass(slots=True)
class _Capture:
    source: Input
    name: str
    size: int = 0
    nshards: int = 0
    futures: list[Any] = field(default_factory=list)
    results: dict[int, list[bytes]] = field(default_factory=dict)
    unreadable: CaptureError | None = None  # could not even be opened: no task
    error: str | None = None  # its task failed on every try
    log: LogSource | None = None  # a log, opened, read here in its turn (no task)


def _size(source: Input) -> int:
    total = 0
    for p in (source,) if isinstance(source, str) else source:
        with contextlib.suppress(OSError):
            total += os.path.getsize(p)
    return total


def lower_priority(increment: int) -> None:
    """Lower this process's scheduling priority by ``increment``: every thread, since on Linux the
    nice value belongs to a thread (threads started later inherit it from the one that starts them)."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: the nice value is the process's
        threads = [0]
    for tid in threads:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))


def connect(address: str) -> Any:
    """A distributed Client for ``tcp://host:port`` or ``local:N`` (N worker processes here)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--cluster needs dask distributed: pip install 'dmsniff[cluster]'") from None
    if address.startswith("local:"):
        try:
            n = int(address[6:])
        except ValueError:
            raise ClusterError(f"--cluster local:N wants a number of workers, not {address[6:]!r}") from None
        if n < 1:
            raise ClusterError("--cluster local:N wants at least one worker")
        import dask

        try:
            with dask.config.set(LOCAL_WORKER_CONFIG):  # (each nanny hands its worker the config of now)
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
        except Exception as exc:  # a worker process that cannot start (Dask logs why, above this line)
            # The likeliest cause: a script that runs dmsniff.cli.main without the __main__ guard, which
            # the workers' spawned processes import again.
            raise ClusterError(f"cannot start a local cluster of {n} worker processes ({exc}); a script that "
                               "runs dmsniff must call it under 'if __name__ == \"__main__\":'") from None
        client = Client(cluster)
        client.run(lower_priority, WORKER_NICE)  # our own processes: the merge here comes first
        return client
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def run_on_cluster(pipeline: Pipeline, inputs: Sequence[Input], address: str,
                   client: Any = None) -> list[CaptureSummary | CaptureError]:
    """Decode ``inputs`` on the cluster and feed ``pipeline``'s addons, capture after capture."""
    from distributed import as_completed

    from dmsniff.logs import log_format, open_log

    own = client is None
    if own:
        client = connect(address)
    workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
    keep_bodies = pipeline.hooks.keep_bodies
    progress = pipeline.progress
    captures: list[_Capture] = []
    index = 0
    submitted: dict[Any, tuple[int, int]] = {}
    try:
        for source in inputs:
            c = _Capture(source, source if isinstance(source, str) else " + ".join(source))
            captures.append(c)
            try:  # opened here first, so an unreadable file costs no task and the indexes stay right
                if isinstance(source, str) and (fmt := log_format(source, pipeline.input_format)) is not None:
                    c.log = open_log(source, fmt)
                    continue
                with open_input(source):
                    pass
            except CaptureError as exc:
                c.unreadable = exc
                continue
            c.size = _size(source)
        decoded = [pos for pos, c in enumerate(captures) if c.unreadable is None and c.log is None]
        plan = dict(zip(decoded, shard_plan([captures[pos].size for pos in decoded], workers), strict=True))
        for pos, c in enumerate(captures):
            if c.unreadable is not None:
                continue
            if c.log is None:
                c.nshards = plan[pos]
                for shard in range(c.nshards):
                    fut = client.submit(decode_task, c.source, index, shard, c.nshards, pipeline.max_body,
                                        keep_bodies, pipeline.parse_protocols, pipeline.tls_keys,
                                        retries=RETRIES, pure=False)
                    c.futures.append(fut)
                    submitted[fut.key] = (pos, shard)
            index += 1  # a log takes its number when it is read, as in one process
        results: list[CaptureSummary | CaptureError] = []
        total = sum(c.size for c in captures)
        if progress is not None:
            progress.start_file(f"{len(captures)} inputs on {workers} workers", total)
        done_bytes = 0

        def deliver_ready() -> None:
            """Hand on, in input order, every input whose turn has come and whose records are all here."""
            while len(results) < len(captures) and _ready(captures[len(results)]):
                results.append(_deliver(pipeline, captures[len(results)]))

        deliver_ready()  # (logs and unreadable inputs before the first capture)
        for fut in as_completed([f for c in captures for f in c.futures]):
            pos, shard = submitted[fut.key]
            c = captures[pos]
            try:
                c.results[shard] = fut.result()
            except Exception as exc:  # failed on every try: this capture is reported as unreadable
                c.error = c.error or f"{type(exc).__name__}: {exc}"
                c.results[shard] = []
            fut.release()
            if progress is not None:
                done_bytes += c.size // max(c.nshards, 1)
                progress.advance(done_bytes, 0, force=True)
            deliver_ready()
        for c in captures[len(results):]:  # (every task done: the inputs after the last one)
            results.append(_deliver(pipeline, c))
        if progress is not None:
            progress.end_file(total)
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    pipeline.finish()
    return results


def shard_plan(sizes: Sequence[int], workers: int) -> list[int]:
    """Tasks per capture (given the sizes of the captures, in order).

    Every shard reads the whole file and decodes its link and IP headers, so splitting a capture
    costs work; it pays only when the captures are too few to keep every worker busy.  With at
    least two captures per worker none is split (unless one is over a worker's whole share), and an
    unsplit capture is decoded exactly as one process decodes it; with fewer, a capture over the
    line under which :mod:`~dmsniff.pipeline.parallel` never splits is split as it does.
    """
    share = sum(sizes) / max(workers, 1)
    few = len(sizes) < 2 * workers
    return [_shards(size, workers) if few or size > share else 1 for size in sizes]


def _shards(size: int, workers: int) -> int:
    """Tasks for one capture: one for a small capture; for a large one about one per SHARD_BYTES, a
    multiple of the workers so that none waits on the last shard alone."""
    if size < PARALLEL_MIN_BYTES:
        return 1
    n = max(2, -(-size // SHARD_BYTES))
    return -(-n // workers) * workers if workers > 1 else n


def _ready(c: _Capture) -> bool:
    return c.unreadable is not None or len(c.results) == c.nshards


def _deliver(pipeline: Pipeline, c: _Capture) -> CaptureSummary | CaptureError:
    """Hand one capture's records to the addons, its shards merged in canonical order."""
    if c.unreadable is not None:
        pipeline.report_failure(c.name, c.unreadable)
        return c.unreadable
    if c.log is not None:
        from dmsniff.logs.run import run_log

        source, c.log = c.log, None  # (its text let go once read)
        return run_log(pipeline, c.name, source.format, source)
    if c.error is not None:
        exc = CaptureError(f"cannot decode {c.name}: its cluster task failed on every try ({c.error})")
        pipeline.report_failure(c.name, exc)
        c.results.clear()
        return exc
    shards = [c.results.pop(s) for s in range(c.nshards)]
    summaries: dict[int, CaptureSummary] = {s: pickle.loads(b.pop()) for s, b in enumerate(shards)}
    info = summaries[0].info
    pipeline.begin_capture(info)
    dispatch = pipeline.hooks.record
    for item in heapq.merge(*map(_unpickled, shards), key=itemgetter(0)):
        dispatch(item)
    return pipeline.end_capture(_combine(info, summaries))


def _unpickled(batches: list[bytes]) -> Iterator[Item]:
    """The records of a task's batches, one batch unpickled (and its bytes let go) at a time."""
    batches.reverse()
    while batches:
        items: list[Item] = pickle.loads(batches.pop())
        yield from items
