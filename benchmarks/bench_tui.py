"""Open a generated capture of ≥ 100k CWMP sessions in the terminal UI, headless, and time it.

    python benchmarks/bench_tui.py [--sessions 100000] [--repeat 20] [--keep FILE.pcap]

Prints the time to the first paint of the screen (the capture is read in a worker thread,
so this does not wait for the capture), the time until the first sessions are listed, the
time to read the whole capture, then, with every session listed, the median time per page
scroll (``pagedown`` and the repaint) next to Pilot's own floor for a key that does nothing,
and the time to apply a filter.  Targets (issue 6): first paint ≤ 1 s, ≤ 50 ms per page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gencap import Conn, Writer, _envelope, _inform, _post, _resp
from dmsniff.tui.app import DmsniffApp
from dmsniff.tui.session_list import SessionList


def generate(path: Path, sessions: int, seed: int = 7) -> int:
    """Minimal CWMP sessions, one per connection: Inform, InformResponse, empty POST, 204."""
    rng = random.Random(seed)
    answer = _envelope("1", "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>")
    with path.open("wb") as fh:
        w = Writer(fh)
        for n in range(sessions):
            cli = (0x0A000000 + (n % 60000) + 1, 1024 + n % 60000)
            c = Conn(w, cli, (0xC0A80002, 7547), rng)
            c.send(True, _post(7547, _inform(rng, n, 2), auth=False))
            c.send(False, _resp(200, answer))
            c.send(True, _post(7547, b"", auth=False))
            c.send(False, _resp(204, b""))
            c.close()
        return w.count


class _TimedApp(DmsniffApp):
    painted = 0.0

    def on_mount(self) -> None:  # runs after DmsniffApp.on_mount (Textual calls both)
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self.painted = time.perf_counter()


async def measure(path: Path, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    app = _TimedApp([str(path)])
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.painted:
            await asyncio.sleep(0.005)
        out["first_paint"] = app.painted - t0
        lst = app.query_one(SessionList)
        while lst.row_count == 0 and not app.progress.done:
            await asyncio.sleep(0.01)
        out["first_sessions"] = time.perf_counter() - t0
        while not app.progress.done:
            await asyncio.sleep(0.1)
        await pilot.pause()
        out["loaded"] = time.perf_counter() - t0
        out["sessions"] = lst.row_count
        lst.focus()
        await pilot.pause()
        # When did the list last draw a line: the end of its repaint after a key.
        drawn = [0.0]
        render_line = lst.render_line

        def timed(y: int):  # type: ignore[no-untyped-def]
            strip = render_line(y)
            drawn[0] = time.perf_counter()
            return strip

        lst.render_line = timed  # type: ignore[method-assign]
        scrolls, floor, repaint = [], [], []
        for _ in range(repeat):
            t = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            scrolls.append(time.perf_counter() - t)
            repaint.append(drawn[0] - t)
            t = time.perf_counter()
            await pilot.press("f13")  # bound to nothing: what Pilot itself costs
            await pilot.pause()
            floor.append(time.perf_counter() - t)
        out["page_scroll"] = statistics.median(scrolls)
        out["list_repaint"] = statistics.median(repaint)
        out["pilot_floor"] = statistics.median(floor)
        t = time.perf_counter()
        app.apply_filter("device:00BEEF-Gen-99")
        await pilot.pause()
        out["filter"] = time.perf_counter() - t
        out["filtered"] = lst.row_count
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20, help="page scrolls timed")
    ap.add_argument("--keep", help="write the capture here (and reuse it when it exists)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "sessions.pcap"
        if not path.exists():
            t = time.perf_counter()
            packets = generate(path, args.sessions)
            print(f"generated {path}: {args.sessions:,} sessions, {packets:,} packets, "
                  f"{path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
        r = asyncio.run(measure(path, args.repeat))
    ok = "met" if r["first_paint"] <= 1.0 else "NOT met"
    print(f"first paint             {r['first_paint'] * 1000:8.0f} ms   (target ≤ 1000 ms: {ok})")
    print(f"first sessions listed   {r['first_sessions'] * 1000:8.0f} ms")
    print(f"whole capture read      {r['loaded']:8.1f} s    ({r['sessions']:,.0f} sessions listed)")
    ok = "met" if r["list_repaint"] <= 0.05 else "NOT met"
    print(f"page scroll (median)    {r['list_repaint'] * 1000:8.1f} ms   key to the list repainted "
          f"(target ≤ 50 ms: {ok})")
    print(f"  with the detail       {r['page_scroll'] * 1000:8.1f} ms   press+pause, timeline and detail of "
          f"the new row drawn too; Pilot's own floor {r['pilot_floor'] * 1000:.1f} ms")
    print(f"filter over all         {r['filter'] * 1000:8.0f} ms   ({r['filtered']:,.0f} sessions match)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
