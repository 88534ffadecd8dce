"""Service response times: how long servers (and devices) took to answer, by what they were asked.

What ``tshark -z http,srt`` and Wireshark's Statistics → Service Response Time show, by
device-management message: the ACS's time to answer an Inform or to pick the next RPC after an
empty POST, a DM server's time to answer package 1 or 3, a device's time to answer a connection
request.  A time runs from the request's last frame to the response's first (the peer's think
time plus one network trip).  The text report ends with the table; every row names its slowest
exchange, to jump to.

Memory stays bounded: per row a count, a minimum, a maximum and at most ``SAMPLES`` times (a
reservoir, seeded, so a report is reproducible: the percentiles are exact up to that many
answers, estimates beyond); at most ``MAX_ROWS`` rows (a hostile capture can make up message
kinds), the rest counted in one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from decoders.cwmp import CwmpMessage
from decoders.syncml import SyncMLMessage
from dmsniff.model import HttpMessage, Transaction

SAMPLES = 10_000
MAX_ROWS = 200
OTHER = "(other kinds)"


@dataclass(slots=True)
class _Row:
    count: int = 0
    unanswered: int = 0
    low: float = float("inf")
    high: float = -1.0
    slowest: str = ""
    times: list[float] = field(default_factory=list)


def request_kind(msg: HttpMessage) -> str:
    """What a request asked, as a row of the table: ``cwmp Inform``, ``HTTP POST (empty)``, ``omadm
    Alert, Replace`` (the commands a SyncML message carries, Status left out), ``HTTP GET`` ..."""
    proto = msg.protocol
    if isinstance(proto, CwmpMessage):
        return f"cwmp {proto.kind}"
    if isinstance(proto, SyncMLMessage):
        names = dict.fromkeys(c.name for c in proto.commands if c.name != "Status")
        return "omadm " + (", ".join(names) if names else "Status only")
    if msg.body_length == 0 and msg.method == "POST":
        return "HTTP POST (empty)"  # (a CWMP session's empty POST: the ACS picks its next RPC)
    return f"HTTP {msg.method}"


class ResponseTimes:
    """The table's rows, filled one transaction at a time."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self._random = random.Random(0)

    def add(self, tx: Transaction) -> None:
        req, resp = tx.request, tx.response
        if req is None:
            return
        kind = request_kind(req)
        row = self.rows.get(kind)
        if row is None:
            if len(self.rows) >= MAX_ROWS:
                kind = OTHER
                row = self.rows.get(kind)
            if row is None:
                row = self.rows[kind] = _Row()
        row.count += 1
        if resp is None:
            row.unanswered += 1
            return
        t = tx.response_time or 0.0
        row.low = min(row.low, t)
        if t > row.high:
            row.high, row.slowest = t, tx.id
        answered = row.count - row.unanswered
        if len(row.times) < SAMPLES:
            row.times.append(t)
        else:  # reservoir sampling: each answer kept with the same chance
            j = self._random.randrange(answered)
            if j < SAMPLES:
                row.times[j] = t

    def lines(self) -> list[str]:
        """The table, slowest median first; [] when nothing was asked."""
        if not self.rows:
            return []
        head = (f"   {'requests':>8} {'no answer':>9} {'min':>9} {'median':>9} {'p95':>9} {'max':>9}  "
                f"{'slowest':<10} asked")
        out = ["== response times (from a request's last frame to its answer's first), in ms", head]
        ranked = sorted(self.rows.items(), key=lambda kv: (-_quantile(kv[1].times, 0.5), kv[0]))
        for kind, r in ranked:
            if r.times:
                cells = (f"{r.low * 1000:>9.1f} {_quantile(r.times, 0.5) * 1000:>9.1f} "
                         f"{_quantile(r.times, 0.95) * 1000:>9.1f} {r.high * 1000:>9.1f}  {r.slowest:<10}")
            else:
                cells = f"{'-':>9} {'-':>9} {'-':>9} {'-':>9}  {'-':<10}"
            out.append(f"   {r.count:>8,} {r.unanswered:>9,} {cells} {kind}")
        return out


def _quantile(times: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``times``; -1 when there are none."""
    if not times:
        return -1.0
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]
