"""Replay inputs through a harness's ``TestOneInput``, uninstrumented: reproduce a crash, or time a
corpus.

    .venv/bin/python -m fuzz.replay HARNESS FILE_OR_DIR...          # raises on the first crash
    .venv/bin/python -m fuzz.replay --time HARNESS DIR...           # JSON: slowest input and its time
    .venv/bin/python -m fuzz.replay --signature HARNESS FILE        # the crash's Type@file:line

``HARNESS`` is ``cwmp`` or ``fuzz_cwmp``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from fuzz._common import signature


def harness(name: str) -> Callable[[bytes], None]:
    name = name.removeprefix("fuzz_").removesuffix(".py")
    module = importlib.import_module(f"fuzz.fuzz_{name}")
    return module.TestOneInput  # type: ignore[no-any-return]


def inputs(paths: list[str]) -> Iterator[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.iterdir() if f.is_file())
        elif p.is_file():
            yield p


def _run(test: Callable[[bytes], None], data: bytes) -> Exception | None:
    try:
        test(data)
    except Exception as exc:
        return exc
    return None


def _timed(test: Callable[[bytes], None], data: bytes) -> float:
    start = time.perf_counter()
    _run(test, data)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time", action="store_true", help="time every input; print the slowest as JSON")
    ap.add_argument("--signature", action="store_true", help="print the crash signature of the input")
    ap.add_argument("harness")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    test = harness(args.harness)
    timed: list[tuple[float, str, int]] = []
    total, count, size = 0.0, 0, 0
    warm = args.time
    for path in inputs(args.paths):
        data = path.read_bytes()
        if warm:  # the first call pays for lazy imports and caches: not the input's cost
            _run(test, data)
            warm = False
        start = time.perf_counter()
        exc = _run(test, data)
        took = time.perf_counter() - start
        if exc is not None:
            if args.signature:
                print(signature(exc))
                return 1
            if not args.time:
                traceback.print_exception(exc)
                print(f"CRASH {signature(exc)} {path}", file=sys.stderr)
                return 1
            print(f"CRASH {signature(exc)} {path}", file=sys.stderr)
        total += took
        count += 1
        size += len(data)
        timed.append((took, str(path), len(data)))
    if args.signature:
        print("no crash")
        return 0
    if args.time:
        # The slowest few again, best of three: a collection or a busy core is not the input's cost.
        slowest: tuple[float, str, int] = (0.0, "", 0)
        for _took, name, length in sorted(timed, reverse=True)[:5]:
            data = Path(name).read_bytes()
            best = min(_timed(test, data) for _ in range(3))
            slowest = max(slowest, (best, name, length))
        print(json.dumps({"inputs": count, "bytes": size, "seconds": round(total, 4),
                          "slowest_seconds": round(slowest[0], 6), "slowest_input": slowest[1],
                          "slowest_bytes": slowest[2]}))
    else:
        print(f"{count} inputs, no crash", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
