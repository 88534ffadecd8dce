"""Benchmark batch runs on a Dask cluster against one process: many captures, one report.

Run by hand (it needs the cluster extra: pip install 'dmsniff[cluster]'):

    python benchmarks/bench_cluster.py [--captures 20] [--packets 200000] [--workers 2] [--repeat 1]
                                       [--workdir DIR] [--keep]

gencap.py writes ``--captures`` captures of ``--packets`` packets (different seeds).  Then, in
turn, ``--repeat`` times each:

    dmsniff report -j 1 --format jsonl -o OUT1 CAPTURES...                  one process, serial
    dmsniff report --cluster local:N --format jsonl -o OUT2 CAPTURES...     a LocalCluster of N workers

and prints the median wall times, the speed-up (target: at least 1.7x with 2 workers), and
checks the two reports are byte-identical.  Each command runs in a small wrapper that reports the
CPU time of its own process (the client: merging, sessions, verification, writing) and of its
children (the cluster's worker and nanny processes), so the client's share of the work is measured,
not guessed.  It also measures the per-task overhead of the cluster (a round of empty tasks), from
which the scaling to N machines can be estimated: wall ≈ max(worker CPU / workers, client CPU) +
tasks × overhead / workers.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _noop(x: int) -> int:
    return x


def task_overhead(workers: int, tasks: int = 400) -> float:
    """Seconds per task for empty tasks on a LocalCluster: scheduling, transfer, bookkeeping."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cl, Client(cl) as client:
        client.gather(client.map(_noop, range(workers * 4), pure=False))  # warm up
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(tasks), pure=False))
        return (time.perf_counter() - t0) * workers / tasks


# Decodes one capture as one cluster task does, after a line on stdin (so that processes started
# together decode together), and prints the seconds it took.
_TASK = """
import sys, time
from dmsniff.pipeline.cluster import decode_task
from dmsniff.net.http import DEFAULT_MAX_BODY
decode_task(sys.argv[2], 0, 0, 1, DEFAULT_MAX_BODY, False, True, None)  # a small capture: imports, first task
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
decode_task(sys.argv[1], 0, 0, 1, DEFAULT_MAX_BODY, False, True, None)
print(time.perf_counter() - t0, flush=True)
"""


