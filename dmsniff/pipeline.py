"""The pipeline: frames → IP/TCP/UDP → HTTP transactions and datagrams → addons.

Everything that consumes decoded traffic (report writers now; the CWMP and OMA DM
decoders, session builders and verifiers later) is an :class:`Addon`, in the manner of
mitmproxy: it implements the hooks it cares about and is called in order.  The
pipeline itself knows nothing about what the addons do, so a new protocol plugs in as
one more addon fed with transactions and datagrams.

Nothing here keeps transactions once the addons have seen them, so memory is bounded
by the open connections, not by the size of the capture.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from dmsniff.capture import CaptureError, CaptureInfo, Frame, link_type_name, open_capture
from dmsniff.model import Datagram, Transaction, format_ip
from dmsniff.net.http import DEFAULT_MAX_BODY, HttpStats, make_classifier
from dmsniff.net.packet import Dissector
from dmsniff.net.tcp import TcpReassembler


@dataclass(slots=True)
class CaptureSummary:
    """What was read from one capture: the ``captures`` entry of a report."""

    index: int
    info: CaptureInfo
    tcp_connections: int = 0
    http_connections: int = 0
    http_transactions: int = 0
    udp_datagrams: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return self.info.errors

    def to_dict(self) -> dict[str, object]:
        info = self.info
        return {
            "index": self.index,
            "path": info.path,
            "format": info.format,
            "compressed": info.compressed,
            "packets": info.packets,
            "link_types": [link_type_name(lt) for lt in info.link_types],
            "first_time": info.first_time,
            "last_time": info.last_time,
            "tcp_connections": self.tcp_connections,
            "http_connections": self.http_connections,
            "http_transactions": self.http_transactions,
            "udp_datagrams": self.udp_datagrams,
            "counters": self.counters,
            "errors": list(info.errors),
        }


class Addon:
    """Base class for pipeline consumers; override the hooks you need."""

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        """A capture is about to be read."""

    def transaction(self, tx: Transaction) -> None:
        """An HTTP request/response pair completed (or its connection ended)."""

    def datagram(self, dg: Datagram) -> None:
        """A UDP datagram was seen."""

    def capture_end(self, summary: CaptureSummary) -> None:
        """A capture has been read to its end (or to the fault that stopped it)."""

    def capture_failed(self, path: str, error: CaptureError) -> None:
        """A capture could not be read at all."""

    def done(self) -> None:
        """Every capture has been read."""


class Pipeline:
    """Runs captures through the decoders and hands the results to the addons."""

    def __init__(self, addons: Sequence[Addon], *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.addons = list(addons)
        self.max_body = max_body
        self._capture_index = 0
        self._conn_ids: Iterator[int] = itertools.count(1)
        self._udp_ids: Iterator[int] = itertools.count(1)

    def run_files(self, paths: Iterable[str]) -> list[CaptureSummary | CaptureError]:
        """Read each capture in turn; a capture that cannot be opened is reported, not raised."""
        results: list[CaptureSummary | CaptureError] = []
        for path in paths:
            try:
                cap = open_capture(path)
            except CaptureError as exc:
                for a in self.addons:
                    a.capture_failed(path, exc)
                results.append(exc)
                continue
            with cap:
                results.append(self.run_frames(cap, cap.info))
        for a in self.addons:
            a.done()
        return results

    def run_frames(self, frames: Iterable[Frame], info: CaptureInfo) -> CaptureSummary:
        """Decode frames from any source (file or live) and feed the addons."""
        index = self._capture_index
        self._capture_index += 1
        addons = self.addons
        for a in addons:
            a.capture_start(index, info)

        tx_hooks = [a.transaction for a in addons if type(a).transaction is not Addon.transaction]
        dg_hooks = [a.datagram for a in addons if type(a).datagram is not Addon.datagram]

        def emit(tx: Transaction) -> None:
            for hook in tx_hooks:
                hook(tx)

        udp_ids = self._udp_ids

        def on_udp(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int,
                   payload: bytes) -> None:
            if dg_hooks:
                dg = Datagram(f"U{next(udp_ids)}", index, frame, ts, format_ip(src), sport, format_ip(dst),
                              dport, payload)
                for hook in dg_hooks:
                    hook(dg)

        http_stats = HttpStats()
        tcp = TcpReassembler(make_classifier(index, emit, http_stats, self.max_body), ids=self._conn_ids)
        dissector = Dissector(tcp.segment, on_udp)
        handle = dissector.frame
        try:
            for number, ts, linktype, data in frames:
                handle(number, ts, linktype, data)
        except KeyboardInterrupt:
            info.errors.append("interrupted")
        finally:
            dissector.finish()
            tcp.finish()

        st = dissector.stats
        summary = CaptureSummary(
            index=index, info=info, tcp_connections=tcp.connections,
            http_connections=http_stats.connections, http_transactions=http_stats.transactions,
            udp_datagrams=st.udp_datagrams,
            counters={
                "tcp_segments": st.tcp_segments,
                "ip_fragments": st.ip_fragments,
                "ip_datagrams_reassembled": st.reassembled_datagrams,
                "ip_fragments_dropped": st.fragments_dropped,
                "non_ip_or_other_protocol": st.other,
                "malformed": st.malformed,
                "unknown_link_type": sum(st.unknown_linktypes.values()),
                "tcp_gaps": tcp.gaps,
                "tcp_gap_bytes": tcp.gap_bytes,
                "tcp_conflicting_retransmissions": tcp.conflicts,
                "tcp_segments_after_close": tcp.late_segments,
                "http_bytes_outside_messages": http_stats.skipped_bytes,
            },
        )
        for a in addons:
            a.capture_end(summary)
        return summary
