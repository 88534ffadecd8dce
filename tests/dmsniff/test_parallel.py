"""Decoding a capture with several worker processes gives exactly the single-process report."""

from __future__ import annotations

import enum
import heapq
import os
import pickle
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gencap import main as gencap
from dmsniff.capture import open_capture
from dmsniff.cli import main
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import PARALLEL_MIN_BYTES, CaptureSummary, FrameDriver, Item, parallel
from dmsniff.pipeline.parallel import _PLAIN, WorkerError, WorkerPool, _stream, dumps

NO_KEYS = TlsKeySpec()


def test_parallel_report_is_identical(tmp_path: Path) -> None:
    cap = tmp_path / "mixed.pcap"
    gencap([str(cap), "--packets", "14000", "--seed", "3"])
    assert cap.stat().st_size >= PARALLEL_MIN_BYTES  # or the parallel path would not run
    outputs = []
    for jobs in ("1", "2", "3"):
        for fmt in ("jsonl", "text"):
            out = tmp_path / f"r{jobs}.{fmt}"
            assert main(["report", "-j", jobs, "--format", fmt, "-o", str(out), str(cap)]) == 0
            outputs.append((fmt, out.read_text()))
    by_format: dict[str, set[str]] = {}
    for fmt, text in outputs:
        by_format.setdefault(fmt, set()).add(text)
    assert all(len(v) == 1 for v in by_format.values())
    jsonl = by_format["jsonl"].pop()
    assert jsonl.count('"type":"transaction"') > 1000

    # --http-only (no protocol decoding in the workers) too.
    only = set()
    for jobs in ("1", "2"):
        out = tmp_path / f"h{jobs}.jsonl"
        assert main(["report", "-j", jobs, "--http-only", "--format", "jsonl", "-o", str(out), str(cap)]) == 0
        only.add(out.read_text())
    assert len(only) == 1
    assert only.pop().count('"type":"transaction"') == jsonl.count('"type":"transaction"')


CAPTURES = Path(__file__).resolve().parents[2] / "captures"


@pytest.mark.parametrize("name", ["cwmp_loopback.pcap", "omadm_loopback.pcap", "digest_loopback.pcap"])
def test_records_cross_the_pipe_unchanged(name: str) -> None:
    # Workers pickle with a dispatch table that rebuilds dataclasses by calling the
    # class; every record type of our captures must come back equal, and none may fall
    # back to dataclasses' own (slow) __setstate__.
    items: list[Item] = []
    with open_capture(str(CAPTURES / name)) as cap:
        FrameDriver(0, items.append).run(cap, cap.info)
    assert items
    assert pickle.loads(dumps(items)) == items
    ours = {t for t in _PLAIN if t.__module__.startswith(("dmsniff", "decoders"))}
    assert not ours


@pytest.fixture(scope="module")
def big_captures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("big")
    a, b = d / "a.pcap", d / "b.pcap"
    gencap([str(a), "--packets", "12000", "--seed", "4"])
    gencap([str(b), "--packets", "12000", "--seed", "5"])
    assert min(a.stat().st_size, b.stat().st_size) >= PARALLEL_MIN_BYTES
    return a, b


def _report(tmp_path: Path, name: str, *args: str) -> tuple[int, str]:
    out = tmp_path / name
    status = main(["report", "--format", "jsonl", "-o", str(out), *args])
    return status, out.read_text()


def test_early_workers_serve_every_capture(tmp_path: Path, big_captures: tuple[Path, Path]) -> None:
    # The command starts the workers on the first capture before loading the rest;
    # the same workers then take the second one.
    a, b = (str(p) for p in big_captures)
    one = _report(tmp_path, "j1", "-j", "1", a, b)
    two = _report(tmp_path, "j2", "-j", "2", a, b)
    assert one == two
    assert one[0] == 0
    assert one[1].count('"type":"capture"') == 2


