"""The frame driver: the frames of one capture, through the network layers and the protocol parsers,
into records in canonical order.

Link and IP (:mod:`dmsniff.net.packet`), TCP reassembly (:mod:`dmsniff.net.tcp`), HTTP and TLS
(:mod:`dmsniff.net.http`, :mod:`dmsniff.net.tls`), then each HTTP body and UDP payload offered to
the protocol parsers (:mod:`dmsniff.protocols`).  Nothing here keeps a record once it is handed
on, so memory is bounded by the open connections, not by the size of the capture.  The same
driver runs in this process, in each worker process (one shard of the connections each) and in
each cluster task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING

from dmsniff.capture import CaptureInfo, Frame
from dmsniff.model import ConnectionEnd, Datagram, Transaction, format_ip
from dmsniff.net.http import DEFAULT_MAX_BODY, HttpStats, HttpTracker, make_classifier
from dmsniff.net.packet import Dissector, shard_of
from dmsniff.net.tcp import Connection, TcpReassembler
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import records
from dmsniff.pipeline.records import MAX_INTERNAL_ERRORS, CaptureSummary, Item

if TYPE_CHECKING:
    from dmsniff.net.tls import CaptureKeys, TlsContext, TlsTracker


class FrameDriver:
    """Drives the frames of one capture into an ordered stream of :data:`Item`.

    With ``nshards > 1`` this driver follows only the TCP connections that hash to ``shard``
    (whole connections, both directions, so each is followed exactly as a single driver would),
    and reports the UDP datagrams whose 4-tuple hashes to ``shard`` the same way.
    ``parse_protocols=False`` (an HTTP-only report) stops at HTTP: bodies and payloads are not
    offered to the protocol parsers.
    """

    def __init__(self, index: int, out: Callable[[Item], None], *, max_body: int = DEFAULT_MAX_BODY,
                 shard: int = 0, nshards: int = 1, parse_protocols: bool = True,
                 keys: Callable[[], CaptureKeys] | None = None, by_hosts: bool = False,
                 info: CaptureInfo | None = None) -> None:
        self.index = index
        self.out = out
        self._parse = parse_protocols
        if parse_protocols:
            # Imported here, not at the top: an HTTP-only run (and a worker forked before
            # the main process has loaded the parsers) never needs lxml and the decoders.
            from dmsniff.protocols import parse_bodies, parse_datagram

            self._parse_bodies = parse_bodies
            self._parse_datagram = parse_datagram
        self._pending: list[Item] = []
        # Ids name the frame where a thing starts, so every shard (and every run) agrees.
        self._tag = "" if index == 0 else f"{index}-"
        # Datagrams are spread like connections.  Shard 0 used to report them all: on the OMA DM
        # benchmark capture its 3,237 Package #0 datagrams, in the shard that already ran longest.
        self._shard, self._nshards, self._by_hosts = shard, nshards, by_hosts
        self._finishing = False
        self.http_stats = HttpStats()
        # TLS is always followed (an HTTPS connection is reported, decrypted or not); the keys are
        # the user's, plus those in the capture's own Decryption Secrets Blocks.  The TLS state is
        # made when the first TLS connection shows up: plaintext captures never load the crypto.
        self._keys = keys
        self._info = info
        self.tls: TlsContext | None = None
        classify = make_classifier(index, self._emit_transaction, self.http_stats, max_body, self._closed,
                                   self._tls_context)
        self.tcp = TcpReassembler(classify, id_prefix=f"C{self._tag}")
        # With TLS keys, connections are split between workers by host pair, not by 4-tuple: a
        # resumed TLS session then meets the full handshake whose master secret it reuses.
        self.dissector = Dissector(self.tcp.segment, self._on_udp, shard=shard, nshards=nshards,
                                   by_hosts=by_hosts, tick=self.tcp.tick)
        self._faults = 0
        self.dissector.on_fault = self._frame_fault
        self.tcp.on_fault = self._connection_fault

    def _tls_context(self) -> TlsContext:
        if self.tls is None:
            from dmsniff.net.tls import CaptureKeys, TlsContext

            keys = self._keys() if self._keys is not None else CaptureKeys(TlsKeySpec())
            self.tls = TlsContext(keys, self._info)
        return self.tls

    def _emit_transaction(self, tx: Transaction, conn_frame: int, number: int) -> None:
        if self._parse:
            try:
                self._parse_bodies(tx)
            except Exception as exc:  # a parser bug costs this exchange's parsing, nothing more
                msg = tx.request or tx.response
                self._report(f"decoding the bodies of {tx.id}", exc, [msg.frame] if msg else [], conn_frame)
        self._pending.append(((self.dissector.current_frame, conn_frame, number), tx))

    def _report(self, where: str, exc: Exception, frames: list[int], conn_frame: int) -> None:
        """A part of the decoding failed (a bug): say so as a finding, in canonical order."""
        self._faults += 1
        if self._faults > MAX_INTERNAL_ERRORS:
            return
        if self._faults == MAX_INTERNAL_ERRORS:
            where += " (further internal errors in this capture are not reported)"
        finding = records.internal_error(where, exc, frames, self.index)  # (looked up: fuzz/ patches it)
        self._pending.append(((self.dissector.current_frame, conn_frame, 0), finding))

    def _frame_fault(self, frame: int, exc: Exception) -> None:
        self._report(f"decoding frame {frame}", exc, [frame], 0)

    def _connection_fault(self, conn: Connection, exc: Exception) -> None:
        frame = self.dissector.current_frame
        self._report(f"following connection {conn.id} (the rest of it is skipped)", exc, [frame],
                     conn.first_frame)

    def _closed(self, tracker: HttpTracker | TlsTracker) -> None:
        conn = tracker.conn
        end = ConnectionEnd(self.index, conn.id, conn.last_ts, self._finishing, tracker.tls_facts)
        # Sorts after the connection's last exchange.
        self._pending.append(((self.dissector.current_frame, conn.first_frame, tracker.count + 1), end))

    def _on_udp(self, frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int,
                payload: bytes) -> None:
        n = self._nshards
        if n == 1 or shard_of(src, sport, dst, dport, n, self._by_hosts) == self._shard:
            record = None
            if self._parse:
                try:
                    record = self._parse_datagram(payload, sport, dport)
                except Exception as exc:
                    self._report(f"decoding datagram U{self._tag}{frame}", exc, [frame], 0)
            dg = Datagram(f"U{self._tag}{frame}", self.index, frame, ts, format_ip(src), sport,
                          format_ip(dst), dport, payload, record)
            self._pending.append(((frame, 0, 0), dg))

    def _flush(self) -> None:
        pending = self._pending
        if len(pending) > 1:
            pending.sort(key=itemgetter(0))
        out = self.out
        for item in pending:
            out(item)
        pending.clear()

    def run(self, frames: Iterable[Frame], info: CaptureInfo) -> None:
        """Decode every frame, then flush what is still open at the end of the capture."""
        try:
            # Records are flushed after the frame that completed them: live captures stream.
            self.dissector.run(frames, self._pending, self._flush)
        except KeyboardInterrupt:
            info.errors.append("interrupted")
        finally:
            self._finishing = True
            self.dissector.current_frame += 1  # records completed by the end sort after every frame
            self.dissector.finish()
            self.tcp.finish()
            self._flush()

    def summary(self, info: CaptureInfo) -> CaptureSummary:
        st, tcp, http = self.dissector.stats, self.tcp, self.http_stats
        tls = self.tls.stats if self.tls is not None else None
        return CaptureSummary(
            index=self.index, info=info, tcp_connections=tcp.connections,
            http_connections=http.connections, http_transactions=http.transactions,
            udp_datagrams=st.udp_datagrams,
            counters={
                "tcp_segments": st.tcp_segments,
                "ip_fragments": st.ip_fragments,
                "ip_datagrams_reassembled": st.reassembled_datagrams,
                "ip_fragments_dropped": st.fragments_dropped,
                "non_ip_or_other_protocol": st.other,
                "malformed": st.malformed,
                "unknown_link_type": sum(st.unknown_linktypes.values()),
                "tunnelled_frames": sum(st.tunnelled.values()),
                "tcp_gaps": tcp.gaps,
                "tcp_gap_bytes": tcp.gap_bytes,
                "tcp_conflicting_retransmissions": tcp.conflicts,
                "tcp_segments_after_close": tcp.late_segments,
                "http_bytes_outside_messages": http.skipped_bytes,
                "tls_connections": tls.connections if tls else 0,
                "tls_connections_decrypted": tls.decrypted if tls else 0,
                "tls_opaque_bytes": tls.opaque_bytes if tls else 0,
            },
        )
