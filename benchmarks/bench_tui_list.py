"""Benchmark the TUI sessions list (dmsniff.tui.session_list) with very many rows.

Run by hand, never from the test suite:

    python benchmarks/bench_tui_list.py [--rows 100000 500000] [--repeat 5] [--pages 20]

For each row count, --repeat times, a headless Textual app (``App.run_test(size=(160, 50))``)
holding one SessionList is started, and this is measured:

* first paint: from the app's start (``run_test`` entered, rows already generated) to the end
  of the first pass of ``render_lines`` after ``set_rows`` (the set_rows call comes from
  ``on_mount``).  The time of the first ``render_line`` call and of ``set_rows`` alone are
  shown too.
* page scroll: ``await pilot.press("pagedown")`` then ``await pilot.pause()``, --pages times.
  This includes Textual's own work (key dispatch, compositing, the headless driver) and
  the pilot's waits for idle, which sleep in fixed slices: so the same press + pause of a key
  bound to nothing is timed too (the "pilot floor"), and so is the latency from sending the
  key to the end of the list's repaint (the last ``render_lines`` call it caused).
* widget render: the time spent inside the widget's ``render_line`` during each of those page
  scrolls, and separately one page of ``render_line`` calls made directly on rows never
  rendered before (a cold cache: every row formatted).

Medians over all runs are printed with the targets (first paint <= 1 s, page scroll <= 50 ms).
The rows are synthetic: random devices, servers, summaries long enough to be truncated.
A full garbage collection runs before each app start, so that the collector's debt from
generating the rows is not charged to the first paint.
Exit status 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import textual
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from dmsniff.tui.session_list import SessionList, SessionRow

SIZE = (160, 50)
TARGET_FIRST_PAINT_S = 1.0
TARGET_PAGE_S = 0.050

_METHODS = (
    "GetParameterValues",
    "SetParameterValues",
    "GetParameterNames",
    "AddObject",
    "Download",
    "Reboot",
    "GetRPCMethods",
)
_EVENTS = ("0 BOOTSTRAP", "1 BOOT", "2 PERIODIC", "4 VALUE CHANGE", "6 CONNECTION REQUEST")


def make_rows(count: int, seed: int = 1) -> list[SessionRow]:
    """``count`` deterministic synthetic rows, in start-time order like a real capture."""
    rng = random.Random(seed)
    start = 1_700_000_000.0
    rows: list[SessionRow] = []
    append = rows.append
    for i in range(count):
        start += rng.expovariate(20.0)
        cwmp = rng.random() < 0.8
        steps = [f"Inform({rng.choice(_EVENTS)})", "InformResponse"]
        steps += rng.choices(_METHODS, k=rng.randint(0, 6))
        steps.append("204")
        findings = rng.choice((0, 0, 0, 1, 2, 5))
        append(
            SessionRow(
                key=f"S{i}" if cwmp else f"D{i}",
                time=start,
                protocol="cwmp" if cwmp else "omadm",
                device=f"00259E-HG8245H-{rng.randrange(16**12):012X}",
                server=f"acs{rng.randrange(4)}.example.net:7547",
                messages=2 * len(steps),
                summary=" → ".join(steps),
                auth=rng.choice(("✓", "✓", "✗", "?", "")),
                findings=findings,
                severity=rng.choice(("error", "warning", "info")) if findings else "",
            )
        )
    return rows


class TimedList(SessionList):
    """SessionList with clocks on set_rows, render_line and render_lines."""

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self.set_rows_at: float | None = None
        self.set_rows_done: float | None = None
        self.first_line_at: float | None = None
        self.first_paint_at: float | None = None
        self.last_paint_at = 0.0
        self.render_time = 0.0  # cumulative seconds inside render_line

    def set_rows(self, rows: Sequence[SessionRow], base: float | None = None) -> None:
        self.set_rows_at = time.perf_counter()
        super().set_rows(rows, base)
        self.set_rows_done = time.perf_counter()

    def render_line(self, y: int) -> Strip:
        t0 = time.perf_counter()
        if self.first_line_at is None and self.set_rows_at is not None:
            self.first_line_at = t0
        strip = super().render_line(y)
        self.render_time += time.perf_counter() - t0
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        strips = super().render_lines(crop)
        self.last_paint_at = time.perf_counter()
        if self.first_paint_at is None and self.first_line_at is not None:
            self.first_paint_at = self.last_paint_at
        return strips


class ListApp(App[None]):
    """One full-screen SessionList that loads its rows on mount."""

    def __init__(self, rows: list[SessionRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield TimedList()

    def on_mount(self) -> None:
        widget = self.query_one(TimedList)
        widget.focus()
        widget.set_rows(self.rows)


@dataclass
class Run:
    set_rows: float
    first_line: float
    first_paint: float
    pages: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    page_render: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    cold_page_render: float = 0.0


async def one_run(rows: list[SessionRow], pages: int) -> Run:
    app = ListApp(rows)
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        widget = app.query_one(TimedList)
        deadline = time.perf_counter() + 60
        while widget.first_paint_at is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        if widget.first_paint_at is None or widget.set_rows_at is None:
            raise RuntimeError("the list never painted")
        assert widget.first_line_at is not None and widget.set_rows_done is not None
        run = Run(
            set_rows=widget.set_rows_done - widget.set_rows_at,
            first_line=widget.first_line_at - started,
            first_paint=widget.first_paint_at - started,
        )
        await pilot.pause()
        for _ in range(pages):
            before = widget.render_time
            t0 = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            run.pages.append(time.perf_counter() - t0)
            if widget.last_paint_at > t0:
                run.latency.append(widget.last_paint_at - t0)
            run.page_render.append(widget.render_time - before)
        for _ in range(pages):
            t0 = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: the pilot's own cost
            await pilot.pause()
            run.floor.append(time.perf_counter() - t0)
        # One page straight through render_line, on rows far from anything rendered so far.
        widget.move_cursor(widget.row_count // 2)
        await pilot.pause()
        widget._strips.clear()  # cold: every visible row is formatted again
        height = widget.size.height
        t0 = time.perf_counter()
        for y in range(height):
            widget.render_line(y)
        run.cold_page_render = time.perf_counter() - t0
    return run


def med(values: Iterable[float]) -> float:
    """Median, or NaN when there is nothing to take it of."""
    items = list(values)
    return statistics.median(items) if items else float("nan")


def report(runs: list[Run]) -> None:
    """Print the medians over all runs of one row count."""
    lines = (
        ("set_rows", med(r.set_rows for r in runs)),
        ("start -> first render_line", med(r.first_line for r in runs)),
        ("start -> first paint complete", med(r.first_paint for r in runs)),
        ("page: press + pause", med(p for r in runs for p in r.pages)),
        ("  pilot floor (unbound key)", med(p for r in runs for p in r.floor)),
        (
            "  press + pause - floor",
            med(p for r in runs for p in r.pages) - med(p for r in runs for p in r.floor),
        ),
        ("  key -> list repainted", med(p for r in runs for p in r.latency)),
        ("  render_line time per page", med(p for r in runs for p in r.page_render)),
        ("one page of render_line, cold", med(r.cold_page_render for r in runs)),
    )
    for label, value in lines:
        print(f"{label:<32} median {ms(value)}")
    print(f"{'page: press + pause':<32} max    {ms(max(p for r in runs for p in r.pages))}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--repeat", type=int, default=5, help="app runs per row count")
    parser.add_argument("--pages", type=int, default=20, help="pagedown presses per run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}")
    size = f"{SIZE[0]}x{SIZE[1]}"
    print(f"textual {textual.__version__}, terminal {size}, {args.repeat} runs x {args.pages} pages")
    all_met = True
    for count in args.rows:
        print(f"\n== {count:,} rows", flush=True)
        t0 = time.perf_counter()
        rows = make_rows(count, args.seed)
        print(f"(generating the rows took {time.perf_counter() - t0:.2f} s; not counted)", flush=True)
        runs: list[Run] = []
        for i in range(args.repeat):
            gc.collect()
            run = asyncio.run(one_run(rows, args.pages))
            runs.append(run)
            print(
                f"run {i + 1}: first paint {ms(run.first_paint)}  page median {ms(med(run.pages))}",
                file=sys.stderr,
                flush=True,
            )
        report(runs)
        first_paint = med(r.first_paint for r in runs)
        page = med(p for r in runs for p in r.pages)
        latency = med(p for r in runs for p in r.latency)
        paint_ok = first_paint <= TARGET_FIRST_PAINT_S
        page_ok = page <= TARGET_PAGE_S
        latency_ok = latency <= TARGET_PAGE_S
        all_met &= paint_ok and latency_ok
        paint_target = f"first paint <= {TARGET_FIRST_PAINT_S:.0f} s"
        page_target = f"page scroll <= {TARGET_PAGE_S * 1000:.0f} ms"
        print(f"target {paint_target + ':':<56} {verdict(paint_ok)}")
        print(f"target {page_target + ', key -> list repainted:':<56} {verdict(latency_ok)}")
        print(f"target {page_target + ', press + pause (with floor):':<56} {verdict(page_ok)}")
    print(f"\nall targets (first paint, key -> repaint) {verdict(all_met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
