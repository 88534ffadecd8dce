"""TCP reassembly: order, retransmission, overlap, wrap-around, gaps, connection life."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmsniff.net.tcp import ACK, FIN, MAX_OOO_SEGMENTS, RST, SYN, Connection, TcpReassembler

A = bytes([10, 0, 0, 1])
B = bytes([10, 0, 0, 2])


@dataclass
class Sink:
    conn: Connection
    streams: dict[int, bytearray] = field(default_factory=lambda: {0: bytearray(), 1: bytearray()})
    events: list[tuple[str, int, int]] = field(default_factory=list)
    frames: dict[int, list[int]] = field(default_factory=lambda: {0: [], 1: []})
    closed: bool = False

    def data(self, direction: int, data: bytes, frame: int, ts: float) -> None:
        self.streams[direction] += data
        self.frames[direction].append(frame)
        self.events.append(("data", direction, len(data)))

    def gap(self, direction: int, length: int, frame: int, ts: float) -> None:
        self.streams[direction] += b"?" * length
        self.events.append(("gap", direction, length))

    def eof(self, direction: int, frame: int, ts: float) -> None:
        self.events.append(("eof", direction, 0))

    def close(self) -> None:
        self.closed = True


class Harness:
    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.tcp = TcpReassembler(self._classify)
        self.frame = 0

    def _classify(self, conn: Connection, direction: int, payload: bytes) -> Sink:
        sink = Sink(conn)
        self.sinks.append(sink)
        return sink

    def send(self, from_a: bool, seq: int, flags: int = ACK, payload: bytes = b"", ack: int = 0,
             sport: int = 40000, dport: int = 80) -> None:
        self.frame += 1
        src, dst = (A, B) if from_a else (B, A)
        sp, dp = (sport, dport) if from_a else (dport, sport)
        self.tcp.segment(self.frame, float(self.frame), src, sp, dst, dp, seq & 0xFFFFFFFF, ack, flags,
                         payload)


def handshake(h: Harness, isn_a: int, isn_b: int, **kw: int) -> None:
    h.send(True, isn_a, SYN, **kw)
    h.send(False, isn_b, SYN | ACK, **kw)
    h.send(True, isn_a + 1, ACK, **kw)


DATA = b"HELLO " + bytes(range(65, 91)) * 40  # starts with an upper-case letter, as HTTP does


def segments(data: bytes, size: int, base: int) -> list[tuple[int, bytes]]:
    return [(base + i, data[i:i + size]) for i in range(0, len(data), size)]


def test_in_order_stream_and_fin() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    for seq, part in segments(DATA, 100, 1001):
        h.send(True, seq, ACK, part)
    h.send(True, 1001 + len(DATA), FIN | ACK)
    h.send(False, 5001, FIN | ACK)
    [sink] = h.sinks
    assert bytes(sink.streams[0]) == DATA
    assert ("eof", 0, 0) in sink.events and ("eof", 1, 0) in sink.events
    assert sink.closed
    assert h.tcp.connections == 1


@pytest.mark.parametrize("seed", range(5))
def test_out_of_order_and_duplicates(seed: int) -> None:
    rng = random.Random(seed)
    segs = segments(DATA, 77, 1001)
    first, rest = segs[0], segs[1:]
    shuffled = rest + rng.sample(rest, 5)  # duplicates (retransmissions) too
    rng.shuffle(shuffled)
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, *first[:1], ACK, first[1])
    for seq, part in shuffled:
        h.send(True, seq, ACK, part)
    h.tcp.finish()
    [sink] = h.sinks
    assert bytes(sink.streams[0]) == DATA
    assert h.tcp.conflicts == 0
    assert not [e for e in sink.events if e[0] == "gap"]


def test_overlap_first_copy_wins_and_conflict_noted() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, 1001, ACK, b"HELLO WORLD")
    h.send(True, 1007, ACK, b"EARTH, HI")  # overlaps "WORLD" with other bytes, then extends
    h.tcp.finish()
    [sink] = h.sinks
    assert bytes(sink.streams[0]) == b"HELLO WORLD, HI"
    assert h.tcp.conflicts == 1
    assert sink.conn.conflicts == [5]


def test_future_overlap_first_copy_wins() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, 1001, ACK, b"ABC")
    h.send(True, 1010, ACK, b"JKLMN")  # future
    h.send(True, 1010, ACK, b"JKXMN")  # a different copy of the same future segment
    h.send(True, 1004, ACK, b"DEFGHI")
    h.tcp.finish()
    [sink] = h.sinks
    assert bytes(sink.streams[0]) == b"ABCDEFGHIJKLMN"
    assert h.tcp.conflicts == 1


def test_sequence_wraparound() -> None:
    h = Harness()
    isn = 0xFFFFFFFF - 150
    handshake(h, isn, 7)
    for seq, part in reversed(segments(DATA, 100, isn + 1)):
        h.send(True, seq, ACK, part)
    h.tcp.finish()
    [sink] = h.sinks
    assert bytes(sink.streams[0]) == DATA


def test_gap_reported_with_length_at_close() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    segs = segments(DATA, 100, 1001)
    for i, (seq, part) in enumerate(segs):
        if i != 3:
            h.send(True, seq, ACK, part)
    h.send(True, 1001 + len(DATA), FIN | ACK)
    h.send(False, 5001, FIN | ACK)
    [sink] = h.sinks
    assert not sink.closed  # the lost segment may still be retransmitted after the FINs
    h.tcp.finish()
    assert sink.closed
    assert ("gap", 0, 100) in sink.events
    expected = DATA[:300] + b"?" * 100 + DATA[400:]
    assert bytes(sink.streams[0]) == expected
    assert h.tcp.gaps == 1 and h.tcp.gap_bytes == 100


def test_retransmission_after_fin_fills_the_hole() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    segs = segments(DATA, 100, 1001)
    for seq, part in segs[1:]:
        h.send(True, seq, ACK, part)
    h.send(True, 1001 + len(DATA), FIN | ACK)
    h.send(False, 5001, FIN | ACK)
    h.send(True, segs[0][0], ACK, segs[0][1])
    [sink] = h.sinks
    assert sink.closed
    assert bytes(sink.streams[0]) == DATA
    # The other side's FIN came before the connection was classified: only direction 0
    # has a stream to end; close() ends the rest.
    assert ("eof", 0, 0) in sink.events


def test_ooo_buffer_overflow_becomes_gap() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, 1001, ACK, b"HEAD")
    # One segment lost, then more than the buffer holds.
    for i in range(MAX_OOO_SEGMENTS + 2):
        h.send(True, 1001 + 4 + 10 + i * 10, ACK, b"X" * 10)
    [sink] = h.sinks
    assert ("gap", 0, 10) in sink.events
    assert len(sink.streams[0]) == 4 + 10 + (MAX_OOO_SEGMENTS + 2) * 10


def test_rst_ends_connection() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, 1001, ACK, b"HELLO")
    h.send(False, 5001, RST)
    [sink] = h.sinks
    assert sink.closed
    assert sink.conn.reset


def test_tuple_reuse_gives_two_connections() -> None:
    h = Harness()
    for isn in (1000, 900000):
        handshake(h, isn, isn + 50)
        h.send(True, isn + 1, ACK, b"HELLO")
        h.send(True, isn + 6, FIN | ACK)
        h.send(False, isn + 51, FIN | ACK)
        h.send(True, isn + 7, ACK)  # last ACK after close: a straggler, not a connection
    assert [bytes(s.streams[0]) for s in h.sinks] == [b"HELLO", b"HELLO"]
    assert [s.conn.id for s in h.sinks] == ["C1", "C8"]  # named after the frame of their first packet
    assert h.tcp.connections == 2
    assert h.tcp.late_segments == 0  # the final ACK after close is normal, not counted


def test_tuple_reuse_without_close() -> None:
    h = Harness()
    handshake(h, 1000, 5000)
    h.send(True, 1001, ACK, b"HELLO")
    handshake(h, 777777, 8888)  # new SYN, other ISN: the old connection is over
    h.send(True, 777778, ACK, b"WORLD")
    h.tcp.finish()
    assert [bytes(s.streams[0]) for s in h.sinks] == [b"HELLO", b"WORLD"]


def test_retransmitted_syn_is_not_a_new_connection() -> None:
    h = Harness()
    h.send(True, 1000, SYN)
    h.send(True, 1000, SYN)
    h.send(False, 5000, SYN | ACK)
    h.send(True, 1001, ACK, b"HELLO")
    h.tcp.finish()
    assert h.tcp.connections == 1
    assert bytes(h.sinks[0].streams[0]) == b"HELLO"


def test_capture_starting_mid_connection() -> None:
    h = Harness()
    h.send(True, 123456, ACK, b"xx tail of an earlier message")  # probe rejects: lower-case
    h.send(False, 999, ACK, b"HTTP-ish reply")
    h.send(True, 123456 + 29, ACK, b"NEXT request")
    h.tcp.finish()
    [sink] = h.sinks
    assert sink.conn.mid_stream
    assert bytes(sink.streams[1]) == b"HTTP-ish reply"
    assert bytes(sink.streams[0]) == b"NEXT request"


def test_synack_first_orients_connection() -> None:
    h = Harness()
    h.send(False, 5000, SYN | ACK)  # the server's SYN-ACK; the client's SYN was not captured
    h.send(True, 1001, ACK, b"HELLO")
    h.tcp.finish()
    [sink] = h.sinks
    assert sink.conn.a_port == 40000  # the client side is ``a`` (direction 0)
    assert bytes(sink.streams[0]) == b"HELLO"


def test_non_matching_flow_is_not_reassembled() -> None:
    # Only an upper-case letter (an HTTP start line) or 22/23 (a TLS record) is worth probing.
    h = Harness()
    handshake(h, 1, 2)
    h.send(True, 2, ACK, b"\x05\x03\x01 binary")
    h.tcp.finish()
    assert h.sinks == []
    assert h.tcp.reassembled == 0


def test_tls_record_start_is_probed() -> None:
    h = Harness()
    handshake(h, 1, 2)
    h.send(True, 2, ACK, b"\x16\x03\x01\x00\x05\x01hello")
    h.tcp.finish()
    assert len(h.sinks) == 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 300)), min_size=1, max_size=40),
    st.integers(0, 0xFFFFFFFF),
)
def test_any_segment_order_reassembles_to_the_stream(cuts: list[tuple[int, int]], isn: int) -> None:
    """Arbitrary overlapping, duplicated, reordered segments of one stream give back the
    stream (all bytes covered) or the stream with '?' in the gaps."""
    h = Harness()
    handshake(h, isn, 5)
    h.send(True, isn + 1, ACK, DATA[:1])
    covered = bytearray(len(DATA))
    covered[0] = 1
    for start, length in cuts:
        part = DATA[start:start + length]
        h.send(True, isn + 1 + start, ACK, part)
        covered[start:start + len(part)] = b"\x01" * len(part)
    h.tcp.finish()
    [sink] = h.sinks
    got = bytes(sink.streams[0])
    last = max(i for i, c in enumerate(covered) if c)
    assert len(got) == last + 1
    for i, c in enumerate(got):
        assert c == (DATA[i] if covered[i] else ord("?"))
    assert h.tcp.conflicts == 0
