"""Decoding on a Dask cluster gives the report of one process, byte for byte, whatever happens to a worker.

The clusters are real: ``distributed.LocalCluster`` with worker processes (``--cluster local:2``
is one), so tasks, their pickled results and the scheduler's retries are exercised as on a
cluster of machines sharing a file system.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask distributed) is missing")
import dask  # noqa: E402

from benchmarks.gencap import main as gencap  # noqa: E402
from dmsniff.chain import addon_chain  # noqa: E402
from dmsniff.cli import main  # noqa: E402
from dmsniff.pipeline import Pipeline  # noqa: E402
from dmsniff.pipeline.cluster import _shards, run_on_cluster, shard_plan  # noqa: E402
from dmsniff.report import JsonLinesReport  # noqa: E402
from dmsniff.verify.secrets import Secrets  # noqa: E402
from dmsniff.verify.verifier import Verifier  # noqa: E402
from tests.conftest import CAPTURES, CORPUS  # noqa: E402


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two captures over the 8 MiB line (decoded in shards) and one under it."""
    d = tmp_path_factory.mktemp("cluster")
    out = []
    for seed, packets in ((1, 14000), (2, 14000), (3, 3000)):
        path = d / f"gen{seed}.pcap"
        gencap([str(path), "--packets", str(packets), "--seed", str(seed)])
        out.append(path)
    return out


def _report(args: list[str], tmp: Path, name: str) -> str:
    out = tmp / name
    assert main(["report", "--format", "json", "-o", str(out), *args]) == 0
    return out.read_text()


def _plan(inputs: list[str], workers: int = 2) -> list[int]:
    return shard_plan([os.path.getsize(p) for p in inputs], workers)


def test_local_cluster_report_equals_one_process(big: list[Path], tmp_path: Path) -> None:
    inputs = [str(CAPTURES / "cwmp_loopback.pcap"), str(big[0]), str(CAPTURES / "omadm_loopback.pcap"),
              str(big[1]), str(CAPTURES / "tls12_loopback.pcap"), str(big[2])]
    assert _plan(inputs) == [1] * 6  # captures enough for two workers: one task each, none split
    keys = ["--keylog", str(CAPTURES / "tls12_loopback.keys")]
    serial = _report(["-j", "1", *keys, *inputs], tmp_path, "serial.json")
    cluster = _report(["--cluster", "local:2", *keys, *inputs], tmp_path, "cluster.json")
    assert cluster == serial
    doc = json.loads(cluster)
    assert len(doc["captures"]) == 6 and len(doc["transactions"]) > 1000 and doc["sessions"]


def test_large_captures_split_in_shards_give_the_same_report(big: list[Path], tmp_path: Path) -> None:
    """Too few captures for two workers: the ones over the line are decoded in flow-hash shards."""
    inputs = [str(big[0]), str(CAPTURES / "cwmp_loopback.pcap"), str(big[1])]
    plan = _plan(inputs)
    assert plan[0] > 1 and plan[2] > 1 and plan[1] == 1
    serial = _report(["-j", "1", *inputs], tmp_path, "serial.json")
    assert _report(["--cluster", "local:2", *inputs], tmp_path, "cluster.json") == serial


def test_a_filtered_report_on_the_cluster_is_the_one_of_one_process(big: list[Path], tmp_path: Path) -> None:
    """-Y reads the captures twice: both passes on the cluster give the -j 1 report."""
    inputs = [str(big[2]), str(CAPTURES / "omadm_loopback.pcap"), str(big[0])]
    opts = ["-Y", "status:4xx or fault:", *inputs]
    serial = _report(["-j", "1", *opts], tmp_path, "serial.json")
    assert _report(["--cluster", "local:2", *opts], tmp_path, "cluster.json") == serial
    doc = json.loads(serial)
    assert doc["sessions"] and all(s["id"].startswith(("S", "D")) for s in doc["sessions"])


def test_logs_among_the_captures_are_read_here_in_their_turn(big: list[Path], tmp_path: Path) -> None:
    """A HAR, a GenieACS debug log and a folder of messages between captures: numbered and read in
    the order given, as one process reads them (a log first, before any task is done, too)."""
    logs = Path(__file__).parent / "logs" / "data"
    inputs = [str(logs / "chromium.har"), str(CAPTURES / "cwmp_loopback.pcap"), str(big[2]),
              str(logs / "genieacs-debug.jsonl"), str(CORPUS / "cwmp" / "sessions" / "freeacs-discover"),
              str(CAPTURES / "omadm_loopback.pcap")]
    serial = _report(["-j", "1", *inputs], tmp_path, "serial.json")
    assert _report(["--cluster", "local:2", *inputs], tmp_path, "cluster.json") == serial
    doc = json.loads(serial)
    assert [c["format"] for c in doc["captures"]] == ["har", "pcap", "pcap", "genieacs-log", "folder", "pcap"]


