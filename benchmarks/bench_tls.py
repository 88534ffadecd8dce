"""Benchmark dmsniff's TLS decryption against tshark's, on a generated capture of real TLS.

Run by hand, never from the test suite (it needs tshark and takes a minute or two):

    python benchmarks/bench_tls.py [--mb 100] [--repeat 3] [--seed 1] [--workdir DIR] [--keep]

gentls.py writes a capture of ``--mb`` MB of HTTP carried by hundreds of TLS 1.2 and 1.3
connections (real OpenSSL peers in memory: ECDHE AES-GCM, ChaCha20, TLS 1.3 suites, some
resumptions), with its NSS key log.  Then, alternating, ``--repeat`` times each:

    dmsniff report --keylog KEYS --format jsonl -o /dev/null CAPTURE           the full report
    dmsniff report -j 1 --keylog KEYS --format jsonl -o /dev/null CAPTURE      the same in one process
    tshark -r CAPTURE -o tls.keylog_file:KEYS -Y http -T fields -e http.request.method

and prints the median wall time and worst peak RSS of each, the ratio tshark/dmsniff, and the
HTTP requests each found (they must be equal).  Targets: the full report at least 2x faster
than tshark's pass, peak RSS at most 100 MB.  Wall time and RSS are measured as in
bench_report.py (perf_counter around the child; the child's own ru_maxrss from os.wait4).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report as br
import gentls

TARGET_SPEEDUP = 2.0
TARGET_RSS_MB = 100.0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=100.0, help="MB of HTTP inside TLS (default 100)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--dmsniff", help="dmsniff command (default: this checkout, python -m dmsniff)")
    ap.add_argument("--tshark", default="tshark")
    args = ap.parse_args(argv)
    try:
        tools = br.find_tools(args)
    except br.Missing as exc:
        print(f"bench_tls: {exc}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dmsniff-bench-tls-"))
    work.mkdir(parents=True, exist_ok=True)
    cap, keys = work / f"tls{args.mb:g}.pcap", work / f"tls{args.mb:g}.keys"
    try:
        t0 = time.perf_counter()
        transcripts = gentls.benchmark_transcripts(args.mb, args.seed)
        lines: list[str] = []

        def keep_keys() -> Iterator[gentls.Transcript]:
            for t in transcripts:
                lines.append(t.keylog)
                yield t

        stats = gentls.write_pcap(cap, keep_keys())
        keys.write_text("".join(lines))
        print(f"generated {cap} ({cap.stat().st_size / 1e6:.1f} MB, {stats.connections} connections, "
              f"{stats.packets} packets) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        cmds = {
            "dmsniff": [*tools.dmsniff, "report", "--keylog", str(keys), "--format", "jsonl",
                        "-o", "/dev/null", str(cap)],
            "dmsniff -j1": [*tools.dmsniff, "report", "-j", "1", "--keylog", str(keys), "--format", "jsonl",
                            "-o", "/dev/null", str(cap)],
            "tshark": [*tools.tshark, "-r", str(cap), "-o", f"tls.keylog_file:{keys}", "-Y", "http", "-T",
                       "fields", "-e", "http.request.method"],
        }
        walls: dict[str, list[float]] = {k: [] for k in cmds}
        rss: dict[str, list[int]] = {k: [] for k in cmds}
        with tempfile.TemporaryFile() as err:
            order = list(cmds)
            for r in range(args.repeat):
                for name in order if r % 2 == 0 else reversed(order):
                    env = tools.env if name.startswith("dmsniff") else None
                    wall, peak, code = br.timed_run(cmds[name], env, err)
                    if code != 0:
                        print(f"bench_tls: {name} failed ({br._status(code)}):\n{br._tail(err)}",
                              file=sys.stderr)
                        return 2
                    walls[name].append(wall)
                    rss[name].append(peak)
                    print(f"  run {r + 1}: {name:<12} {wall:6.2f} s  {peak / 1e6:6.1f} MB", file=sys.stderr)
            to_stdout = [*cmds["dmsniff"][:-3], str(cap)]
            found_d, _ = br.count_output(to_stdout, tools.env, br.dmsniff_requests, err)
            found_t, _ = br.count_output(cmds["tshark"], None, br.tshark_methods, err)
        print(f"\n# bench_tls: {args.mb:g} MB of HTTP in TLS, {stats.connections} connections, "
              f"{stats.packets} packets, {cap.stat().st_size / 1e6:.1f} MB pcap")
        print(f"# {br.machine()}\n# {br.tshark_version(tools.tshark)}; dmsniff: {tools.dmsniff_desc}")
        print(f"# medians of {args.repeat} alternating runs\n")
        t_med = statistics.median(walls["tshark"])
        print("| command | median wall | tshark/dmsniff | peak RSS |\n|---|---|---|---|")
        for name in cmds:
            med = statistics.median(walls[name])
            ratio = "" if name == "tshark" else f"{t_med / med:.2f}×"
            print(f"| {name} | {med:.2f} s | {ratio} | {max(rss[name]) / 1e6:.0f} MB |")
        print(f"\nHTTP requests found: dmsniff {found_d:,}, tshark {found_t:,}")
        speedup = t_med / statistics.median(walls["dmsniff"])
        ok = speedup >= TARGET_SPEEDUP and max(rss["dmsniff"]) / 1e6 <= TARGET_RSS_MB and found_d == found_t
        print(f"targets (≥ {TARGET_SPEEDUP}× tshark, ≤ {TARGET_RSS_MB:.0f} MB, same requests): "
              f"{'met' if ok else 'NOT met'}")
        return 0
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
        elif not args.keep:
            for p in (cap, keys):
                p.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
