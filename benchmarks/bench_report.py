"""Benchmark ``dmsniff report`` against tshark: wall and CPU time, peak RSS, RSS growth, per-stage CPU.

Run by hand, never from the test suite (it takes minutes and needs tshark):

    python benchmarks/bench_report.py [--mix cwmp|omadm|both] [--packets 200000] [--scale 5]
                                      [--repeat 3] [--jobs 1 2] [--no-stages] [--keep]

For each mix (``cwmp``: gencap.py, CWMP sessions; ``omadm``: gendm.py, OMA DM sessions in
SyncML XML and WBXML with Package #0 notifications), two captures are generated (N packets and
scale*N packets).  On each, these commands run in turn, --repeat times each, in the same run:

    dmsniff report --format jsonl -o /dev/null CAPTURE               the full report
    dmsniff report --http-only --format jsonl -o /dev/null CAPTURE   HTTP transactions only
    tshark -r CAPTURE -Y http -T fields -e http.request.method      (stdout to /dev/null)

and, on the N-packet capture, the full report with ``-j N`` for each --jobs N, for the
parallel efficiency T(-j 1) / (N x T(-j N)).

The full report decodes every CWMP and SyncML body, builds sessions and device records and
checks every credential; the HTTP-only pass does what the tshark command does (find and
rebuild every HTTP exchange) and is the like-for-like comparison.  Both ratios are printed.

Wall time is time.perf_counter() around the child; CPU time and peak RSS are the child's own
(with the workers it waited for) as returned by os.wait4().  Afterwards each tool runs once more
per capture (untimed) to count the HTTP requests it found, and bench_stages.py runs (as a child)
on each N-packet capture for the CPU per stage: µs per CWMP message, per SyncML message (XML and
WBXML), per session, per JSON record.  Exit status 0, unless a tool is missing or no capture can
be made (2).
"""

from __future__ import annotations

import argparse
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
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENCAP = HERE / "gencap.py"
GENDM = HERE / "gendm.py"
STAGES = HERE / "bench_stages.py"
GENERATORS = {"cwmp": GENCAP, "omadm": GENDM}  # mix -> the script that writes its captures
MIXES = tuple(GENERATORS)
MB = 1_000_000  # sizes are reported in MB = 10^6 bytes

# The targets of issue 18, checked on every capture of the mix.
# tshark median wall / dmsniff median wall, per command and mix:
TARGET_SPEEDUP: dict[tuple[str, str], float] = {
    ("dmsniff", "cwmp"): 2.0,  # the full report at 2x tshark's HTTP pass on CWMP traffic
    ("dmsniff", "omadm"): 1.5,  # and at 1.5x on OMA DM traffic
    ("dmsniff-http", "cwmp"): 6.0,  # the HTTP pass at 6x
    ("dmsniff-http", "omadm"): 6.0,
}
TARGET_RSS_MB = 60.0  # dmsniff peak RSS, worst run on any capture, both commands
TARGET_GROWTH = 1.10  # dmsniff median peak RSS, biggest capture / smallest capture, both commands

TOOLS = ("dmsniff", "dmsniff-http", "tshark")
DMSNIFF = ("dmsniff", "dmsniff-http")


def jobs_tool(n: int) -> str:
    """The name of the series of full reports with -j n."""
    return f"dmsniff-j{n}"


class Missing(Exception):
    """A tool the benchmark needs is not there (exit status 2)."""


@dataclass
class Capture:
    label: str  # "1x", "5x"
    path: Path
    packets: int
    size: int  # bytes
    mix: str = "cwmp"

    def describe(self) -> str:
        return f"{self.mix} {self.label} {self.packets:,} pkts {self.size / MB:,.0f} MB"


