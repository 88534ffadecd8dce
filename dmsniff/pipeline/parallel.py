"""Decode one capture file on several cores.

TCP reassembly and HTTP decoding are most of the work and are independent per
connection, so each worker process reads the whole file, decodes link and IP headers
(cheap) and follows only the connections that hash to it, whole.  Ids name the frame
where a connection starts, so no worker needs to know about the others.  Workers send
their records, already in canonical order, through a pipe; this process merges the
streams by the canonical key and runs the addons, which therefore see what a
single-process run would give them.  That holds for connections closed for being idle
too: every worker sweeps them after the same frames as one process does (the sweeps
count every TCP segment of the capture, ``TcpReassembler.tick``).

The workers are a :class:`WorkerPool`; ``dmsniff report`` forks it, and starts it on
the first capture, before loading the decoders and writers (see :meth:`WorkerPool.claim`
for how a pipeline checks that the job started is the one it wants).

Linux only (fork); elsewhere, and for small files, :class:`~dmsniff.pipeline.runner.Pipeline`
decodes in-process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import io
import multiprocessing
import pickle
import time
import typing
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from dmsniff.capture import CaptureFile, CaptureInfo, MergedCapture, open_input
from dmsniff.model import Transaction
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline.frames import FrameDriver
from dmsniff.pipeline.policy import settle_heap
from dmsniff.pipeline.records import CaptureSummary, Input, Item

if TYPE_CHECKING:
    from dmsniff.capture import Frame
    from dmsniff.net.tls import CaptureKeys
    from dmsniff.pipeline.runner import Pipeline
    from dmsniff.progress import Progress

# Records per pipe message.  This process holds one unpickled batch per worker while it merges:
# at 256 records that was 5 MB of decoded SyncML on top of everything else.  At 64 its peak RSS
# is 5 MB lower (200k-packet benchmark captures, compiled: omadm 60.1 -> 55.3 MB, cwmp 46.4 ->
# 41.5 MB) and the run 4-6% faster; 16 and 32 were no better than 64.
BATCH = 64
_PIPE_SIZE = 1 << 20
try:
    import fcntl
except ImportError:  # not on Windows: there the pipes keep their size (and this module imports)
    fcntl = None  # type: ignore[assignment]
_F_SETPIPE_SZ: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only


class _Reducers(dict[type, Callable[[Any], tuple[Any, ...]]]):
    """A pickler dispatch table that rebuilds dataclasses by calling the class.

    A frozen dataclass with slots pickles through ``dataclasses._dataclass_setstate``,
    which calls ``fields()`` for every object: unpickling the decoded CWMP parameter
    lists cost the merging process more than all its other work.  ``cls(*values)`` is
    several times faster.  Filled in lazily, one reducer per class met; a class whose
    ``__init__`` does not take every field in order keeps pickle's own way.

    A field typed ``tuple[X, ...]`` of such dataclasses (a SyncML command's items, an Inform's
    events) crosses as columns, one tuple per field of X, and is rebuilt with
    ``map(X, *columns)``: pickle then handles a few tuples of strings in C instead of calling
    a reducer, memoising and emitting an opcode per record.  On the CWMP benchmark capture
    (420,000 parameter values in 200,000 packets) that took a fifth off the CPU the records
    cost to cross (pickling in the worker, unpickling here).  A CWMP parameter list no longer
    needs it: the decoder keeps it as columns itself (``decoders/_columns.py``), which cross
    as they are and are never rebuilt as records.
    """

    def __missing__(self, cls: type) -> Callable[[Any], tuple[Any, ...]]:
        reducer = _reducer(cls)
        if reducer is None:
            if issubclass(cls, type):  # a class object (of a metaclass): pickle saves it by name
                raise KeyError(cls)
            # What pickle does when the table has no entry, kept as the entry: a KeyError raised
            # and caught per object (parameter columns, datetimes: 10,500 in a shard's 9,100
            # exchanges of the 200k CWMP benchmark capture) was 7% of pickling them.
            reducer = _pickles_own
        self[cls] = reducer
        return reducer


def _pickles_own(obj: Any) -> Any:
    """Pickle's own reduction of an object the table has no reducer for."""
    return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


_PLAIN: set[type] = set()  # the dataclasses that pickle their own (slower) way


