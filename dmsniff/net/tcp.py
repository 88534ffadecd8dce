"""TCP reassembly for a passive observer: segments in, ordered byte streams out.

Each connection has two halves (direction 0 = from the endpoint that opened it, as far
as the capture shows, and 1 = back).  A half turns segments into a contiguous stream:

* in-order segments are delivered at once (the common case; kept cheap);
* segments from the future wait in a bounded out-of-order buffer;
* retransmissions and overlaps are trimmed: the first copy wins, and a later copy
  with different bytes is noted as a conflict (recent segments are kept to compare);
* sequence numbers are compared modulo 2**32, so wrap-around is invisible, while the
  stream offset handed on keeps counting;
* bytes that never show up (capture loss) become a ``gap`` of known length, delivered
  when the buffer overflows or the connection ends, so the consumer can resynchronise.

Connections that do not carry an interesting protocol are not reassembled at all: the
``classify`` callback probes each payload-bearing segment (cheap: a first-byte test
rejects most) and only once it hands back a sink does reassembly start.  Bulk non-HTTP
flows therefore cost one dict lookup per segment.

Memory is bounded by the open connections: closed and idle connections are dropped,
and each half buffers at most ``MAX_OOO_BYTES`` out of order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from dmsniff.model import format_ip

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_MASK = 0xFFFFFFFF
_HALF = 0x80000000

MAX_OOO_BYTES = 4 * 1024 * 1024
MAX_OOO_SEGMENTS = 512
RECENT_SEGMENTS = 16  # delivered segments kept to check retransmissions against
IDLE_TIMEOUT = 600.0  # capture seconds without a packet before a connection is closed
SWEEP_EVERY = 20000  # TCP segments of the capture between idle sweeps (TcpReassembler.tick)
# Closed connections are remembered briefly so their stragglers (last ACKs, retransmitted
# FINs) are not taken for new connections; briefly, so memory does not grow with the capture.
CLOSED_REMEMBERED_FOR = 30.0
MAX_CLOSED_REMEMBERED = 8192


class StreamSink(Protocol):
    """What a protocol tracker implements to receive a reassembled connection."""

    def data(self, direction: int, data: bytes, frame: int, ts: float) -> None: ...

    def gap(self, direction: int, length: int, frame: int, ts: float) -> None: ...

    def eof(self, direction: int, frame: int, ts: float) -> None: ...

    def close(self) -> None: ...


class _Half:
    """One direction of a connection."""

    __slots__ = ("done", "fin", "nxt", "offset", "ooo", "ooo_bytes", "probe", "recent", "seen_payload",
                 "started")

    def __init__(self) -> None:
        self.nxt = -1  # next expected sequence number (mod 2**32); -1 until known
        self.offset = 0  # stream offset of ``nxt`` (counts gaps; does not wrap)
        self.ooo: dict[int, tuple[bytes, int, float]] = {}  # offset -> (data, frame, ts)
        self.ooo_bytes = 0
        self.recent: deque[tuple[int, bytes]] = deque(maxlen=RECENT_SEGMENTS)
        self.fin = -1  # stream offset of the FIN, once seen
        self.seen_payload = False
        self.started = False  # reassembly running (a sink exists and ``nxt`` is anchored)
        self.done = False  # eof delivered
        # Contiguous segments that may be a start line cut short ("PO" + "ST / HTTP/1.1"),
        # kept while probing: (seq, data, frame, ts).
        self.probe: list[tuple[int, bytes, int, float]] | None = None


class Connection:
    """A TCP connection as seen in the capture."""

    __slots__ = ("a_ip", "a_port", "b_ip", "b_port", "conflicts", "first_frame", "halves", "id",
                 "key", "last_ts", "mid_stream", "reset", "sink", "syn_seen")

    def __init__(self, cid: str, key: tuple[bytes, int, bytes, int], frame: int, ts: float) -> None:
        self.id = cid
        self.key = key
        self.a_ip = format_ip(key[0])
        self.a_port = key[1]
        self.b_ip = format_ip(key[2])
        self.b_port = key[3]
        self.halves = (_Half(), _Half())
        self.sink: StreamSink | None = None
        self.first_frame = frame
        self.last_ts = ts
        self.syn_seen = False
        self.mid_stream = False
        self.reset = False
        self.conflicts: list[int] = []  # frames whose bytes differed from an earlier copy

    def has_sink(self) -> bool:
        # A method, not ``conn.sink is None``, where a call in between may have attached the sink:
        # mypy keeps the earlier narrowing to None, and mypyc's compiled code would check it.
        return self.sink is not None


class _Ignored:
    """The sink of a connection whose decoding failed: everything after the failure is dropped."""

    def data(self, direction: int, data: bytes, frame: int, ts: float) -> None:
        pass

    def gap(self, direction: int, length: int, frame: int, ts: float) -> None:
        pass

    def eof(self, direction: int, frame: int, ts: float) -> None:
        pass

    def close(self) -> None:
        pass


_IGNORED = _Ignored()

Classifier = Callable[[Connection, int, bytes], "StreamSink | None"]
#: Told when following a connection failed: (the connection, the exception).
Fault = Callable[[Connection, Exception], None]


class TcpReassembler:
    """Tracks every TCP connection; call :meth:`segment` for each of its segments in capture order,
    then :meth:`tick` (for every TCP segment of the capture, whoever follows it)."""

    def __init__(self, classify: Classifier, id_prefix: str = "C") -> None:
        self.classify = classify
        self._id_prefix = id_prefix
        self._flows: dict[tuple[bytes, int, bytes, int], tuple[Connection, int]] = {}
        self._closed: dict[tuple[bytes, int, bytes, int], float] = {}
        self._since_sweep = 0
        self.connections = 0
        self.reassembled = 0
        self.late_segments = 0  # data/FIN/RST segments for connections already closed
        self.gaps = 0
        self.gap_bytes = 0
        self.conflicts = 0
        #: Told when following one connection raised (a bug); None re-raises.
        self.on_fault: Fault | None = None

    # -- hot path ---------------------------------------------------------------------
    def segment(self, frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int,
                seq: int, ack: int, flags: int, payload: bytes) -> None:
        try:  # (free unless something raises: see _fault)
            key = (src, sport, dst, dport)
            entry = self._flows.get(key)
            if entry is None or (flags & SYN and not flags & ACK and self._is_new_syn(entry, seq)):
                entry = self._open(key, frame, ts, flags, payload)
                if entry is None:
                    return
            conn, direction = entry
            conn.last_ts = ts
            half = conn.halves[direction]

            if flags & SYN:
                if half.nxt < 0 or not half.seen_payload:
                    half.nxt = (seq + 1) & _MASK
                seq = (seq + 1) & _MASK  # data on a SYN (TCP Fast Open) starts after it
                conn.syn_seen = True

            if payload:
                if not half.started:
                    if conn.sink is None:
                        if not half.seen_payload and conn.syn_seen and half.nxt >= 0 and seq != half.nxt:
                            # Reordered before the stream's first segment: keep it until that
                            # segment says whether the connection is worth reassembling.
                            self._stash(half, seq, payload, frame, ts)
                            return
                        # Probe: is this the first segment of something we decode?  The first
                        # byte of an HTTP start line is an upper-case letter; most binary flows
                        # fail that test before any function call.
                        # (TLS records begin with 22, handshake, or 23, application data.)
                        first = payload[0]
                        if half.probe is not None or 65 <= first <= 90 or first == 22 or first == 23:
                            self._probe(conn, direction, half, seq, payload, frame, ts)
                        if not conn.has_sink():  # _probe may have attached one (a call mypy does not follow)
                            half.seen_payload = True
                            if half.ooo:
                                half.ooo.clear()
                                half.ooo_bytes = 0
                            half.nxt = (seq + len(payload)) & _MASK
                            if flags & (FIN | RST):
                                self._maybe_close(conn, direction, flags, half.nxt, frame, ts)
                            return
                        if half.started:  # the probe replayed this segment already
                            if flags & (FIN | RST):
                                self._maybe_close(conn, direction, flags, half.nxt, frame, ts)
                            return
                    # Reassembly starts here for this direction: right after the SYN when it was
                    # seen and nothing has been sent since, otherwise at this segment.
                    half.started = True
                    if half.nxt < 0 or half.seen_payload or not conn.syn_seen:
                        half.nxt = seq
                diff = ((seq - half.nxt + _HALF) & _MASK) - _HALF
                if diff == 0:
                    n = len(payload)
                    half.recent.append((half.offset, payload))
                    half.offset += n
                    half.nxt = (seq + n) & _MASK
                    half.seen_payload = True
                    conn.sink.data(direction, payload, frame, ts)  # type: ignore[union-attr]
                    if half.ooo:
                        self._drain(conn, direction, half)
                else:
                    self._unordered(conn, direction, half, diff, payload, frame, ts)
            elif half.nxt < 0:
                # A bare ACK is the first we see of this half: anchor it so later data is in order.
                half.nxt = seq

            if flags & (FIN | RST):
                self._maybe_close(conn, direction, flags, (seq + len(payload)) & _MASK, frame, ts)
            elif flags & ACK:
                other = conn.halves[1 - direction]
                if other.ooo and other.started:
                    # The peer acknowledges bytes the capture never had: they are lost, so
                    # say so now rather than at close, keeping both directions in step.
                    acked = ((ack - other.nxt + _HALF) & _MASK) - _HALF
                    if acked > 0:
                        self._skip_to_buffered(conn, 1 - direction, other, other.offset + acked)
        except Exception as exc:
            self._fault(src, sport, dst, dport, exc)

    # -- connection life --------------------------------------------------------------
    def _is_new_syn(self, entry: tuple[Connection, int], seq: int) -> bool:
        """A SYN on a known 4-tuple: a retransmitted SYN, or the tuple reused by a new connection."""
        conn, direction = entry
        half = conn.halves[direction]
        if direction == 0 and half.nxt == ((seq + 1) & _MASK) and not half.seen_payload:
            return False  # the same SYN again
        # Tuple reuse: finish the old connection first.
        self._close(conn)
        return True

    def _open(self, key: tuple[bytes, int, bytes, int], frame: int, ts: float, flags: int,
              payload: bytes) -> tuple[Connection, int] | None:
        """Start tracking a connection; returns it with the direction of this segment."""
        rkey = (key[2], key[3], key[0], key[1])
        if not flags & SYN and (key in self._closed or rkey in self._closed):
            # A straggler after close.  The last ACK of the FIN exchange is normal; only
            # data or FIN/RST retransmissions are worth counting.
            if payload or flags & (FIN | RST):
                self.late_segments += 1
            return None
        self._closed.pop(key, None)
        self._closed.pop(rkey, None)
        if flags & SYN and flags & ACK:
            # We missed the SYN: the sender of the SYN-ACK is the server, so direction 1.
            conn = Connection(f"{self._id_prefix}{frame}", rkey, frame, ts)
            direction = 1
        else:
            conn = Connection(f"{self._id_prefix}{frame}", key, frame, ts)
            conn.mid_stream = not flags & SYN
            direction = 0
        self._flows[conn.key] = (conn, 0)
        self._flows[(conn.key[2], conn.key[3], conn.key[0], conn.key[1])] = (conn, 1)
        self.connections += 1
        return conn, direction

    def _probe(self, conn: Connection, direction: int, half: _Half, seq: int, payload: bytes, frame: int,
               ts: float) -> None:
        """Offer the start of a direction's data to ``classify``; attach the sink it returns."""
        pieces = half.probe
        if pieces is not None and seq == half.nxt:
            pieces.append((seq, payload, frame, ts))
        elif 65 <= payload[0] <= 90 or payload[0] == 22 or payload[0] == 23:
            pieces = [(seq, payload, frame, ts)]
        else:
            half.probe = None
            return
        data = b"".join(p[1] for p in pieces) if len(pieces) > 1 else payload
        sink = self.classify(conn, direction, data)
        if sink is None:
            # A start line cut into tiny segments cannot be judged yet: wait for a little more.
            half.probe = pieces if len(data) < 64 and b"\n" not in data else None
            return
        half.probe = None
        conn.sink = sink
        self.reassembled += 1
        self._start_other(conn, direction)
        if len(pieces) == 1:
            return  # a lone segment: the caller's general path delivers it
        # Replay the pieces (contiguous by construction) each with its own frame.
        half.started = True
        half.nxt = pieces[0][0]
        for p_seq, p_data, p_frame, p_ts in pieces:
            half.recent.append((half.offset, p_data))
            half.offset += len(p_data)
            half.nxt = (p_seq + len(p_data)) & _MASK
            sink.data(direction, p_data, p_frame, p_ts)

    def _start_other(self, conn: Connection, direction: int) -> None:
        """Anchor the opposite half when a sink is attached."""
        other = conn.halves[1 - direction]
        if other.nxt >= 0 and not other.seen_payload:
            other.started = True  # nothing sent yet: the stream starts right after its SYN
        # Otherwise it starts at its next data segment (the parser resynchronises).

    def _maybe_close(self, conn: Connection, direction: int, flags: int, fin_seq: int, frame: int,
                     ts: float) -> None:
        if flags & RST:
            conn.reset = True
            self._close(conn, frame, ts)
            return
        if flags & FIN:
            half = conn.halves[direction]
            if half.started or half.ooo:  # reassembling, or holding segments that arrived early
                if half.fin < 0:
                    diff = ((fin_seq - half.nxt + _HALF) & _MASK) - _HALF
                    half.fin = half.offset + max(diff, 0)
                    if half.started:
                        self._check_eof(conn, direction, half, frame, ts)
            else:
                half.done = True
            if conn.halves[0].done and conn.halves[1].done:
                self._close(conn, frame, ts)

    def _check_eof(self, conn: Connection, direction: int, half: _Half, frame: int, ts: float) -> None:
        if not half.done and 0 <= half.fin <= half.offset and not half.ooo:
            half.done = True
            if conn.sink is not None:
                conn.sink.eof(direction, frame, ts)
            if conn.halves[1 - direction].done:
                self._close(conn, frame, ts)

    def _fault(self, src: bytes, sport: int, dst: bytes, dport: int, exc: Exception) -> None:
        """Following one connection failed (a bug): that connection stops here, the rest goes on."""
        entry = self._flows.get((src, sport, dst, dport))
        if entry is None or self.on_fault is None:
            raise exc
        conn = entry[0]
        conn.sink = _IGNORED  # what it held is lost; what comes later is not followed
        self._close(conn)
        self.on_fault(conn, exc)

    def _close(self, conn: Connection, frame: int = 0, ts: float = 0.0) -> None:
        """End a connection: flush buffered data with gaps, tell the sink, forget it."""
        if self._flows.get(conn.key, (None,))[0] is not conn:
            return  # already closed (flushing below can end in a nested call)
        del self._flows[conn.key]
        rkey = (conn.key[2], conn.key[3], conn.key[0], conn.key[1])
        self._flows.pop(rkey, None)
        self._closed[conn.key] = conn.last_ts
        if len(self._closed) > MAX_CLOSED_REMEMBERED:
            self._closed.pop(next(iter(self._closed)))
        sink = conn.sink
        if sink is not None:
            try:
                for direction, half in enumerate(conn.halves):
                    if half.ooo:
                        self._flush_gaps(conn, direction, half)
                    if not half.done:
                        half.done = True
                        sink.eof(direction, frame, ts)
                sink.close()
            except Exception as exc:
                if self.on_fault is None:
                    raise
                conn.sink = _IGNORED
                self.on_fault(conn, exc)
        # The sink (an HttpTracker, a TlsTracker) holds the connection: dropping the link back makes
        # the pair, with its parsers and buffers, garbage that reference counting frees now.  Kept,
        # every connection became a cycle of ~37 objects left to the garbage collector (310,000 in the
        # 200k-packet OMA DM benchmark capture), holding its buffers until a collection came round.
        conn.sink = None

    def tick(self, ts: float) -> None:
        """Count one TCP segment of the capture, after :meth:`segment` has taken it if it is this
        reassembler's; every ``SWEEP_EVERY`` segments, close the connections idle for
        ``IDLE_TIMEOUT``.

        Counted by the frame decoder for every segment, the other shards' too: each shard of a
        sharded decode (:mod:`dmsniff.pipeline.parallel`) reads every frame, so all of them sweep
        after the same frames as one process does, and the records of a swept connection sort
        where they sort in a one-process run.  (Counted here, of this shard's connections only,
        the shards swept at other frames than one process, and such records moved.)
        """
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(ts)

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        closed = self._closed
        while closed:
            key = next(iter(closed))  # oldest first: the dict is in closing order
            if now - closed[key] <= CLOSED_REMEMBERED_FOR:
                break
            del closed[key]
        idle = {id(c): c for c, _ in self._flows.values() if now - c.last_ts > IDLE_TIMEOUT}
        for conn in idle.values():
            self._close(conn)

    def finish(self) -> None:
        """End of capture: close every open connection (flushing partial messages)."""
        for conn in list({id(c): c for c, _ in self._flows.values()}.values()):
            self._close(conn)

    # -- the unusual cases --------------------------------------------------------------
    def _unordered(self, conn: Connection, direction: int, half: _Half, diff: int, payload: bytes,
                   frame: int, ts: float) -> None:
        n = len(payload)
        if diff < 0:
            # Retransmission or overlap with what was delivered already.
            if not (n == 1 and diff == -1):  # a keep-alive probe carries one junk byte
                self._compare(conn, half, half.offset + diff, payload, frame)
            if diff + n <= 0:
                return
            payload = payload[-diff:]
            n = len(payload)
            half.recent.append((half.offset, payload))
            half.offset += n
            half.nxt = (half.nxt + n) & _MASK
            conn.sink.data(direction, payload, frame, ts)  # type: ignore[union-attr]
            if half.ooo:
                self._drain(conn, direction, half)
            return
        # From the future: buffer it (first copy wins).
        off = half.offset + diff
        old = half.ooo.get(off)
        if old is not None:
            m = min(len(old[0]), n)
            if old[0][:m] != payload[:m]:
                conn.conflicts.append(frame)
                self.conflicts += 1
            if len(old[0]) >= n:
                return
        half.ooo[off] = (payload, frame, ts)
        half.ooo_bytes += n - (len(old[0]) if old else 0)
        if half.ooo_bytes > MAX_OOO_BYTES or len(half.ooo) > MAX_OOO_SEGMENTS:
            # The missing bytes are not coming: declare a gap up to the first buffered segment.
            self._skip_to_buffered(conn, direction, half)

    def _compare(self, conn: Connection, half: _Half, off: int, payload: bytes, frame: int) -> None:
        """Note a conflict when a retransmitted copy differs from what was delivered."""
        end = off + len(payload)
        for r_off, r_data in half.recent:
            r_end = r_off + len(r_data)
            lo, hi = max(off, r_off), min(end, r_end)
            if lo < hi and payload[lo - off:hi - off] != r_data[lo - r_off:hi - r_off]:
                conn.conflicts.append(frame)
                self.conflicts += 1
                return

    def _drain(self, conn: Connection, direction: int, half: _Half) -> None:
        """Deliver buffered segments that have become contiguous."""
        sink = conn.sink
        assert sink is not None
        ooo = half.ooo
        last_frame, last_ts = 0, 0.0
        while ooo:
            off = half.offset if half.offset in ooo else min(ooo)
            if off > half.offset:
                break
            data, frame, ts = ooo.pop(off)
            half.ooo_bytes -= len(data)
            end = off + len(data)
            if end <= half.offset:
                self._compare(conn, half, off, data, frame)
                continue
            if off < half.offset:
                self._compare(conn, half, off, data, frame)
                data = data[half.offset - off:]
            half.recent.append((half.offset, data))
            half.offset += len(data)
            half.nxt = (half.nxt + len(data)) & _MASK
            sink.data(direction, data, frame, ts)
            last_frame, last_ts = frame, ts
        if half.fin >= 0:
            self._check_eof(conn, direction, half, last_frame, last_ts)

    def _stash(self, half: _Half, seq: int, payload: bytes, frame: int, ts: float) -> None:
        diff = ((seq - half.nxt + _HALF) & _MASK) - _HALF
        if diff <= 0 or diff > MAX_OOO_BYTES:
            return
        if half.ooo_bytes + len(payload) > MAX_OOO_BYTES or len(half.ooo) >= MAX_OOO_SEGMENTS:
            half.seen_payload = True  # the start is not coming: stop waiting for it
            half.ooo.clear()
            half.ooo_bytes = 0
            return
        if half.offset + diff not in half.ooo:
            half.ooo[half.offset + diff] = (payload, frame, ts)
            half.ooo_bytes += len(payload)

    def _skip_to_buffered(self, conn: Connection, direction: int, half: _Half,
                          limit: int | None = None) -> None:
        """Declare the bytes before the first buffered segment lost (up to ``limit`` only)."""
        first = min(half.ooo)
        if limit is not None and limit < first:
            first = limit
        length = first - half.offset
        if length > 0:
            frame, ts = next(iter(half.ooo.values()))[1:]
            self.gaps += 1
            self.gap_bytes += length
            conn.sink.gap(direction, length, frame, ts)  # type: ignore[union-attr]
            half.offset = first
            half.nxt = (half.nxt + length) & _MASK
        self._drain(conn, direction, half)

    def _flush_gaps(self, conn: Connection, direction: int, half: _Half) -> None:
        while half.ooo:
            self._skip_to_buffered(conn, direction, half)
