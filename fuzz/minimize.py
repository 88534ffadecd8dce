"""Shrink a crashing input while it still raises the same crash (type and place).

    .venv/bin/python -m fuzz.minimize HARNESS CRASH_FILE OUT_FILE [--seconds 120]

libFuzzer's ``-minimize_crash=1`` runs ``argv[0]`` again as a program, which a harness started with
``python -m`` is not; this does the same job in-process, without instrumentation: it cuts ever
smaller pieces out of the input (halves, quarters ... single bytes), then tries replacing each byte
with a simpler one, keeping every change after which the harness still raises with the same
signature (``Type@file:line`` of the deepest project frame).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from fuzz._common import signature
from fuzz.replay import harness


def crash_of(test: Callable[[bytes], None], data: bytes) -> str | None:
    try:
        test(data)
    except Exception as exc:
        return signature(exc)
    return None


def minimize(test: Callable[[bytes], None], data: bytes, seconds: float = 120.0) -> bytes:
    want = crash_of(test, data)
    if want is None:
        raise SystemExit("the input does not crash the harness")
    deadline = time.monotonic() + seconds
    size = max(1, len(data) // 2)
    while size >= 1 and time.monotonic() < deadline:
        pos, changed = 0, False
        while pos < len(data) and time.monotonic() < deadline:
            candidate = data[:pos] + data[pos + size:]
            if crash_of(test, candidate) == want:
                data, changed = candidate, True
            else:
                pos += size
        if not changed:
            size //= 2
    for i in range(len(data)):
        if time.monotonic() >= deadline:
            break
        for simpler in (0x41, 0x30, 0x00):
            if data[i] != simpler:
                candidate = data[:i] + bytes([simpler]) + data[i + 1:]
                if crash_of(test, candidate) == want:
                    data = candidate
                    break
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("harness")
    ap.add_argument("crash", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seconds", type=float, default=120.0)
    args = ap.parse_args(argv)
    test = harness(args.harness)
    data = args.crash.read_bytes()
    small = minimize(test, data, args.seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(small)
    print(f"{len(data)} -> {len(small)} bytes, {crash_of(test, small)}: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
