"""Benchmark ``dmsniff report`` against tshark: wall time, peak RSS, and RSS growth with capture size.

Run by hand, never from the test suite (it takes minutes and needs tshark):

    python benchmarks/bench_report.py [--packets 200000] [--scale 5] [--repeat 3] [--keep]

Two captures are generated with gencap.py (N packets and scale*N packets).  On each, three
commands run in turn, --repeat times each, in the same process run:

    dmsniff report --format jsonl -o /dev/null CAPTURE               the full report
    dmsniff report --http-only --format jsonl -o /dev/null CAPTURE   HTTP transactions only
    tshark -r CAPTURE -Y http -T fields -e http.request.method      (stdout to /dev/null)

The full report decodes every CWMP body, builds sessions and device records and checks
every Digest header; the HTTP-only pass does what the tshark command does (find and
rebuild every HTTP exchange) and is the like-for-like comparison.  Both ratios are printed.

Wall time is time.perf_counter() around the child; peak RSS is the child's own ru_maxrss as
returned by os.wait4().  Afterwards each tool runs once more per capture (untimed) to count the
HTTP requests it found.  Exit status 0, unless a tool is missing or no capture can be made (2).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENCAP = HERE / "gencap.py"
MB = 1_000_000  # sizes are reported in MB = 10^6 bytes

TARGET_SPEEDUP = 4.0  # tshark median wall / dmsniff median wall, on every capture
TARGET_RSS_MB = 100.0  # dmsniff peak RSS, worst run on any capture
TARGET_GROWTH = 1.25  # dmsniff median peak RSS, biggest capture / smallest capture

TOOLS = ("dmsniff", "dmsniff-http", "tshark")
DMSNIFF = ("dmsniff", "dmsniff-http")


class Missing(Exception):
    """A tool the benchmark needs is not there (exit status 2)."""


@dataclass
class Capture:
    label: str  # "1x", "5x"
    path: Path
    packets: int
    size: int  # bytes

    def describe(self) -> str:
        return f"{self.label} {self.packets:,} pkts {self.size / MB:,.0f} MB"


@dataclass
class Series:
    """The timed runs of one tool on one capture."""

    walls: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.walls)

    def median_wall(self) -> float | None:
        return statistics.median(self.walls) if self.ok else None

    def median_rss(self) -> float | None:
        return statistics.median(self.rss) if self.ok else None


@dataclass
class Tools:
    dmsniff: list[str]
    tshark: list[str]
    env: dict[str, str]  # environment for the dmsniff children
    dmsniff_desc: str

    def report_cmd(self, capture: Path, output: str | None, http_only: bool = False) -> list[str]:
        out = ["-o", output] if output is not None else []
        only = ["--http-only"] if http_only else []
        return [*self.dmsniff, "report", *only, "--format", "jsonl", *out, str(capture)]

    def tshark_cmd(self, capture: Path, heuristic_first: bool = False) -> list[str]:
        extra = ["-o", "tcp.try_heuristic_first:TRUE"] if heuristic_first else []
        return [*self.tshark, *extra, "-r", str(capture), "-Y", "http", "-T", "fields",
                "-e", "http.request.method"]


# ---------------------------------------------------------------------------------------------
# Running children


def _maxrss_bytes(ru: resource.struct_rusage) -> int:
    # Linux (and the BSDs) report KiB; macOS reports bytes.
    return ru.ru_maxrss if sys.platform == "darwin" else ru.ru_maxrss * 1024


def _tail(fh: IO[bytes], lines: int = 6) -> str:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 4096))
    text = fh.read().decode("utf-8", "replace")
    kept = [ln.rstrip() for ln in text.splitlines() if ln.strip()][-lines:]
    return "\n".join("    | " + ln for ln in kept) if kept else "    | (nothing on stderr)"


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _failure(tool: str, capture: Capture, code: int, err: IO[bytes]) -> str:
    return (f"{tool} failed on the {capture.label} capture ({capture.path.name}, {_status(code)}); "
            f"end of its stderr:\n{_tail(err)}")


def timed_run(cmd: Sequence[str], env: dict[str, str] | None, err: IO[bytes]) -> tuple[float, int, int]:
    """Run cmd with stdout to /dev/null; return (wall seconds, the child's own peak RSS in bytes, exit code).

    os.wait4 gives the rusage of this child alone (and of any children it waited for), unlike
    getrusage(RUSAGE_CHILDREN) which accumulates over every child of the benchmark.
    """
    err.seek(0)
    err.truncate()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
    return wall, _maxrss_bytes(ru), proc.returncode


def count_output(cmd: Sequence[str], env: dict[str, str] | None, per_line: Callable[[str], int],
                 err: IO[bytes]) -> tuple[int, int]:
    """Run cmd, stream its stdout through per_line and return (sum, exit code). Memory stays flat."""
    err.seek(0)
    err.truncate()
    total = 0
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env,
                          text=True, encoding="utf-8", errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            total += per_line(line)
    return total, proc.returncode


def dmsniff_requests(line: str) -> int:
    """1 for a JSONL transaction record that has a request."""
    if '"transaction"' not in line:
        return 0
    try:
        rec = json.loads(line)
    except ValueError:
        return 0
    return int(isinstance(rec, dict) and rec.get("type") == "transaction" and rec.get("request") is not None)


def tshark_methods(line: str) -> int:
    """The number of request methods on a tshark fields line (several in one frame are comma-joined)."""
    text = line.strip()
    return len(text.split(",")) if text else 0


# ---------------------------------------------------------------------------------------------
# Set-up


def find_tools(args: argparse.Namespace) -> Tools:
    tshark = shlex.split(args.tshark)
    if not tshark or shutil.which(tshark[0]) is None:
        raise Missing(f"tshark not found ({args.tshark!r}): install it (apt-get install tshark) "
                      "or pass --tshark CMD")
    env = dict(os.environ)
    if args.dmsniff is None:
        # Benchmark the checkout this script lives in, installed or not.
        if not (ROOT / "dmsniff" / "__main__.py").is_file() and importlib.util.find_spec("dmsniff") is None:
            raise Missing(f"dmsniff not found (no {ROOT / 'dmsniff'}, not installed); pass --dmsniff CMD")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        # Byte-compile the checkout, as pip does when it installs a wheel: where
        # PYTHONDONTWRITEBYTECODE is set (as on the build machines) every run would
        # otherwise compile the sources again (~0.04 s of a 1 s run).
        for package in ("dmsniff", "decoders"):
            compileall.compile_dir(ROOT / package, quiet=1)
        dmsniff = [sys.executable, "-m", "dmsniff"]
        desc = f"{shlex.join(dmsniff)} (code from {ROOT})"
    else:
        dmsniff = shlex.split(args.dmsniff)
        if not dmsniff or shutil.which(dmsniff[0]) is None:
            raise Missing(f"dmsniff command not found: {args.dmsniff!r}")
        desc = shlex.join(dmsniff)
    if not GENCAP.is_file():
        raise Missing(f"{GENCAP} is missing")
    return Tools(dmsniff=dmsniff, tshark=tshark, env=env, dmsniff_desc=desc)


def generate(path: Path, packets: int, seed: int, label: str) -> Capture:
    print(f"generating {label} capture: {packets:,} packets -> {path}", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(GENCAP), str(path), "--packets", str(packets), "--seed", str(seed)]
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        tail = "; ".join(res.stderr.strip().splitlines()[-3:])
        raise Missing(f"gencap.py failed ({_status(res.returncode)}): {tail}")
    m = re.search(r"(\d+) packets\s*$", res.stderr)
    made = int(m.group(1)) if m else packets  # gencap finishes the last connection, so a few more
    return Capture(label=label, path=path, packets=made, size=path.stat().st_size)


def tshark_version(tshark: list[str]) -> str:
    try:
        res = subprocess.run([*tshark, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(tshark --version failed: {exc})"
    lines = res.stdout.strip().splitlines()
    return lines[0] if lines else "(tshark --version printed nothing)"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.platform()}, Python {platform.python_version()}"


# ---------------------------------------------------------------------------------------------
# Benchmark


def bench_capture(cap: Capture, tools: Tools, repeat: int, err: IO[bytes]) -> dict[str, Series]:
    """Runs the commands in turn; the order flips every round (d h t, t h d, d h t, ...)."""
    series = {name: Series() for name in TOOLS}
    cmds = {
        "dmsniff": (tools.report_cmd(cap.path, os.devnull), tools.env),
        "dmsniff-http": (tools.report_cmd(cap.path, os.devnull, http_only=True), tools.env),
        "tshark": (tools.tshark_cmd(cap.path), None),
    }
    for rnd in range(repeat):
        order = TOOLS if rnd % 2 == 0 else TOOLS[::-1]
        for name in order:
            s = series[name]
            if s.error is not None:
                continue  # it failed on this capture already; rerunning would only repeat that
            cmd, env = cmds[name]
            try:
                wall, rss, code = timed_run(cmd, env, err)
            except OSError as exc:
                s.error = f"{name} could not be started: {exc}"
                print(f"error: {s.error}", file=sys.stderr, flush=True)
                continue
            if code != 0:
                s.error = _failure(name, cap, code, err)
                print(f"error: {s.error}", file=sys.stderr, flush=True)
                continue
            s.walls.append(wall)
            s.rss.append(rss)
            print(f"  {cap.label} {name:12s} run {len(s.walls)}/{repeat}: {wall:8.2f} s  {rss / MB:8.1f} MB",
                  file=sys.stderr, flush=True)
    return series


@dataclass
class Counts:
    dmsniff: int | str
    tshark: int | str
    tshark_heuristic: int | str | None = None


def count_requests(cap: Capture, tools: Tools, dmsniff_ok: bool, heuristic: bool, err: IO[bytes]) -> Counts:
    def run(name: str, cmd: list[str], env: dict[str, str] | None,
            per_line: Callable[[str], int]) -> int | str:
        try:
            total, code = count_output(cmd, env, per_line, err)
        except OSError as exc:
            return f"n/a ({exc})"
        if code != 0:
            print(f"error: {_failure(name, cap, code, err)}", file=sys.stderr, flush=True)
            return "failed"
        return total

    print(f"  {cap.label} counting requests (untimed runs)", file=sys.stderr, flush=True)
    d: int | str = (run("dmsniff", tools.report_cmd(cap.path, None), tools.env, dmsniff_requests)
                    if dmsniff_ok else "failed")
    t = run("tshark", tools.tshark_cmd(cap.path), None, tshark_methods)
    h = None
    if heuristic:
        h = run("tshark", tools.tshark_cmd(cap.path, heuristic_first=True), None, tshark_methods)
    return Counts(d, t, h)


# ---------------------------------------------------------------------------------------------
# Report


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _n(value: int | str | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else value


def report(caps: list[Capture], results: list[dict[str, Series]], counts: list[Counts], tools: Tools,
           repeat: int, floor: int) -> None:
    out: list[str] = []
    w = out.append
    w("")
    w("dmsniff report benchmark")
    w(f"machine : {machine()}")
    w(f"tshark  : {tshark_version(tools.tshark)}")
    w(f"dmsniff : {tools.dmsniff_desc}")
    w(f"method  : {repeat} timed run(s) per tool per capture, alternating; wall = perf_counter around "
      "the child,")
    w(f"          RSS = the child's ru_maxrss from os.wait4 (it cannot read below this script's own "
      f"{floor / MB:.1f} MB)")
    w("")
    capw = max(len(c.describe()) for c in caps)
    w(f"{'capture':<{capw}}  {'tool':<12}  {'median s':>9}  {'min s':>9}  {'median RSS MB':>13}  "
      f"{'tshark/dmsniff':>14}")
    ratios: dict[str, list[float | None]] = {name: [] for name in DMSNIFF}
    at_floor = False
    for cap, res in zip(caps, results, strict=True):
        ts = res["tshark"].median_wall()
        for name in DMSNIFF:
            dm = res[name].median_wall()
            ratios[name].append(ts / dm if dm is not None and ts is not None and dm > 0 else None)
        for i, name in enumerate(TOOLS):
            s = res[name]
            first = cap.describe() if i == 0 else ""
            if not s.ok:
                w(f"{first:<{capw}}  {name:<12}  {'FAILED (see errors below)':>51}")
                continue
            ratio = ratios[name][-1] if name in ratios else None
            r = (_f(ratio, ".2f") + "x") if ratio is not None else ""
            med_rss = s.median_rss()
            rss = _f(None if med_rss is None else med_rss / MB, ".1f")
            if med_rss is not None and med_rss <= floor * 1.05:
                rss, at_floor = rss + "*", True
            w(f"{first:<{capw}}  {name:<12}  {_f(s.median_wall(), '.2f'):>9}  {min(s.walls):>9.2f}  "
              f"{rss:>13}  {r:>14}")
    if at_floor:
        w(f"* at or near this script's own peak RSS ({floor / MB:.1f} MB), which a child's ru_maxrss "
          "cannot read below: the tool's real peak may be lower")
    w("")

    growths: dict[str, float | None] = {}
    for name in DMSNIFF:
        rs, rb = results[0][name].median_rss(), results[-1][name].median_rss()
        growths[name] = rb / rs if rs and rb is not None else None
        w(f"{name} RSS growth ({caps[-1].label} / {caps[0].label} capture, median peak RSS): "
          f"{_f(growths[name], '.3f')}")
    w("")

    w("HTTP requests found (untimed runs; tshark dissects HTTP only on its known ports unless "
      "heuristics are on)")
    w(f"{'capture':<{capw}}  {'dmsniff':>9}  {'tshark':>9}  {'tshark -o tcp.try_heuristic_first:TRUE':>38}")
    for cap, c in zip(caps, counts, strict=True):
        w(f"{cap.describe():<{capw}}  {_n(c.dmsniff):>9}  {_n(c.tshark):>9}  {_n(c.tshark_heuristic):>38}")
    w("")

    def verdict(ok: bool | None) -> str:
        return "PASS" if ok else "FAIL"

    rows = []
    for name in DMSNIFF:
        all_rss = [r for res in results for r in res[name].rss]
        dm_failed = any(not res[name].ok for res in results)
        peak = max(all_rss) / MB if all_rss and not dm_failed else None
        labelled = ", ".join(f"{cap.label} {_f(r, '.2f')}" for cap, r in zip(caps, ratios[name], strict=True))
        growth = growths[name]
        rows += [
            (f"speed   tshark/{name} median wall >= {TARGET_SPEEDUP} on every capture", labelled,
             all(r is not None and r >= TARGET_SPEEDUP for r in ratios[name])),
            (f"memory  {name} peak RSS <= {TARGET_RSS_MB:.0f} MB (worst run)", _f(peak, ".1f"),
             peak is not None and peak <= TARGET_RSS_MB),
            (f"flat    {name} RSS growth {caps[-1].label}/{caps[0].label} <= {TARGET_GROWTH}",
             _f(growth, ".3f"), growth is not None and growth <= TARGET_GROWTH),
        ]
    w("targets")
    tw = max(len(t) for t, _, _ in rows)
    vw = max(len(v) for _, v, _ in rows)
    for text, value, ok in rows:
        w(f"  {text:<{tw}}  {value:>{vw}}  {verdict(ok)}")
    errors = [res[name].error for res in results for name in TOOLS if res[name].error]
    if errors:
        w("")
        w("errors")
        for e in errors:
            w(f"  {e}")
    print("\n".join(line.rstrip() for line in out), flush=True)


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--packets", type=int, default=200_000,
                    help="packets in the small capture (default 200000)")
    ap.add_argument("--scale", type=float, default=5.0,
                    help="size of the big capture, in small captures (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per tool per capture (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="gencap.py seed (default 1)")
    ap.add_argument("--workdir", help="where to write the captures (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the generated captures")
    ap.add_argument("--dmsniff", metavar="CMD",
                    help="command that runs dmsniff (default: python -m dmsniff, from this checkout)")
    ap.add_argument("--tshark", metavar="CMD", default="tshark", help="command that runs tshark")
    args = ap.parse_args(argv)
    if args.packets < 1 or args.repeat < 1 or args.scale <= 0:
        ap.error("--packets and --repeat must be >= 1 and --scale > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tools = find_tools(args)
    except Missing as exc:
        print(f"bench_report: error: {exc}", file=sys.stderr)
        return 2

    made_dir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="dmsniff-bench-")) if made_dir else Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [("1x", args.packets), (f"{args.scale:g}x", round(args.packets * args.scale))]
    paths = [workdir / f"bench-{n}p-seed{args.seed}.pcap" for _, n in sizes]
    try:
        caps = [generate(p, n, args.seed, label) for p, (label, n) in zip(paths, sizes, strict=True)]
        with tempfile.TemporaryFile() as err:  # the children's stderr, for error messages
            results = []
            for cap in caps:
                print(f"benchmarking {cap.describe()}", file=sys.stderr, flush=True)
                results.append(bench_capture(cap, tools, args.repeat, err))
            floor = _maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF))
            # After the timed runs, so that nothing here can raise this process's own peak RSS
            # (a child's ru_maxrss starts from its parent's at the fork) before they ran.
            counts = [count_requests(cap, tools, res["dmsniff"].ok, i == 0, err)
                      for i, (cap, res) in enumerate(zip(caps, results, strict=True))]
        report(caps, results, counts, tools, args.repeat, floor)
    except Missing as exc:
        print(f"bench_report: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_report: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            kept = [str(p) for p in paths if p.exists()]
            if kept:
                print(f"captures kept: {' '.join(kept)}", file=sys.stderr)
        elif made_dir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for p in paths:
                p.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