def test_shard_plan() -> None:
    mib = 1 << 20
    # Many captures of a size: one task each, whatever their size.
    assert shard_plan([174 * mib] * 20, 2) == [1] * 20
    assert shard_plan([174 * mib] * 4, 2) == [1] * 4
    # Fewer captures than two per worker: the large ones are split as the -j workers split them.
    assert shard_plan([174 * mib, 174 * mib, mib], 2) == [_shards(174 * mib, 2), _shards(174 * mib, 2), 1]
    assert _shards(174 * mib, 2) == 4
    # One capture over a worker's whole share is split among many.
    assert shard_plan([600 * mib, *[10 * mib] * 20], 2) == [_shards(600 * mib, 2), *[1] * 20]
    assert shard_plan([], 2) == []
    assert shard_plan([mib] * 3, 4) == [1] * 3  # under the line: never split


def test_an_unreadable_input_is_reported_and_the_rest_kept(big: list[Path], tmp_path: Path) -> None:
    missing = tmp_path / "missing.pcap"
    args = [str(CAPTURES / "cwmp_loopback.pcap"), str(missing), str(big[2])]
    out = tmp_path / "r.jsonl"
    code = main(["report", "--cluster", "local:2", "--format", "jsonl", "-o", str(out), *args])
    assert code == 1  # some inputs could not be read
    serial = tmp_path / "s.jsonl"
    assert main(["report", "-j", "1", "--format", "jsonl", "-o", str(serial), *args]) == 1
    assert out.read_text() == serial.read_text()


def _local(n: int) -> distributed.LocalCluster:
    return distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)


def _pipeline(buf: io.StringIO) -> Pipeline:
    return Pipeline(addon_chain(Verifier(Secrets()), last=[JsonLinesReport(buf)]))


@pytest.mark.parametrize("split", [True, False], ids=["shards", "whole-captures"])
def test_a_worker_killed_mid_run_still_gives_the_whole_report(big: list[Path], split: bool) -> None:
    inputs: list[str | tuple[str, ...]] = [str(p) for p in (big if split else [*big, big[0]])]
    assert (max(_plan([str(p) for p in inputs])) > 1) is split
    serial = io.StringIO()
    _pipeline(serial).run_files(inputs)
    cluster = _local(2)
    client = distributed.Client(cluster)
    killed: list[int] = []

    def kill_one() -> None:  # once the first task is running, kill that worker's process outright
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, 9)
                killed.append(pid)
                return
            time.sleep(0.01)

    try:
        threading.Thread(target=kill_one, daemon=True).start()
        buf = io.StringIO()
        results = run_on_cluster(_pipeline(buf), inputs, "local:2", client=client)
    finally:
        client.close()
        cluster.close()
    assert killed, "no worker was killed: the test proves nothing"
    assert all(not isinstance(r, Exception) for r in results)
    assert buf.getvalue() == serial.getvalue()