@dataclasses.dataclass(slots=True)
class _Codec:
    """How the objects of one dataclass cross: their fields in order, and which fields are
    tuples of such dataclasses that cross as columns (field index -> the codec of their class)."""

    cls: type
    get: Callable[[Any], tuple[Any, ...]]
    columns: dict[int, _Codec] = dataclasses.field(default_factory=dict)

    def pack(self, objs: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...] | None:
        """``objs`` as columns, one tuple per field; None unless every one is of this class
        (then the caller reduces them one by one: nothing is lost)."""
        if set(map(type, objs)) != {self.cls}:
            return None
        # (A class without fields has no columns to rebuild its objects from.)
        return tuple(zip(*map(self.get, objs), strict=True)) or None

    def unpack(self, cols: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
        return tuple(map(self.cls, *cols))


_CODECS: dict[type, _Codec | None] = {}


def _codec(cls: type) -> _Codec | None:
    """The codec of ``cls``; None for a class that cannot be rebuilt as ``cls(*fields)``."""
    if cls in _CODECS:
        return _CODECS[cls]
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        _CODECS[cls] = None
        return None
    fs = dataclasses.fields(cls)
    if any(not f.init or f.kw_only for f in fs):
        _CODECS[cls] = None
        return None
    if len(fs) > 1:
        get: Callable[[Any], tuple[Any, ...]] = attrgetter(*(f.name for f in fs))
    else:  # attrgetter of one name gives the value itself, not a 1-tuple (and of none fails)
        names = tuple(f.name for f in fs)

        def get(obj: Any) -> tuple[Any, ...]:
            return tuple(getattr(obj, n) for n in names)

    codec = _CODECS[cls] = _Codec(cls, get)  # in the table first: a class may hold its own kind
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve: no columns
        hints = {}
    for i, f in enumerate(fs):
        hint = hints.get(f.name)
        args = typing.get_args(hint)
        tuple_of = typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis
        if tuple_of and isinstance(args[0], type):
            sub = _codec(args[0])
            if sub is not None:
                codec.columns[i] = sub
    # Only records without such fields of their own cross as columns (so columns never nest):
    # packing a SyncML message's commands, which hold items, cost in Python what it saved.
    codec.columns = {i: sub for i, sub in codec.columns.items() if not sub.columns}
    return codec


def _rebuild(cls: type, values: tuple[Any, ...], packed: tuple[int, ...]) -> Any:
    """Unpickling: an object whose fields ``packed`` crossed as columns."""
    codec = _codec(cls)
    assert codec is not None
    columns = codec.columns
    vals = list(values)
    for i in packed:
        vals[i] = columns[i].unpack(vals[i])
    return cls(*vals)


def _reducer(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    codec = _codec(cls)
    if codec is None:
        if dataclasses.is_dataclass(cls):  # (an enum, say, pickles by name: nothing slow)
            _PLAIN.add(cls)
        return None
    get = codec.get
    if not codec.columns:

        def reduce(obj: Any) -> tuple[Any, ...]:
            return cls, get(obj)

        return reduce
    columns = codec.columns

    def reduce_columns(obj: Any) -> tuple[Any, ...]:
        values = get(obj)
        vals: list[Any] | None = None
        packed: list[int] = []
        for i, sub in columns.items():
            t = values[i]
            if t:
                p = sub.pack(t)
                if p is not None:
                    if vals is None:
                        vals = list(values)
                    vals[i] = p
                    packed.append(i)
        if vals is None:
            return cls, values
        return _rebuild, (cls, tuple(vals), tuple(packed))

    return reduce_columns


_REDUCERS = _Reducers()


def dumps(obj: object) -> bytes:
    """``obj`` pickled with the reducers above (records rebuilt by calling their class; their
    tuples of records as columns); ``pickle.loads`` reads it back."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(obj)
    return buf.getvalue()


class WorkerError(RuntimeError):
    """A worker process failed; the message says how."""


# What a worker is asked to do: (path, capture index, shard, nshards, max_body, keep_bodies,
# parse_protocols, TLS key material).
Job = tuple[Input, int, int, int, int, bool, bool, TlsKeySpec]


class WorkerPool:
    """Decoding workers, forked as soon as the command knows it will want them.

    The command forks them, and starts them on the first capture, before it loads the
    decoders, report writers and verifier: on the benchmark capture that start-up was a
    tenth of the run.  Records wait in the pipes (enlarged to 1 MiB, so the workers get
    well ahead) until :func:`run_sharded` claims them.  Each worker imports what its job
    needs itself.  Jobs run one after another, one per capture file; every worker
    decodes its shard of the same file.
    """

    def __init__(self, nshards: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.nshards = nshards
        self.broken = False
        # The job handed out and not yet claimed: (path, index, max_body, keep_bodies, parse_protocols, tls).
        self._started: tuple[Input, int, int, bool, bool, TlsKeySpec] | None = None
        self._jobs: list[Connection] = []
        self._results: list[Connection] = []
        self._procs: list[multiprocessing.process.BaseProcess] = []
        for shard in range(nshards):
            job_recv, job_send = ctx.Pipe(duplex=False)
            result_recv, result_send = ctx.Pipe(duplex=False)
            if _F_SETPIPE_SZ is not None:
                with contextlib.suppress(OSError):  # capped by /proc/sys/fs/pipe-max-size
                    fcntl.fcntl(result_recv.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
            # The child closes every end that is not its own, so that it sees EOF on its
            # job pipe when this process goes away, however it goes.
            others = [job_send, result_recv, *self._jobs, *self._results]
            proc = ctx.Process(target=_serve, name=f"dmsniff-shard-{shard}", daemon=True,
                               args=(job_recv, result_send, others))
            proc.start()
            job_recv.close()
            result_send.close()
            self._jobs.append(job_send)
            self._results.append(result_recv)
            self._procs.append(proc)

    @property
    def busy(self) -> bool:
        """A job was started and its records have not been claimed."""
        return self._started is not None

    def start(self, path: Input, index: int, max_body: int, keep_bodies: bool, parse_protocols: bool,
              tls: TlsKeySpec) -> None:
        """Hand every worker its shard of ``path`` (capture number ``index``)."""
        self._started = (path, index, max_body, keep_bodies, parse_protocols, tls)
        for shard, pipe in enumerate(self._jobs):
            try:
                pipe.send((path, index, shard, self.nshards, max_body, keep_bodies, parse_protocols, tls))
            except OSError:  # BrokenPipeError: it died while idle (killed, out of memory)
                self.broken = True
                raise WorkerError(f"decoding worker {shard} is gone") from None

    def claim(self, path: Input, index: int, max_body: int, keep_bodies: bool,
              parse_protocols: bool, tls: TlsKeySpec) -> list[Connection] | None:
        """The result pipes of the started job if it decodes exactly this (bodies kept
        if they are needed); None otherwise."""
        started = self._started
        if (started is None or started[:3] != (path, index, max_body) or started[4] != parse_protocols
                or (keep_bodies and not started[3]) or started[5] != tls):
            return None
        self._started = None
        return self._results

    def close(self, kill: bool = False) -> None:
        """Let idle workers exit; kill them after a failure or with a job unclaimed."""
        kill = kill or self.broken or self.busy
        if not kill:
            for pipe in self._jobs:
                with contextlib.suppress(OSError):
                    pipe.send(None)
        for pipe in (*self._jobs, *self._results):
            pipe.close()
        for proc in self._procs:
            if kill:
                proc.kill()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._procs.clear()


def _serve(jobs: Connection, results: Connection, others: list[Connection]) -> None:
    """A worker's life: decode one job after another until told to stop."""
    for pipe in others:
        pipe.close()
    try:
        while True:
            try:
                job: Job | None = jobs.recv()
            except (EOFError, KeyboardInterrupt):  # the main process is gone, or Ctrl-C while idle
                return
            if job is None:
                return
            _drive_shard(*job, results)
    finally:
        results.close()


def drop_bodies(item: Item) -> None:
    """Forget the body bytes of an exchange that crosses to another process when nothing needs them."""
    tx = item[1]
    if type(tx) is Transaction:
        for msg in (tx.request, tx.response, *tx.interim):
            if msg is not None:
                msg.drop_bodies()


def _drive_shard(path: Input, index: int, shard: int, nshards: int, max_body: int, keep_bodies: bool,
                 parse_protocols: bool, tls: TlsKeySpec, pipe: Connection) -> None:
    batch: list[Item] = []

    def out(item: Item) -> None:
        if not keep_bodies:
            drop_bodies(item)
        batch.append(item)
        if len(batch) >= BATCH:
            pipe.send_bytes(dumps(("items", batch)))
            batch.clear()

    try:
        with open_input(path) as cap:
            driver = FrameDriver(index, out, max_body=max_body, shard=shard, nshards=nshards,
                                 parse_protocols=parse_protocols, keys=_key_store(tls) if tls else None,
                                 by_hosts=bool(tls), info=cap.info)
            settle_heap()  # after the driver has imported what it needs
            pass_others_over(cap, driver)
            driver.run(_reporting(cap, pipe) if shard == 0 else cap, cap.info)
            summary = driver.summary(cap.info)
        if batch:
            pipe.send_bytes(dumps(("items", batch)))
        pipe.send_bytes(dumps(("end", summary)))
    except BaseException as exc:  # report, never hang the parent
        with contextlib.suppress(Exception):
            pipe.send_bytes(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))


def pass_others_over(cap: CaptureFile | MergedCapture, driver: FrameDriver) -> None:
    """Have the reader of a shard's worker pass over the frames its driver would pass over (the
    other shards' TCP segments on the fast path) without making frames of them."""
    if driver.dissector.sharded and isinstance(cap, CaptureFile):
        cap.pass_over = driver.dissector


def _reporting(cap: CaptureFile | MergedCapture, pipe: Connection) -> Iterator[Frame]:
    """The frames of ``cap``, telling the parent how far the file has been read (for its progress
    display) a few times a second."""
    next_report = 0.0
    info = cap.info
    for n, frame in enumerate(cap, 1):
        yield frame
        if not n & 1023:
            now = time.monotonic()
            if now >= next_report:
                next_report = now + 0.25
                # (the packets read, not the frames seen here: the reader passes over some)
                pipe.send_bytes(pickle.dumps(("progress", (cap.position, info.packets))))
    pipe.send_bytes(pickle.dumps(("progress", (cap.position, info.packets))))


def _key_store(tls: TlsKeySpec) -> Callable[[], CaptureKeys]:
    """The worker's key store, made from the job's key material when its capture first meets TLS."""

    def make() -> CaptureKeys:
        from dmsniff.net.tls import CaptureKeys

        return CaptureKeys(tls)

    return make


def _stream(pipe: Connection, shard: int, summaries: dict[int, CaptureSummary],
            progress: Progress | None = None) -> Iterator[Item]:
    while True:
        try:
            kind, payload = pickle.loads(pipe.recv_bytes())
        except EOFError:
            raise WorkerError(f"decoding worker {shard} stopped unexpectedly") from None
        if kind == "items":
            yield from payload
        elif kind == "progress":
            if progress is not None:
                progress.advance(*payload)
        elif kind == "end":
            summaries[shard] = payload
            return
        else:
            raise WorkerError(f"decoding worker {shard} failed: {payload}")


def run_sharded(pipeline: Pipeline, path: Input, cap: CaptureFile | MergedCapture) -> CaptureSummary:
    """Decode ``path`` with ``pipeline.jobs`` worker processes; feed ``pipeline``'s addons.

    Uses the pipeline's :class:`WorkerPool` when it has one of the right size, else forks
    workers for this file alone.
    """
    info = cap.info
    # The addons may want the capture's start time while records stream in (relative
    # times in the text report): read the first frame here.
    next(iter(cap), None)
    index = pipeline.begin_capture(info)
    nshards = pipeline.jobs
    job = (path, index, pipeline.max_body, pipeline.hooks.keep_bodies, pipeline.parse_protocols,
           pipeline.tls_keys)
    pool = pipeline.pool
    pipes = None
    if pool is not None and pool.nshards == nshards and not pool.broken:
        pipes = pool.claim(*job)  # started early by the command for this very capture?
        if pipes is None and not pool.busy:
            pool.start(*job)
            pipes = pool.claim(*job)
        elif pipes is None:  # busy with another capture: stop it, it is of no use now
            pool.broken = True
            pool.close(kill=True)
    own = pipes is None
    if own:
        pool = WorkerPool(nshards)
        pool.start(*job)
        pipes = pool.claim(*job)
    assert pool is not None and pipes is not None
    summaries: dict[int, CaptureSummary] = {}
    dispatch = pipeline.hooks.record
    done = False
    try:
        streams = [_stream(p, k, summaries, pipeline.progress) for k, p in enumerate(pipes)]
        for item in heapq.merge(*streams, key=itemgetter(0)):
            dispatch(item)
        done = True
    finally:
        if not done:  # the workers may be stuck mid-stream: this pool is finished
            pool.broken = True
            pool.close(kill=True)
        elif own:
            pool.close()
    return pipeline.end_capture(_combine(info, summaries))


# Counters kept per connection, so each shard has its share; the rest (packet and IP
# level) every shard counts in full.
_PER_CONNECTION = ("tcp_gaps", "tcp_gap_bytes", "tcp_conflicting_retransmissions", "tcp_segments_after_close",
                   "http_bytes_outside_messages", "tls_connections", "tls_connections_decrypted",
                   "tls_opaque_bytes")


def _combine(info: CaptureInfo, summaries: dict[int, CaptureSummary]) -> CaptureSummary:
    """Shard 0's view of the capture, with the per-connection counts added up."""
    first = summaries[0]
    shards = summaries.values()
    _copy_info(first.info, info)
    counters: dict[str, Any] = dict(first.counters)
    for name in _PER_CONNECTION:
        counters[name] = sum(s.counters[name] for s in shards)
    return CaptureSummary(
        index=first.index, info=info, tcp_connections=sum(s.tcp_connections for s in shards),
        http_connections=sum(s.http_connections for s in shards),
        http_transactions=sum(s.http_transactions for s in shards),
        udp_datagrams=first.udp_datagrams, counters=counters,
    )


def _copy_info(src: CaptureInfo, dst: CaptureInfo) -> None:
    dst.packets = src.packets
    dst.link_types[:] = src.link_types
    dst.first_time = src.first_time
    dst.last_time = src.last_time
    dst.errors[:] = src.errors
    dst.parts[:] = src.parts
