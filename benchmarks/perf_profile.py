"""Where the CPU of the compiled build goes, per compiled function, from Linux ``perf``.

cProfile sees only Python frames: in the compiled build (mypyc) the hot modules are C, and
their time lands in whichever Python function called them.  ``perf record`` with DWARF call
graphs sees every native frame.  Each sample is given to the innermost frame that is a
compiled dmsniff function (``CPyDef_sessions___omadm___DmSessions____summarise`` is
``sessions.omadm.DmSessions._summarise``) or a library worth naming (libxml2, lxml, orjson, pickle):
"self" is then a function's own code plus the Python runtime it calls (dict lookups, object
allocation, attribute access, interpreted helpers such as the record classes' ``__init__``),
which is where a compiled function's cost really lies.  "total" adds what the compiled
functions and libraries it calls take.  A sample whose stack holds none of them (the
interpreter running pure-Python code: record classes, addons.py, ...) goes to
``(python: <innermost C function>)``.

Run by hand, like every benchmark (it needs ``perf`` and the permission to use it)::

    python benchmarks/perf_profile.py CAPTURE [--top 40] [--freq 200] [-- REPORT OPTIONS]

It profiles ``python -m dmsniff report -j 1 --format jsonl -o /dev/null CAPTURE`` with the
dmsniff found on ``PYTHONPATH`` (a clone compiled in place: benchmarks/README.md); options
after ``--`` replace ``-j 1 --format jsonl``.  Sampling adds noise of a percent or two at
the default 200 Hz on a 200k-packet capture; the shares, not the seconds, are the figures.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Native libraries named as a whole (their internals are not ours to tune): a substring of
# the frame's symbol or shared object, and the name shown.
_LIBRARIES = (
    ("libxml2", "libxml2"),
    ("etree.cpython", "lxml"),
    ("orjson", "orjson"),
    ("_pickle", "pickle"),
)


def demangle(symbol: str) -> str | None:
    """The dotted name of a mypyc function symbol, None for any other symbol.

    mypyc names a function ``CPyDef_`` + its module's last components, class and name joined
    by ``___`` (``CPyPy_`` is the wrapper Python calls; both mean the function)."""
    for prefix in ("CPyDef_", "CPyPy_"):
        if symbol.startswith(prefix):
            return symbol[len(prefix):].replace("___", ".")
    return None


def _frame_name(symbol: str, dso: str) -> str | None:
    name = demangle(symbol)
    if name is not None:
        return name
    for needle, label in _LIBRARIES:
        if needle in dso or needle in symbol:
            return label
    return None


def parse_script(lines: Iterable[str], process: str = "all") -> Iterator[list[tuple[str, str]]]:
    """The samples of ``perf script -F pid,ip,sym,dso`` output: each a list of (symbol, shared
    object) from the innermost frame out.  ``process``: "all", "main" (the first process seen,
    the one perf started) or "workers" (every other: the ``-j`` workers)."""
    stack: list[tuple[str, str]] = []
    main_pid = ""
    keep = True
    for raw in lines:
        line = raw.strip()
        if not line:
            if stack and keep:
                yield stack
            stack = []
            continue
        if not raw.startswith("\t"):  # a sample's first line: the pid, right-aligned (frames: a tab)
            pid = line.split(None, 1)[0]
            main_pid = main_pid or pid
            keep = process == "all" or (pid == main_pid) == (process == "main")
            continue
        # "7f12ab34 symbol+0x1a (/path/lib.so)": the address, the symbol, the object in brackets.
        parts = line.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
        dso = ""
        if rest.endswith(")") and " (" in rest:
            rest, _, dso = rest.rpartition(" (")
            dso = dso[:-1]
        symbol = rest.split("+0x", 1)[0]
        stack.append((symbol, dso))
    if stack and keep:
        yield stack


@dataclass
class Profile:
    samples: int
    self_: collections.Counter[str]
    total: collections.Counter[str]


def attribute(samples: Iterable[list[tuple[str, str]]]) -> Profile:
    """Self and total samples per named frame (see the module docstring)."""
    self_: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    n = 0
    for stack in samples:
        n += 1
        names = [_frame_name(sym, dso) for sym, dso in stack]
        innermost = next((x for x in names if x is not None), None)
        if innermost is None:
            leaf = stack[0][0] if stack else "?"
            innermost = f"(python: {leaf})"
        self_[innermost] += 1
        for name in {x for x in names if x is not None} | {innermost}:
            total[name] += 1
    return Profile(n, self_, total)


def render(profile: Profile, top: int) -> str:
    n = max(profile.samples, 1)
    out = [f"{profile.samples} samples", f"{'self %':>7} {'total %':>8}  function"]
    for name, count in profile.self_.most_common(top):
        out.append(f"{count / n * 100:7.1f} {profile.total[name] / n * 100:8.1f}  {name}")
    out.append("")
    out.append(f"{'total %':>8}  function (by total)")
    for name, count in profile.total.most_common(top):
        out.append(f"{count / n * 100:8.1f}  {name}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    report_args = ["-j", "1", "--format", "jsonl"]
    if "--" in argv:
        at = argv.index("--")
        argv, report_args = argv[:at], argv[at + 1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("capture")
    p.add_argument("--top", type=int, default=40, help="functions shown (default 40)")
    p.add_argument("--freq", type=int, default=200, help="samples a second (default 200)")
    p.add_argument("--keep", metavar="FILE", help="keep perf's data file here")
    p.add_argument("--process", choices=("all", "main", "workers"), default="all",
                   help="whose samples: every process's (default), the main process's, or the -j workers'")
    args = p.parse_args(argv)
    if shutil.which("perf") is None:
        print("perf_profile: perf is not installed (linux-tools / linux-perf)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        data = args.keep or os.path.join(tmp, "perf.data")
        cmd = [sys.executable, "-m", "dmsniff", "report", *report_args, "-o", os.devnull, args.capture]
        rec = subprocess.run(["perf", "record", "-q", "-F", str(args.freq), "--call-graph", "dwarf,16384",
                              "-o", data, "--", *cmd], check=False)
        if rec.returncode != 0:
            print(f"perf_profile: perf record exited {rec.returncode}", file=sys.stderr)
            return 2
        script = subprocess.Popen(["perf", "script", "-i", data, "-F", "pid,ip,sym,dso"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  errors="replace")
        assert script.stdout is not None
        profile = attribute(parse_script(script.stdout, args.process))
        if script.wait() != 0:  # (its stderr is perf's noise about unwinding; the code is what counts)
            print(f"perf_profile: perf script exited {script.returncode}", file=sys.stderr)
            return 2
    print(f"perf_profile: {' '.join(cmd)}")
    print(render(profile, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
