"""Run fuzz campaigns and summarise them.

    .venv/bin/python -m fuzz.run all --runs 1000000                # every harness, one after another
    .venv/bin/python -m fuzz.run cwmp http --runs 2000 --seed 1    # a short seeded run of two
    .venv/bin/python -m fuzz.run tls --runs 1000000 --keep-going   # step over reported crashes

Each harness runs as ``python -m fuzz.fuzz_<name>`` under libFuzzer (atheris) with ``-runs``,
``-max_len``, ``-timeout``, ``-rss_limit_mb=200`` (the issue's memory bound), ``-dict``, the
seed directory (built by ``make_seeds.py`` when missing) after a growing corpus directory, and
``-artifact_prefix`` the harness's crashes folder, all under the work directory
(``$DMSNIFF_FUZZ_WORK``, default ``/tmp/dmsniff-fuzz``).  libFuzzer's output goes to
``logs/<name>.log``; the summary (executions, final ``cov:`` edges and ``ft:`` features, peak
RSS, crashes with their artifacts and signatures, the slowest input) to ``summary/<name>.json``
and ``summary/summary.md``.

The slowest input: libFuzzer only reports units slower than a whole second, so after the run
every input of the corpus the campaign built is replayed without instrumentation
(``fuzz/replay.py --time``) and the slowest one is reported with its time.

``--keep-going``: after a crash, its signature (exception type and the deepest project frame) is
added to ``DMSNIFF_FUZZ_KNOWN`` and the campaign restarts on the same corpus for the executions
left, stepping over inputs that raise a known signature, until the count is reached.  Each
distinct crash is listed once, with its first artifact.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fuzz._common import ROOT, WORK

HARNESSES: dict[str, tuple[str, int]] = {  # name -> (dictionary, max_len)
    "auth": ("http", 4096),
    "body": ("http", 65536),
    "capture": ("capture", 65536),
    "cwmp": ("cwmp", 65536),
    "http": ("http", 65536),
    "keys": ("keys", 8192),
    "notification": ("notification", 4096),
    "packet": ("packet", 16384),
    "reader": ("capture", 65536),
    "secrets": ("toml", 4096),
    "stun": ("stun", 2048),
    "syncml": ("syncml", 65536),
    "tcp": ("http", 65536),
    "tls": ("tls", 65536),
    "tr111": ("tr111", 2048),
    "wbxml": ("wbxml", 16384),
}

_STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+).*?exec/s: (\d+) rss: (\d+)Mb")
_STAT = re.compile(r"^stat::(\w+):\s+(\d+)")
_ARTIFACT = re.compile(r"(?:Test unit written to|artifact_prefix='[^']*'; Test unit written to) (\S+)")


@dataclass
class Crash:
    signature: str
    artifact: str
    kind: str  # "exception", "timeout", "oom", "other"


@dataclass
class Summary:
    harness: str
    runs_asked: int
    executions: int = 0
    cov_edges: int = 0
    features: int = 0
    exec_per_sec: int = 0
    peak_rss_mb: int = 0
    seconds: float = 0.0
    crashes: list[Crash] = field(default_factory=list)
    slowest_seconds: float | None = None
    slowest_input: str | None = None
    slowest_bytes: int | None = None
    corpus_inputs: int = 0
    command: str = ""
    commit: str = ""  #: the code fuzzed: HEAD, "+dirty" when the work tree had changes


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _parse(log: str, summary: Summary) -> tuple[int, str | None, str]:
    """Add one libFuzzer run's numbers to ``summary``; (executions, artifact, kind) of this run."""
    executed = 0
    artifact, kind = None, ""
    for line in log.splitlines():
        m = _STATUS.match(line)
        if m:
            executed = max(executed, int(m.group(1)))
            summary.cov_edges = max(summary.cov_edges, int(m.group(3)))
            summary.features = max(summary.features, int(m.group(4)))
            summary.peak_rss_mb = max(summary.peak_rss_mb, int(m.group(6)))
            continue
        m = _STAT.match(line)
        if m:
            if m.group(1) == "number_of_executed_units":
                executed = max(executed, int(m.group(2)))
            elif m.group(1) == "peak_rss_mb":
                summary.peak_rss_mb = max(summary.peak_rss_mb, int(m.group(2)))
            continue
        m = _ARTIFACT.search(line)
        if m:
            artifact = m.group(1)
        if "Uncaught Python exception" in line:
            kind = "exception"
        elif "libFuzzer: timeout" in line:
            kind = "timeout"
        elif "out-of-memory" in line:
            kind = "oom"
        elif "ERROR: libFuzzer" in line and not kind:
            kind = "other"
    return executed, artifact, kind


def _signature(harness: str, artifact: str, kind: str) -> str:
    if kind in ("timeout", "oom"):
        return f"{kind}@{harness}"
    res = subprocess.run([python(), "-m", "fuzz.replay", "--signature", harness, artifact], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    return res.stdout.strip().splitlines()[-1] if res.stdout.strip() else f"{kind}@{harness}"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "decoders", "dmsniff"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if dirty else "")