@dataclass
class Series:
    """The timed runs of one tool on one capture."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system seconds, the child's and its waited-for
    rss: list[int] = field(default_factory=list)  # bytes
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.walls)

    def median_wall(self) -> float | None:
        return statistics.median(self.walls) if self.ok else None

    def median_cpu(self) -> float | None:
        return statistics.median(self.cpus) if self.ok else None

    def median_rss(self) -> float | None:
        return statistics.median(self.rss) if self.ok else None


@dataclass
class Tools:
    dmsniff: list[str]
    tshark: list[str]
    env: dict[str, str]  # environment for the dmsniff children
    dmsniff_desc: str

    def report_cmd(self, capture: Path, output: str | None, http_only: bool = False,
                   jobs: int | None = None) -> list[str]:
        out = ["-o", output] if output is not None else []
        only = ["--http-only"] if http_only else []
        j = ["-j", str(jobs)] if jobs is not None else []
        return [*self.dmsniff, "report", *only, *j, "--format", "jsonl", *out, str(capture)]

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


def timed_run(cmd: Sequence[str], env: dict[str, str] | None,
              err: IO[bytes]) -> tuple[float, float, int, int]:
    """Run cmd with stdout to /dev/null; return (wall seconds, CPU seconds, the child's own peak RSS in
    bytes, exit code).

    os.wait4 gives the rusage of this child alone (and of any children it waited for: dmsniff's
    decoding workers), unlike getrusage(RUSAGE_CHILDREN) which accumulates over every child of
    the benchmark.  The peak RSS is the largest of those processes', not their sum.
    """
    err.seek(0)
    err.truncate()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting again
    return wall, ru.ru_utime + ru.ru_stime, _maxrss_bytes(ru), proc.returncode


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
        # otherwise compile the sources again (~0.04 s of a 1 s run).  In a child: compiling
        # many changed sources here would raise this process's peak RSS, the floor of every
        # RSS figure (from 11 to 18 MB when every file needs compiling).
        packages = [str(ROOT / "dmsniff"), str(ROOT / "decoders")]
        compile_cmd = [sys.executable, "-m", "compileall", "-q", *packages]
        subprocess.run(compile_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False)
        dmsniff = [sys.executable, "-m", "dmsniff"]
        desc = f"{shlex.join(dmsniff)} (code from {ROOT})"
    else:
        dmsniff = shlex.split(args.dmsniff)
        if not dmsniff or shutil.which(dmsniff[0]) is None:
            raise Missing(f"dmsniff command not found: {args.dmsniff!r}")
        desc = shlex.join(dmsniff)
    for mix in args.mixes:
        if not GENERATORS[mix].is_file():
            raise Missing(f"{GENERATORS[mix]} is missing")
    return Tools(dmsniff=dmsniff, tshark=tshark, env=env, dmsniff_desc=desc)


def generate(path: Path, packets: int, seed: int, label: str, mix: str = "cwmp") -> Capture:
    script = GENERATORS[mix]
    print(f"generating {mix} {label} capture: {packets:,} packets -> {path}", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(script), str(path), "--packets", str(packets), "--seed", str(seed)]
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        tail = "; ".join(res.stderr.strip().splitlines()[-3:])
        raise Missing(f"{script.name} failed ({_status(res.returncode)}): {tail}")
    m = re.search(r"(\d+) packets\s*$", res.stderr)
    made = int(m.group(1)) if m else packets  # the generators finish what they started, so a few more
    return Capture(label=label, path=path, packets=made, size=path.stat().st_size, mix=mix)


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


def bench_capture(cap: Capture, tools: Tools, repeat: int, err: IO[bytes],
                  jobs: Sequence[int] = ()) -> dict[str, Series]:
    """Runs the commands in turn; the order flips every round (d h t, t h d, d h t, ...).

    With ``jobs``, the full report with each ``-j N`` joins the rotation (series ``dmsniff-jN``)."""
    names = (*TOOLS, *(jobs_tool(n) for n in jobs))
    series = {name: Series() for name in names}
    cmds = {
        "dmsniff": (tools.report_cmd(cap.path, os.devnull), tools.env),
        "dmsniff-http": (tools.report_cmd(cap.path, os.devnull, http_only=True), tools.env),
        "tshark": (tools.tshark_cmd(cap.path), None),
        **{jobs_tool(n): (tools.report_cmd(cap.path, os.devnull, jobs=n), tools.env) for n in jobs},
    }
    for rnd in range(repeat):
        order = names if rnd % 2 == 0 else names[::-1]
        for name in order:
            s = series[name]
            if s.error is not None:
                continue  # it failed on this capture already; rerunning would only repeat that
            cmd, env = cmds[name]
            try:
                wall, cpu, rss, code = timed_run(cmd, env, err)
            except OSError as exc:
                s.error = f"{name} could not be started: {exc}"
                print(f"error: {s.error}", file=sys.stderr, flush=True)
                continue
            if code != 0:
                s.error = _failure(name, cap, code, err)
                print(f"error: {s.error}", file=sys.stderr, flush=True)
                continue
            s.walls.append(wall)
            s.cpus.append(cpu)
            s.rss.append(rss)
            print(f"  {cap.mix} {cap.label} {name:12s} run {len(s.walls)}/{repeat}: {wall:8.2f} s  "
                  f"{cpu:8.2f} s CPU  {rss / MB:8.1f} MB", file=sys.stderr, flush=True)
    return series


@dataclass
class Counts:
    dmsniff: int | str  # the --http-only pass
    tshark: int | str
    tshark_heuristic: int | str | None = None
    dmsniff_full: int | str | None = None  # the full report (on the first capture of a mix)


def count_requests(cap: Capture, tools: Tools, dmsniff_ok: bool, heuristic: bool, err: IO[bytes],
                   full: bool = False, full_ok: bool = True) -> Counts:
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

    print(f"  {cap.mix} {cap.label} counting requests (untimed runs)", file=sys.stderr, flush=True)
    d: int | str = (run("dmsniff-http", tools.report_cmd(cap.path, None, http_only=True), tools.env,
                        dmsniff_requests) if dmsniff_ok else "failed")
    f: int | str | None = None
    if full:
        f = (run("dmsniff", tools.report_cmd(cap.path, None), tools.env, dmsniff_requests)
             if full_ok else "failed")
    t = run("tshark", tools.tshark_cmd(cap.path), None, tshark_methods)
    h = None
    if heuristic:
        h = run("tshark", tools.tshark_cmd(cap.path, heuristic_first=True), None, tshark_methods)
    return Counts(d, t, h, f)


def run_stages(cap: Capture, tools: Tools, args: argparse.Namespace, err: IO[bytes]) -> dict[str, Any] | str:
    """bench_stages.py on one capture, as a child (its memory must not raise this process's RSS):
    its JSON, or why there is none."""
    if args.dmsniff is not None:
        return "not run: --dmsniff times another build, bench_stages.py this checkout"
    print(f"  {cap.mix} {cap.label} per-stage CPU (bench_stages.py)", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(STAGES), str(cap.path), "--json", "--repeat", str(args.repeat),
           "--sample", str(args.sample)]
    err.seek(0)
    err.truncate()
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=tools.env,
                         text=True)
    if res.returncode != 0:
        return f"bench_stages.py failed on the {cap.mix} {cap.label} capture ({_status(res.returncode)}):\n" \
               f"{_tail(err)}"
    try:
        data = json.loads(res.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "bench_stages.py printed no JSON"
    return data if isinstance(data, dict) else "bench_stages.py printed no JSON object"


# ---------------------------------------------------------------------------------------------
# Report


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _n(value: int | str | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else value


@dataclass
class MixResult:
    """Everything measured on one mix: its captures (1x, then the scaled one), their series and counts."""

    mix: str
    caps: list[Capture]
    results: list[dict[str, Series]]
    counts: list[Counts]
    stages: dict[str, Any] | str | None = None  # bench_stages.py's JSON on the 1x capture, or why not

    def ratios(self, name: str, cpu: bool = False) -> list[float | None]:
        """tshark's median over this dmsniff command's, per capture (wall, or CPU)."""
        out: list[float | None] = []
        for res in self.results:
            ts = res["tshark"].median_cpu() if cpu else res["tshark"].median_wall()
            dm = res[name].median_cpu() if cpu else res[name].median_wall()
            out.append(ts / dm if dm is not None and ts is not None and dm > 0 else None)
        return out

    def growth(self, name: str) -> float | None:
        rs, rb = self.results[0][name].median_rss(), self.results[-1][name].median_rss()
        return rb / rs if rs and rb is not None else None


def _us(value: object) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def stage_lines(data: dict[str, Any] | str | None) -> list[str]:
    """bench_stages.py's JSON as a table (the figures are CPU, in one process)."""
    if data is None:
        return []
    if isinstance(data, str):
        return [f"per-stage CPU: {data}"]
    counts = data.get("counts", {})
    sizes = data.get("mean_bytes", {})
    timed = data.get("sampled", {})
    bodies = ", ".join(f"{k} {n:,} (mean {sizes.get(k, 0):,.0f} B, {timed.get(k, 0):,} timed)"
                       for k, n in counts.items() if n)
    out = ["per-stage CPU, in one process (bench_stages.py; each decoder timed on a sample of its bodies, "
           "the fastest of --repeat loops)", f"  bodies: {bodies}"]
    stages = data.get("stages", [])
    width = max((len(str(st.get("name", ""))) for st in stages), default=10)
    out.append(f"  {'stage':<{width}}  {'count':>9}  {'unit':<11}  {'µs each':>9}  {'CPU s':>8}")
    for st in stages:
        out.append(f"  {st.get('name', ''):<{width}}  {st.get('count', 0):>9,}  {st.get('unit', ''):<11}  "
                   f"{_us(st.get('us_each')):>9}  {st.get('cpu_s', 0.0):>8.2f}")
    out.append(f"  full pass in one process: {data.get('full_cpu_s', 0.0):.2f} s CPU; "
               f"HTTP pass {data.get('http_cpu_s', 0.0):.2f} s CPU")
    return out


def report(mixes: list[MixResult], tools: Tools, repeat: int, floor: int, jobs: Sequence[int] = ()) -> None:
    out: list[str] = []
    w = out.append
    w("")
    w("dmsniff report benchmark")
    w(f"machine : {machine()}")
    w(f"tshark  : {tshark_version(tools.tshark)}")
    w(f"dmsniff : {tools.dmsniff_desc}")
    w(f"method  : {repeat} timed run(s) per tool per capture, alternating; wall = perf_counter around "
      "the child,")
    w("          CPU = user + system of the child and its workers, RSS = the child's ru_maxrss from os.wait4")
    w(f"          (it cannot read below this script's own {floor / MB:.1f} MB)")
    at_floor = False
    for m in mixes:
        w("")
        w(f"== {m.mix} mix")
        capw = max(len(c.describe()) for c in m.caps)
        w(f"{'capture':<{capw}}  {'tool':<12}  {'median s':>9}  {'min s':>9}  {'CPU s':>8}  "
          f"{'median RSS MB':>13}  {'tshark/dmsniff':>14}  {'CPU ratio':>9}")
        ratios = {name: m.ratios(name) for name in DMSNIFF}
        cpu_ratios = {name: m.ratios(name, cpu=True) for name in DMSNIFF}
        for ci, (cap, res) in enumerate(zip(m.caps, m.results, strict=True)):
            for i, name in enumerate(res):
                s = res[name]
                first = cap.describe() if i == 0 else ""
                if not s.ok:
                    w(f"{first:<{capw}}  {name:<12}  {'FAILED (see errors below)':>51}")
                    continue
                ratio = ratios[name][ci] if name in ratios else None
                cratio = cpu_ratios[name][ci] if name in cpu_ratios else None
                r = (_f(ratio, ".2f") + "x") if ratio is not None else ""
                cr = (_f(cratio, ".2f") + "x") if cratio is not None else ""
                med_rss = s.median_rss()
                rss = _f(None if med_rss is None else med_rss / MB, ".1f")
                if med_rss is not None and med_rss <= floor * 1.05:
                    rss, at_floor = rss + "*", True
                w(f"{first:<{capw}}  {name:<12}  {_f(s.median_wall(), '.2f'):>9}  {min(s.walls):>9.2f}  "
                  f"{_f(s.median_cpu(), '.2f'):>8}  {rss:>13}  {r:>14}  {cr:>9}")
        w("")
        if jobs:
            base = m.results[0].get(jobs_tool(1))
            t1 = base.median_wall() if base is not None and 1 in jobs else None
            parts = []
            for n in jobs:
                s = m.results[0][jobs_tool(n)]
                tn = s.median_wall()
                eff = t1 / (n * tn) if t1 is not None and tn else None
                parts.append(f"-j {n}: {_f(tn, '.2f')} s, efficiency {_f(eff, '.2f')}")
            w(f"parallel efficiency T(-j 1) / (N x T(-j N)), full report, {m.caps[0].label} capture: "
              + "; ".join(parts))
        for name in DMSNIFF:
            w(f"{name} RSS growth ({m.caps[-1].label} / {m.caps[0].label} capture, median peak RSS): "
              f"{_f(m.growth(name), '.3f')}")
        w("")
        w("HTTP requests found (untimed runs; tshark dissects HTTP only on its known ports unless "
          "heuristics are on)")
        w(f"{'capture':<{capw}}  {'dmsniff --http-only':>19}  {'full report':>11}  {'tshark':>9}  "
          f"{'tshark -o tcp.try_heuristic_first:TRUE':>38}")
        for cap, c in zip(m.caps, m.counts, strict=True):
            w(f"{cap.describe():<{capw}}  {_n(c.dmsniff):>19}  {_n(c.dmsniff_full):>11}  {_n(c.tshark):>9}  "
              f"{_n(c.tshark_heuristic):>38}")
        lines = stage_lines(m.stages)
        if lines:
            w("")
            out.extend(lines)
    if at_floor:
        w("")
        w(f"* at or near this script's own peak RSS ({floor / MB:.1f} MB), which a child's ru_maxrss "
          "cannot read below: the tool's real peak may be lower")
    w("")

    def verdict(ok: bool | None) -> str:
        return "PASS" if ok else "FAIL"

    def labelled(values: list[tuple[str, float | None]], fmt: str) -> str:
        return ", ".join(f"{label} {_f(v, fmt)}" for label, v in values)

    rows = []
    for name in DMSNIFF:
        all_rss = [r for m in mixes for res in m.results for r in res[name].rss]
        dm_failed = any(not res[name].ok for m in mixes for res in m.results)
        peak = max(all_rss) / MB if all_rss and not dm_failed else None
        growths = [(m.mix, m.growth(name)) for m in mixes]
        for m in mixes:
            target = TARGET_SPEEDUP[(name, m.mix)]
            ratios = [(cap.label, r) for cap, r in zip(m.caps, m.ratios(name), strict=True)]
            rows.append((f"speed   tshark/{name} median wall >= {target} on every {m.mix} capture",
                         labelled(ratios, ".2f"), all(r is not None and r >= target for _, r in ratios)))
        rows += [
            (f"memory  {name} peak RSS <= {TARGET_RSS_MB:.0f} MB (worst run)", _f(peak, ".1f"),
             peak is not None and peak <= TARGET_RSS_MB),
            (f"flat    {name} RSS growth {mixes[0].caps[-1].label}/{mixes[0].caps[0].label} "
             f"<= {TARGET_GROWTH:.2f}", labelled(growths, ".3f"),
             all(g is not None and g <= TARGET_GROWTH for _, g in growths)),
        ]
    w("targets")
    tw = max(len(t) for t, _, _ in rows)
    vw = max(len(v) for _, v, _ in rows)
    for text, value, ok in rows:
        w(f"  {text:<{tw}}  {value:>{vw}}  {verdict(ok)}")
    errors = [res[name].error for m in mixes for res in m.results for name in res if res[name].error]
    errors += [m.stages for m in mixes if isinstance(m.stages, str) and not m.stages.startswith("not run")]
    if errors:
        w("")
        w("errors")
        for e in errors:
            w(f"  {e}")
    print("\n".join(line.rstrip() for line in out), flush=True)


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--mix", choices=(*MIXES, "both"), default="both",
                    help="which captures: cwmp (gencap.py), omadm (gendm.py) or both (default)")
    ap.add_argument("--packets", type=int, default=200_000,
                    help="packets in the small capture (default 200000; 1000000 for the big run)")
    ap.add_argument("--scale", type=float, default=5.0,
                    help="size of the big capture, in small captures (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per tool per capture (default 3)")
    ap.add_argument("--jobs", type=int, nargs="*", default=[1, 2], metavar="N",
                    help="full reports with -j N on the small capture, for the parallel efficiency "
                         "(default: 1 2; --jobs alone: none)")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage CPU (bench_stages.py)")
    ap.add_argument("--sample", type=int, default=3000,
                    help="bodies of each kind bench_stages.py times its decoders on (default 3000)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--workdir", help="where to write the captures (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the generated captures")
    ap.add_argument("--dmsniff", metavar="CMD",
                    help="command that runs dmsniff (default: python -m dmsniff, from this checkout)")
    ap.add_argument("--tshark", metavar="CMD", default="tshark", help="command that runs tshark")
    args = ap.parse_args(argv)
    if args.packets < 1 or args.repeat < 1 or args.scale <= 0 or args.sample < 1:
        ap.error("--packets, --repeat and --sample must be >= 1 and --scale > 0")
    if any(n < 1 for n in args.jobs):
        ap.error("--jobs values must be >= 1")
    args.jobs = sorted(set(args.jobs))
    if args.jobs and 1 not in args.jobs:
        args.jobs = [1, *args.jobs]  # the efficiency is relative to -j 1
    args.mixes = list(MIXES) if args.mix == "both" else [args.mix]
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
    paths = {mix: [workdir / f"bench-{mix}-{n}p-seed{args.seed}.pcap" for _, n in sizes]
             for mix in args.mixes}
    try:
        mixes: list[MixResult] = []
        for mix in args.mixes:
            caps = [generate(p, n, args.seed, label, mix)
                    for p, (label, n) in zip(paths[mix], sizes, strict=True)]
            mixes.append(MixResult(mix, caps, [], []))
        with tempfile.TemporaryFile() as err:  # the children's stderr, for error messages
            for m in mixes:
                for i, cap in enumerate(m.caps):
                    print(f"benchmarking {cap.describe()}", file=sys.stderr, flush=True)
                    m.results.append(bench_capture(cap, tools, args.repeat, err, args.jobs if i == 0 else ()))
            floor = _maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF))
            # After the timed runs, so that nothing here can raise this process's own peak RSS
            # (a child's ru_maxrss starts from its parent's at the fork) before they ran.
            for m in mixes:
                m.counts = [count_requests(cap, tools, res["dmsniff-http"].ok, i == 0, err, full=i == 0,
                                           full_ok=res["dmsniff"].ok)
                            for i, (cap, res) in enumerate(zip(m.caps, m.results, strict=True))]
                if not args.no_stages:
                    m.stages = run_stages(m.caps[0], tools, args, err)
        report(mixes, tools, args.repeat, floor, args.jobs)
    except Missing as exc:
        print(f"bench_report: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_report: interrupted", file=sys.stderr)
        return 130
    finally:
        every = [p for ps in paths.values() for p in ps]
        if args.keep:
            kept = [str(p) for p in every if p.exists()]
            if kept:
                print(f"captures kept: {' '.join(kept)}", file=sys.stderr)
        elif made_dir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for p in every:
                p.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