def test_a_capture_whose_task_fails_every_time(big: list[Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The client sees the file, the workers do not (a relative path, and the workers started in another
    folder): every try fails, the capture is reported as unreadable, the other inputs are all there."""
    here = tmp_path / "client"
    here.mkdir()
    (here / "only-here.pcap").write_bytes((CAPTURES / "cwmp_loopback.pcap").read_bytes())
    cluster = _local(1)
    client = distributed.Client(cluster)
    try:
        monkeypatch.chdir(here)
        buf = io.StringIO()
        results = run_on_cluster(_pipeline(buf), [str(big[2]), "only-here.pcap"], "local:1", client=client)
    finally:
        client.close()
        cluster.close()
    assert not isinstance(results[0], Exception)
    assert isinstance(results[1], Exception) and "failed on every try" in str(results[1])
    recs = [json.loads(line) for line in buf.getvalue().splitlines()]
    failed = [r for r in recs if r["type"] == "capture" and r["path"] == "only-here.pcap"]
    assert failed and "failed on every try" in failed[0]["errors"][0]


def test_a_task_returns_its_records_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # A task pickles as it decodes (it never holds a whole capture's records); the merging
    # process reads the batches back one at a time, in order, and the summary last.
    import pickle

    from dmsniff.capture import open_capture
    from dmsniff.net.tls_keys import TlsKeySpec
    from dmsniff.pipeline import FrameDriver, Item
    from dmsniff.pipeline import cluster as cl
    from dmsniff.pipeline.parallel import drop_bodies

    path = str(CAPTURES / "cwmp_loopback.pcap")
    whole: list[Item] = []
    with open_capture(path) as cap:
        FrameDriver(0, whole.append).run(cap, cap.info)
    for item in whole:
        drop_bodies(item)
    monkeypatch.setattr(cl, "TASK_BATCH", 7)
    batches = cl.decode_task(path, 0, 0, 1, 1 << 20, False, True, TlsKeySpec())
    summary = pickle.loads(batches.pop())
    assert summary.info.packets > 0
    assert len(batches) == -(-len(whole) // 7) > 2
    assert list(cl._unpickled(batches)) == whole
    assert batches == []  # each batch let go once read


def test_a_local_clusters_workers_yield_to_the_merging_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # --cluster local:N: the workers' threads, the one that runs tasks included, run WORKER_NICE
    # lower than this process, so the merge in capture order is not starved by its own workers.
    from dmsniff.pipeline.cluster import WORKER_NICE, connect

    ours = os.getpriority(os.PRIO_PROCESS, 0)
    own_setting = dask.config.get("distributed.worker.profile.enabled")
    own_trim = dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_")
    # (a nanny runs in this process and leaves what it sets in os.environ, for workers forked later)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    client = connect("local:1")
    try:
        on_loop = list(client.run(os.getpriority, os.PRIO_PROCESS, 0).values())
        in_task = client.submit(os.getpriority, os.PRIO_PROCESS, 0, pure=False).result()
        # Nor does a profiler sampling the task's stack (for a dashboard nobody looks at) take the
        # GIL from it every 10 ms; this process's own setting is left as it was.
        profiling = list(client.run(_worker_profiling).values())
        # Nor does a nanny set MALLOC_TRIM_THRESHOLD_ for its worker (Dask's default 65536): a
        # worker's allocator is this process's, not one that hands pages back to refault them.
        trim = list(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values())
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert on_loop == [min(19, ours + WORKER_NICE)]
    assert in_task == min(19, ours + WORKER_NICE)
    assert profiling == [(False, False)]
    assert trim == [None]
    assert dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_") == own_trim
    assert dask.config.get("distributed.worker.profile.enabled") == own_setting


def _worker_profiling(dask_worker: Any) -> tuple[bool, bool]:
    """(the worker's setting, whether it has a profiling callback running)."""
    callback = dask_worker.periodic_callbacks.get("profile")
    return dask.config.get("distributed.worker.profile.enabled"), bool(callback and callback.is_running())


class _SeededNanny(distributed.Nanny):
    """A nanny that starts its worker with a hash seed of its own (a nanny's default is one seed for all).

    A nanny puts its ``pre_spawn_env`` into this process's ``os.environ`` and then awaits the
    worker's start: two nannies starting at once (a SpecCluster starts them together) race, and
    both workers may get the seed written last.  So these start their workers one at a time.
    """

    _starting: asyncio.Lock | None = None  # (made in the cluster's event loop, by the first nanny)

    def __init__(self, *args: Any, seed: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pre_spawn_env = {**self.pre_spawn_env, "PYTHONHASHSEED": seed}  # read when the worker starts

    async def instantiate(self) -> Any:
        if _SeededNanny._starting is None:
            _SeededNanny._starting = asyncio.Lock()
        async with _SeededNanny._starting:
            return await super().instantiate()


def test_shard_tasks_on_workers_with_other_hash_seeds_follow_every_connection_once(big: list[Path]) -> None:
    """Workers started without a nanny keep their own hash seed (Dask's nannies give all of theirs
    one): the shards of a split capture must still share out its connections exactly.  With shards
    taken from hash(), one 14k-packet capture split in two between interpreters of seeds 1 and 2
    lost 372 of its 1,301 exchanges and had 319 twice; this test's report had 8,545 lines where one
    process writes 7,981."""
    inputs: list[str | tuple[str, ...]] = [str(p) for p in big]
    assert max(_plan([str(p) for p in inputs])) > 1  # split in shards, on two workers
    serial = io.StringIO()
    _pipeline(serial).run_files(inputs)
    workers = {f"seed{seed}": {"cls": _SeededNanny, "options": {"nthreads": 1, "seed": seed}}
               for seed in "12"}
    _SeededNanny._starting = None  # (a lock of this cluster's event loop)
    cluster = distributed.SpecCluster(
        scheduler={"cls": distributed.Scheduler, "options": {"dashboard_address": None}}, workers=workers)
    client = distributed.Client(cluster)
    try:
        hashes = client.run(lambda: hash(b"\x0a\x00\x00\x01"))
        assert len(set(hashes.values())) == 2  # the two workers' hash() do differ
        buf = io.StringIO()
        results = run_on_cluster(_pipeline(buf), inputs, "(spec)", client=client)
    finally:
        client.close()
        cluster.close()
    assert all(not isinstance(r, Exception) for r in results)
    got, want = buf.getvalue().splitlines(), serial.getvalue().splitlines()
    same = got == want  # (not compared in the assert: pytest's diff of two large reports takes minutes)
    first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                 min(len(got), len(want)))
    assert same, f"{len(got)} lines against {len(want)} in one process; the first difference at line {first}"


def test_a_cluster_that_cannot_be_used_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    capture = str(CAPTURES / "cwmp_loopback.pcap")
    for address, says in (("local:x", "wants a number of workers, not 'x'"),
                          ("local:0", "wants at least one worker")):
        assert main(["report", "--cluster", address, capture]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Nanny failed to start.")

    # What a script without the __main__ guard meets: its workers' processes fail to start.
    monkeypatch.setattr(distributed, "LocalCluster", refuse)
    assert main(["report", "--cluster", "local:2", capture]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dmsniff: error: cannot start a local cluster of 2 worker processes "
                          "(Nanny failed to start.)")
    assert "__main__" in err and err.count("\n") == 1 and "internal error" not in err