def task_seconds(capture: str, processes: int, env: dict[str, str]) -> list[float]:
    """Seconds each of ``processes`` processes took to decode ``capture``, started together."""
    warm = str(ROOT / "captures" / "cwmp_loopback.pcap")
    procs = [subprocess.Popen([sys.executable, "-c", _TASK, capture, warm], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(processes)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        return [float(p.communicate()[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


# Runs dmsniff's CLI and prints, last on stderr, the CPU seconds of this process and of its children.
_WRAPPER = """
import json, resource, sys
from dmsniff.cli import main
code = main(sys.argv[1:])
who = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
cpu = [r.ru_utime + r.ru_stime for r in map(resource.getrusage, who)]
print(json.dumps({"cpu": cpu}), file=sys.stderr)
sys.exit(code)
"""


@dataclass
class Run:
    wall: float
    client_cpu: float  # the dmsniff process itself
    worker_cpu: float  # its children: the cluster's workers and nannies (nothing for -j 1)


def run(args: list[str], env: dict[str, str]) -> Run:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], check=True, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    own, children = json.loads(done.stderr.strip().splitlines()[-1])["cpu"]
    return Run(wall, own, children)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", type=int, default=20)
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dmsniff-bench-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    dmsniff = ["report", "--format", "jsonl", "--quiet"]
    try:
        caps = []
        for i in range(args.captures):
            path = work / f"cap{i:02d}.pcap"
            if not path.exists():
                subprocess.run([sys.executable, str(HERE / "gencap.py"), str(path), "--packets",
                                str(args.packets), "--seed", str(100 + i)], check=True, capture_output=True)
            caps.append(str(path))
        size = sum(os.path.getsize(c) for c in caps)
        print(f"{args.captures} captures of {args.packets:,} packets, {size / 1e6:,.0f} MB", file=sys.stderr)
        serial_out, cluster_out = work / "serial.jsonl", work / "cluster.jsonl"
        serial: list[Run] = []
        cluster: list[Run] = []
        for r in range(args.repeat):
            order = ("serial", "cluster") if r % 2 == 0 else ("cluster", "serial")
            for which in order:
                if which == "serial":
                    serial.append(run([*dmsniff, "-j", "1", "-o", str(serial_out), *caps], env))
                else:
                    cluster.append(run([*dmsniff, "--cluster", f"local:{args.workers}", "-o",
                                        str(cluster_out), *caps], env))
                got = (serial if which == "serial" else cluster)[-1]
                print(f"  run {r + 1}: {which} {got.wall:.1f} s (CPU: client {got.client_cpu:.1f} s, "
                      f"workers {got.worker_cpu:.1f} s)", file=sys.stderr)
        same = filecmp.cmp(serial_out, cluster_out, shallow=False)
        alone: list[float] = []
        together: list[float] = []
        for r in range(args.repeat):
            for which in ("alone", "together") if r % 2 == 0 else ("together", "alone"):
                if which == "alone":
                    alone.extend(task_seconds(caps[0], 1, env))
                else:
                    together.append(max(task_seconds(caps[0], args.workers, env)))
                print(f"  ceiling run {r + 1}: {which} {(alone if which == 'alone' else together)[-1]:.2f} s",
                      file=sys.stderr)
        t1, tn = statistics.median(alone), statistics.median(together)
        ceiling = args.workers * t1 / tn
        overhead = task_overhead(args.workers)
        s, c = statistics.median(r.wall for r in serial), statistics.median(r.wall for r in cluster)
        s_cpu = statistics.median(r.client_cpu for r in serial)
        c_client = statistics.median(r.client_cpu for r in cluster)
        c_workers = statistics.median(r.worker_cpu for r in cluster)
        sys.path.insert(0, str(ROOT))
        from dmsniff.pipeline.cluster import shard_plan

        tasks = sum(shard_plan([os.path.getsize(cap) for cap in caps], args.workers))
        print(f"\n# bench_cluster: {args.captures} × {args.packets:,} packets ({size / 1e6:,.0f} MB), "
              f"LocalCluster of {args.workers} worker processes, medians of {args.repeat}")
        print(f"one process (-j 1): {s:.1f} s; cluster: {c:.1f} s; speed-up {s / c:.2f}× "
              f"(target ≥ 1.7× with 2 workers); reports identical: {same}")
        print(f"this machine's ceiling: one task {t1:.2f} s alone, {tn:.2f} s with {args.workers} at once: "
              f"{ceiling:.2f}× for perfectly parallel work; the cluster reached {s / c / ceiling:.0%} of it")
        print(f"CPU: one process {s_cpu:.1f} s; cluster run {c_client + c_workers:.1f} s = client "
              f"{c_client:.1f} s ({c_client / s_cpu:.0%} of the one-process CPU) + workers {c_workers:.1f} s")
        print(f"per-task overhead (empty tasks): {overhead * 1000:.1f} ms of a worker; "
              f"{tasks} decode tasks here cost ~{tasks * overhead / args.workers:.2f} s of wall in overhead")
        # More machines share the workers' CPU; the client's (merge, sessions, verification,
        # writing: in input order, one process) does not shrink.
        scale = ", ".join(f"{n}: {s / (max(c_workers / n, c_client) + tasks * overhead / n):.1f}×"
                          for n in (args.workers, 4, 8, 16))
        print(f"N workers with a core each, the client on its own (wall ≈ max(workers' CPU / N, client CPU) "
              f"+ tasks × overhead / N, from this run): {scale}; at most {s / c_client:.1f}× however many, "
              "set by the client")
        return 0 if same else 1
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