def run_harness(name: str, args: argparse.Namespace) -> Summary:
    dict_name, max_len = HARNESSES[name]
    work: Path = args.work
    seeds = work / "seeds" / name
    if not seeds.is_dir():
        subprocess.run([python(), "-m", "fuzz.make_seeds", "--out", str(work / "seeds")], cwd=ROOT,
                       check=True,
                       stdout=subprocess.DEVNULL)
    corpus = work / "corpus" / name
    crashes = work / "crashes" / name
    logs = work / "logs"
    for d in (corpus, crashes, logs):
        d.mkdir(parents=True, exist_ok=True)
    summary = Summary(name, args.runs, commit=_commit())
    known = [s for s in os.environ.get("DMSNIFF_FUZZ_KNOWN", "").split(",") if s]
    log_path = logs / f"{name}.log"
    log_path.write_text("")
    start = time.monotonic()
    left = args.runs
    attempt = 0
    while left > 0:
        attempt += 1
        cmd = [python(), "-m", f"fuzz.fuzz_{name}", f"-runs={left}", f"-max_len={args.max_len or max_len}",
               f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_limit_mb}",
               f"-malloc_limit_mb={args.rss_limit_mb}", f"-dict={ROOT / 'fuzz' / 'dicts' / dict_name}.dict",
               f"-artifact_prefix={crashes}/", "-print_final_stats=1", "-report_slow_units=1",
               f"-seed={args.seed + attempt - 1}" if args.seed else "-seed=0", str(corpus), str(seeds)]
        if args.max_total_time:
            remaining = args.max_total_time - int(time.monotonic() - start)
            if remaining <= 0:
                break
            cmd.insert(4, f"-max_total_time={remaining}")
        summary.command = " ".join(cmd)
        env = dict(os.environ, DMSNIFF_FUZZ_KNOWN=",".join(known), PYTHONPATH=str(ROOT))
        with log_path.open("a") as f:  # streamed, so a long campaign can be watched with tail -f
            f.write(f"=== {' '.join(cmd)}\n")
            f.flush()
            begin = f.tell()
            res = subprocess.run(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
        with log_path.open() as f:
            f.seek(begin)
            output = f.read()
        executed, artifact, kind = _parse(output, summary)
        summary.executions += executed
        left -= max(executed, 1)
        if res.returncode == 0 or artifact is None:
            if res.returncode != 0:
                summary.crashes.append(Crash(f"exit {res.returncode}", "", "other"))
            break
        sig = _signature(name, artifact, kind)
        summary.crashes.append(Crash(sig, artifact, kind))
        if not args.keep_going or sig in known or kind in ("timeout", "oom") or len(known) >= 20:
            break
        known.append(sig)
        if args.max_total_time and time.monotonic() - start >= args.max_total_time:
            break
    summary.seconds = round(time.monotonic() - start, 1)
    summary.exec_per_sec = int(summary.executions / summary.seconds) if summary.seconds else 0
    summary.corpus_inputs = sum(1 for _ in corpus.iterdir())
    if not args.no_timing:
        res = subprocess.run([python(), "-m", "fuzz.replay", "--time", name, str(corpus), str(seeds)],
                             cwd=ROOT,
                             capture_output=True, text=True, timeout=3600)
        try:
            timing = json.loads(res.stdout.strip().splitlines()[-1])
            summary.slowest_seconds = timing["slowest_seconds"]
            summary.slowest_input = timing["slowest_input"]
            summary.slowest_bytes = timing["slowest_bytes"]
        except (IndexError, ValueError, KeyError):
            pass
    out = work / "summary"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    return summary


def markdown(summaries: list[Summary]) -> str:
    rows = ["| harness | executions | exec/s | cov (edges) | ft | peak RSS | crashes | slowest input |",
            "|---|---:|---:|---:|---:|---:|---|---|"]
    for s in summaries:
        crashes = "; ".join(f"{c.signature} ({Path(c.artifact).name})" for c in s.crashes) or "0"
        slow = (f"{s.slowest_seconds * 1000:.1f} ms ({s.slowest_bytes} B)" if s.slowest_seconds is not None
                else "-")
        rows.append(f"| {s.harness} | {s.executions:,} | {s.exec_per_sec:,} | {s.cov_edges:,} | "
                    f"{s.features:,} | "
                    f"{s.peak_rss_mb} MB | {crashes} | {slow} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("harness", nargs="+", help=f"'all' or some of: {', '.join(HARNESSES)}")
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--max-len", type=int, default=0, help="override the harness's -max_len")
    ap.add_argument("--timeout", type=int, default=2,
                    help="seconds per input before libFuzzer calls it a hang")
    ap.add_argument("--rss-limit-mb", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="libFuzzer -seed (0: random)")
    ap.add_argument("--max-total-time", type=int, default=0, help="seconds per harness (0: no limit)")
    ap.add_argument("--keep-going", action="store_true", help="after a crash, go on past it (see above)")
    ap.add_argument("--no-timing", action="store_true",
                    help="skip replaying the corpus for the slowest input")
    ap.add_argument("--work", type=Path, default=WORK)
    args = ap.parse_args(argv)
    names = list(HARNESSES) if args.harness == ["all"] else args.harness
    unknown = [n for n in names if n not in HARNESSES]
    if unknown:
        ap.error(f"unknown harness {unknown[0]!r}")
    summaries = []
    for name in names:
        s = run_harness(name, args)
        summaries.append(s)
        print(markdown([s]).splitlines()[-1], flush=True)
    table = markdown(summaries)
    (args.work / "summary").mkdir(parents=True, exist_ok=True)
    (args.work / "summary" / "summary.md").write_text(table)
    print(table)
    return 1 if any(s.crashes for s in summaries) else 0


if __name__ == "__main__":
    raise SystemExit(main())
