"""The human-readable report: one line per HTTP exchange, then a summary per capture."""

from __future__ import annotations

import time
from typing import TextIO

from dmsniff.capture import CaptureError, CaptureInfo, link_type_name
from dmsniff.model import HttpMessage, Transaction
from dmsniff.pipeline import Addon, CaptureSummary


def format_time(ts: float | None) -> str:
    """UTC wall-clock time with microseconds, as an engineer compares it with device logs."""
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1e6) % 1000000:06d}"


def _size(n: int) -> str:
    if n < 10240:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 10 * 1024 * 1024 else f"{n / 1048576:.1f} MiB"


def _flags(msg: HttpMessage | None) -> str:
    if msg is None:
        return ""
    return "" if msg.complete else " [incomplete]"


class TextReport(Addon):
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.info: CaptureInfo | None = None

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.info = info
        kind = info.format + (", gzip" if info.compressed else "")
        self.out.write(f"== {info.path} ({kind})\n")

    def transaction(self, tx: Transaction) -> None:
        req, resp = tx.request, tx.response
        base = self.info.first_time if self.info and self.info.first_time is not None else 0.0
        first = req if req is not None else resp
        assert first is not None
        rel = first.first_time - base
        req_frame = f"{req.frame:>6}" if req else "     -"
        resp_frame = f"{resp.frame:<6}" if resp else "-     "
        left = f"{req.method} {req.uri}" if req else "(request not captured)"
        if resp is not None:
            right = f"{resp.status} {resp.reason}".rstrip()
        elif req is not None:
            right = "(no response)"
        else:
            right = ""
        sizes = (f"{_size(req.body_length) if req else '-'} / {_size(resp.body_length) if resp else '-'}")
        interim = "".join(f" {m.status}" for m in tx.interim)
        self.out.write(
            f"{tx.id:<9} {req_frame} → {resp_frame} {rel:>10.6f}  {tx.client} → {tx.server}  "
            f"{left}{_flags(req)}  ⇒{interim} {right}{_flags(resp)}  ({sizes})\n"
        )
        for msg in (req, resp):
            if msg is not None:
                for p in msg.problems:
                    self.out.write(f"{'':<10}! frame {msg.frame}: {p}\n")

    def capture_end(self, summary: CaptureSummary) -> None:
        info = summary.info
        span = ""
        if info.first_time is not None and info.last_time is not None:
            span = (f", {format_time(info.first_time)} → {format_time(info.last_time)} UTC "
                    f"({info.last_time - info.first_time:.3f} s)")
        links = ", ".join(link_type_name(lt) for lt in info.link_types) or "no link type"
        self.out.write(
            f"-- {info.packets} packets ({links}){span}\n"
            f"-- {summary.tcp_connections} TCP connections, {summary.http_connections} with HTTP, "
            f"{summary.http_transactions} HTTP transactions, {summary.udp_datagrams} UDP datagrams\n"
        )
        notable = {k: v for k, v in summary.counters.items() if v and k != "tcp_segments"}
        if notable:
            items = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in notable.items())
            self.out.write(f"-- {items}\n")
        for err in info.errors:
            self.out.write(f"-- error: {err}\n")
        self.out.write("\n")

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.out.write(f"== {path}\n-- error: {error}\n\n")

    def done(self) -> None:
        self.out.flush()