def test_early_job_for_an_unreadable_first_capture_is_dropped(tmp_path: Path,
                                                               big_captures: tuple[Path, Path]) -> None:
    # The workers were started on a file that turns out not to be a capture: its
    # (failed) job is not this pipeline's, so the next capture gets fresh workers.
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(bytes(range(256)) * (PARALLEL_MIN_BYTES // 256 + 1))
    a = str(big_captures[0])
    one = _report(tmp_path, "j1", "-j", "1", str(junk), a)
    two = _report(tmp_path, "j2", "-j", "2", str(junk), a)
    assert one == two
    assert one[0] == 1  # some captures failed
    assert one[1].count('"type":"transaction"') > 1000


def test_early_job_without_bodies_is_not_used_when_bodies_are_needed(big_captures: tuple[Path, Path]) -> None:
    pool = WorkerPool(1)
    try:
        pool.start("x.pcap", 0, 100, False, True, NO_KEYS)
        assert pool.claim("x.pcap", 0, 100, True, True, NO_KEYS) is None  # dropped bodies the verifier needs
        assert pool.claim("y.pcap", 0, 100, False, True, NO_KEYS) is None
        assert pool.claim("x.pcap", 1, 100, False, True, NO_KEYS) is None
        assert pool.claim("x.pcap", 0, 100, False, False, NO_KEYS) is None
        assert pool.busy
        assert pool.claim("x.pcap", 0, 100, False, True, NO_KEYS) is not None
        assert not pool.busy
        pool.start("x.pcap", 0, 100, True, True, NO_KEYS)
        assert pool.claim("x.pcap", 0, 100, False, True, NO_KEYS) is not None  # kept bodies do no harm
    finally:
        pool.close()
    assert pool.busy is False


def test_a_worker_that_dies_is_an_error_not_a_hang(big_captures: tuple[Path, Path]) -> None:
    path = str(big_captures[0])
    pool = WorkerPool(2)
    try:
        # Bodies kept: more records than the pipe holds, so worker 1 cannot have finished
        # (and sent its end) when it is killed.
        pool.start(path, 0, 1 << 20, True, True, NO_KEYS)
        pipes = pool.claim(path, 0, 1 << 20, True, True, NO_KEYS)
        assert pipes is not None
        pool._procs[1].kill()
        with pytest.raises(WorkerError, match="decoding worker 1 stopped unexpectedly"):
            for _ in _stream(pipes[1], 1, {}):
                pass
        summaries: dict[int, CaptureSummary] = {}
        assert sum(1 for _ in _stream(pipes[0], 0, summaries)) > 100  # the other one carries on
        assert 0 in summaries
        # Dead while idle: the next job cannot be handed out.
        pool._procs[1].join()
        with pytest.raises(WorkerError, match="decoding worker 1 is gone"):
            pool.start(path, 1, 1 << 20, True, True, NO_KEYS)
        assert pool.broken
    finally:
        pool.close()


def test_report_says_which_worker_died(tmp_path: Path, big_captures: tuple[Path, Path],
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    real = parallel._drive_shard

    def dying(*args: Any) -> None:
        if args[2] == 1:  # shard 1: gone, as if killed by the OOM killer
            os._exit(9)
        real(*args)

    monkeypatch.setattr(parallel, "_drive_shard", dying)
    status, _ = _report(tmp_path, "r", "-j", "2", str(big_captures[0]))
    assert status == 2
    assert capsys.readouterr().err == "dmsniff: error: decoding worker 1 stopped unexpectedly\n"


@dataclass(frozen=True, slots=True)
class _Leaf:
    name: str
    value: int | None


@dataclass(frozen=True, slots=True)
class _Other:
    name: str
    value: int | None


@dataclass(frozen=True, slots=True)
class _Empty:
    pass


@dataclass(frozen=True, slots=True)
class _Box:
    label: str
    leaves: tuple[_Leaf, ...] = ()
    empties: tuple[_Empty, ...] = ()


def test_tuples_of_records_cross_as_columns() -> None:
    from dmsniff.pipeline.parallel import _CODECS, _rebuild

    box = _Box("b", tuple(_Leaf(f"n{i}", i if i % 3 else None) for i in range(50)))
    data = dumps(box)
    assert pickle.loads(data) == box
    assert _rebuild.__name__.encode() in data  # the leaves crossed as columns ...
    assert b"_Leaf" not in data  # ... not one object after another (the codec names the class)
    codec = _CODECS[_Box]
    assert codec is not None
    assert {i: sub.cls for i, sub in codec.columns.items()} == {1: _Leaf, 2: _Empty}

    # Anything else in such a tuple (mypy would refuse it, a decoder never makes it) still
    # crosses, one object at a time; so do empty tuples.
    mixed = _Box("m", (_Leaf("a", 1), _Other("b", 2)))  # type: ignore[arg-type]
    for b in (mixed, _Box("e"), _Box("f", empties=(_Empty(), _Empty()))):
        again = pickle.loads(dumps(b))
        assert again == b and [type(x) for x in again.leaves] == [type(x) for x in b.leaves]


def test_parameter_lists_cross_as_columns() -> None:
    # A CWMP ParameterList is held as columns (ParameterValues): its three tuples of strings
    # cross as they are, with no record per value to reduce or to rebuild.
    import pickletools

    from decoders.cwmp import ParameterValue, ParameterValues
    from decoders.cwmp._records import GetParameterValuesResponse

    rpc = GetParameterValuesResponse(ParameterValues.of(ParameterValue(f"Device.X.{i}", str(i), "string")
                                                        for i in range(10)))
    data = dumps(rpc)
    again = pickle.loads(data)
    assert again == rpc and type(again.parameters) is ParameterValues
    assert again.parameters.names == tuple(f"Device.X.{i}" for i in range(10))
    # The class names pickle writes (SHORT_BINUNICODE, a length byte, the name): the list's, no value's.
    names = {arg for op, arg, _ in pickletools.genops(data) if op.name == "SHORT_BINUNICODE"}
    assert "ParameterValues" in names and "ParameterValue" not in names


class _Colour(enum.Enum):
    RED = 1


def _pickled_with_empty_table(obj: object) -> bytes:
    import io

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {}
    pickler.dump(obj)
    return buf.getvalue()


def test_what_has_no_reducer_pickles_as_pickle_itself_does() -> None:
    # The table keeps pickle's own reduction for such classes (so no KeyError per object): the
    # bytes must be those pickle writes when its table has no entry (then it does not look in
    # copyreg's either: complex), and a class object still goes by name.
    from datetime import UTC, datetime, timedelta, timezone

    from decoders.cwmp import ParameterValue, ParameterValues

    values = ParameterValues.of([ParameterValue("A", "1", "string")])
    things: list[Any] = [datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), timezone(timedelta(hours=2)),
                         timedelta(seconds=7), values, _Colour.RED, _Colour, enum.Enum, complex(1, 2), len,
                         pickle.dumps]
    for _ in range(2):  # the first time fills the table; the second reads what it kept
        for thing in things:
            data = dumps(thing)
            assert data == _pickled_with_empty_table(thing), thing
            assert pickle.loads(data) == thing
    # ... and each class has its entry now (a class object's metaclass has none: it goes by name)
    assert all(type(t) in parallel._REDUCERS for t in things if not isinstance(t, type))
    assert type(_Colour) not in parallel._REDUCERS


def _idle_capture(path: Path) -> Path:
    """Connections left open at the start, then 800 s of short exchanges: the first ones go idle
    for longer than IDLE_TIMEOUT and are closed by a sweep, mid-capture."""
    from scapy.utils import wrpcap

    from tests.builders import Conversation, request, response

    timed: list[tuple[float, Any]] = []
    for i in range(8):  # (eight client ports: both shards get some)
        c = Conversation(client=f"192.0.2.{10 + i}", cport=41000 + i)
        c.send(True, request(body=b"<x/>"))
        c.send(False, response(body=b"ok"))
        timed += [(0.01 * k, p) for k, p in enumerate(c.packets)]
    for i in range(40):
        c = Conversation(client=f"192.0.2.{100 + i}", cport=42000 + i)
        c.send(True, request(body=b"<y/>"))
        c.send(False, response(body=b"ok"))
        c.close()
        timed += [(1.0 + 20.0 * i + 0.001 * k, p) for k, p in enumerate(c.packets)]
    timed.sort(key=lambda tp: tp[0])
    for t, p in timed:
        p.time = 1_700_000_000 + t
    wrpcap(str(path), [p for _, p in timed])
    return path


def _decode_shard(path: Path, shard: int, nshards: int) -> list[Item]:
    """The records one FrameDriver following ``shard`` of ``nshards`` makes of the capture."""
    items: list[Item] = []
    with open_capture(str(path)) as cap:
        FrameDriver(0, items.append, shard=shard, nshards=nshards, info=cap.info).run(cap, cap.info)
    return items


def test_shards_sweep_idle_connections_where_one_process_does(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # A sweep closes the connections idle for over IDLE_TIMEOUT, and their records sort at the frame
    # of the sweep.  Sweeps come every SWEEP_EVERY TCP segments of the capture, counted alike by
    # every shard (each reads every frame), so a sharded decode puts them where one process does.
    from dmsniff.model import ConnectionEnd
    from dmsniff.net import tcp

    monkeypatch.setattr(tcp, "SWEEP_EVERY", 7)
    path = _idle_capture(tmp_path / "idle.pcap")

    one = _decode_shard(path, 0, 1)
    ends = [rec for _, rec in one if isinstance(rec, ConnectionEnd)]
    swept = [e for e in ends if e.time < 1_700_000_001 and not e.at_capture_end]
    assert len(swept) == 8 and len(ends) == 48  # the idle eight were closed mid-capture, by sweeps
    for nshards in (2, 3):
        shards = [_decode_shard(path, s, nshards) for s in range(nshards)]
        assert all(shards)
        merged = list(heapq.merge(*shards, key=itemgetter(0)))
        assert [key for key, _ in merged] == [key for key, _ in one]
        assert [rec for _, rec in merged] == [rec for _, rec in one]


def test_datagrams_are_spread_over_the_shards_like_connections(tmp_path: Path) -> None:
    # Each shard reports the datagrams whose 4-tuple hashes to it (not shard 0 all of them), and the
    # shards' records merged are one process's, datagrams in their frames' places.
    from benchmarks.gendm import main as gendm
    from dmsniff.model import Datagram

    path = tmp_path / "dm.pcap"
    gendm([str(path), "--packets", "6000", "--seed", "2"])

    one = _decode_shard(path, 0, 1)
    datagrams = [rec for _, rec in one if isinstance(rec, Datagram)]
    assert len(datagrams) > 50 and all(dg.protocol is not None for dg in datagrams)  # Pkg#0s, decoded
    ids = sorted(dg.id for dg in datagrams)
    for nshards in (2, 3):
        shards = [_decode_shard(path, s, nshards) for s in range(nshards)]
        mine = [[rec.id for _, rec in items if isinstance(rec, Datagram)] for items in shards]
        assert all(len(got) >= len(ids) // (2 * nshards) for got in mine), [len(got) for got in mine]
        assert sorted(i for got in mine for i in got) == ids
        merged = list(heapq.merge(*shards, key=itemgetter(0)))
        assert [key for key, _ in merged] == [key for key, _ in one]
        assert [rec for _, rec in merged] == [rec for _, rec in one]
