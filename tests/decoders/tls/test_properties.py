"""Hostile input: nothing a capture can hold makes the TLS decoder raise, stall or hoard memory.

Real transcripts (OpenSSL peers in memory, RFC 8448's trace) damaged with the shared mutation
strategy, random bytes with and without plausible record headers, every truncation of a
recorded handshake, random segmentations (which must not change a single event), and the
extremes: 2^24-byte handshake length claims, 65535-byte record lengths, 10,000 one-byte
records, megabytes of input against the one record and one handshake message the decoder may
buffer.  Any exception is a bug.
"""

from __future__ import annotations

import functools
import time
import tracemalloc
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import gentls
from decoders.tls import (
    REASONS,
    AlertEvent,
    ApplicationData,
    ClientHello,
    DataLost,
    HandshakeMessage,
    KeyStore,
    OpaqueData,
    RsaKey,
    ServerHello,
    SessionCache,
    TlsConnection,
    TlsEvent,
    load_rsa_key,
    looks_like_tls,
    parse_keylog,
)
from decoders.tls._connection import MAX_HANDSHAKE_MESSAGE
from decoders.tls._handshake import (
    parse_certificate,
    parse_client_hello,
    parse_client_key_exchange,
    parse_encrypted_extensions,
    parse_key_update,
    parse_new_session_ticket,
    parse_server_hello,
)
from decoders.tls._tables import MAX_CIPHERTEXT
from tests.mutation import mutations

from .helpers import CLIENT, SERVER, feed, keystore, records, run, transcript
from .test_rfc8448 import CLIENT_HELLO_RECORD_3, SECRETS_3, SERVER_HELLO_RECORD_3, TRACE_3, keylog

MAX_RECORD = 5 + MAX_CIPHERTEXT
PROFILES = ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-cbc-sha256", "1.2-rsa-aes128-sha", "1.3-aes128gcm",
            "1.3-chacha20"]
Flights = list[tuple[int, bytes]]


def transcripts() -> list[tuple[Flights, str]]:
    """(flights, key log) of real connections, and of RFC 8448 §3."""
    out = [(list(transcript(p, 2, 300).flights), transcript(p, 2, 300).keylog) for p in PROFILES]
    rfc_log = "".join(f"{label} {CLIENT_HELLO_RECORD_3[11:43].hex()} {secret.hex()}\n"
                      for label, secret in SECRETS_3.items())
    out.append((list(TRACE_3), rfc_log))
    return out


SEEDS = transcripts()


def record(ctype: int, body: bytes, version: int = 0x0303) -> bytes:
    return bytes([ctype]) + version.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def handshake(mtype: int, body: bytes, claimed: int | None = None) -> bytes:
    return bytes([mtype]) + (len(body) if claimed is None else claimed).to_bytes(3, "big") + body


@functools.cache
def server_rsa_key() -> RsaKey:
    key = load_rsa_key(gentls.server_key_pem())  # loading checks the key: slow, so once
    assert isinstance(key, RsaKey)
    return key


def keys_for(keylog_text: str) -> KeyStore:
    """The key log, and the servers' RSA key too (so the RSA paths run on damaged input)."""
    keys = keystore(keylog_text)
    keys.add_rsa_key(server_rsa_key())
    return keys


def check(conn: TlsConnection, events: Sequence[TlsEvent], fed: dict[int, int]) -> None:
    """What must hold whatever the input was."""
    s = conn.summary()
    _ = conn.info.version_name, conn.info.suite_name
    for p in s.problems:
        assert p.split(": ", 1)[0] in {"error", "warning", "info"}, p
    assert len(s.problems) <= 64 and len(s.alerts) <= 64
    if s.reason is not None:
        assert s.reason.code in REASONS, s.reason
    if s.decrypted:
        assert s.reason is None
    data = {CLIENT: 0, SERVER: 0}
    last = {CLIENT: 0, SERVER: 0}
    for e in events:
        direction = e.alert.direction if isinstance(e, AlertEvent) else e.direction
        assert direction in (CLIENT, SERVER)
        assert 0 <= e.end <= fed[direction], (e, fed)
        if not isinstance(e, DataLost):  # a loss is placed where the lost record began
            assert e.end >= last[direction], (e, last)
            last[direction] = e.end
        if isinstance(e, ApplicationData):
            data[direction] += len(e.data)
        elif isinstance(e, OpaqueData):
            assert e.length >= 0
        elif isinstance(e, HandshakeMessage):
            _ = e.name
    assert s.application_bytes == (data[CLIENT], data[SERVER])
    assert min(s.opaque_bytes) >= 0 and min(s.records) >= 0
    for d in (CLIENT, SERVER):
        assert conn.buffered(d) <= MAX_RECORD


def decode(flights: Flights, keys: KeyStore, sizes: list[int] | None = None,
           eof: bool = True) -> tuple[TlsConnection, list[TlsEvent]]:
    conn = TlsConnection(keys, SessionCache())
    events = feed(conn, flights, sizes=sizes, eof=eof)
    fed = {CLIENT: 0, SERVER: 0}
    for d, f in flights:
        fed[d] += len(f)
    check(conn, events, fed)
    return conn, events


# -- damaged real transcripts ---------------------------------------------------------------------------


def _lying_record_length(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    starts = [r.start for r in records(bytes(data))]
    if starts:
        at = draw(st.sampled_from(starts))
        if at + 5 <= len(data):
            length = draw(st.sampled_from([0, 1, 0x4000, 0x4800, 0x4801, 0xFFFF]))
            data[at + 3:at + 5] = length.to_bytes(2, "big")


def _lying_handshake_length(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    hs = [r for r in records(bytes(data)) if r.type == 22 and r.end <= len(data) and r.end - r.start >= 9]
    if hs:
        at = draw(st.sampled_from(hs)).start + 5
        length = draw(st.sampled_from([0, 1, 0x3FFFF, 0x40000, 0x40001, 0xFFFFFF]))
        data[at + 1:at + 4] = length.to_bytes(3, "big")


def _content_type(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    starts = [r.start for r in records(bytes(data))]
    if starts:
        data[draw(st.sampled_from(starts))] = draw(st.sampled_from([20, 21, 22, 23, 24, 25, 0x80]))


DAMAGE = {"record length": _lying_record_length, "handshake length": _lying_handshake_length,
          "content type": _content_type}
INSERTS = [record(21, b"\x02\x28"), record(20, b"\x01"), record(22, handshake(0, b"")), record(23, b""),
           b"\x16\x03\x03", b"\x17\x03\x03\x00"]


@st.composite
def damaged(draw: st.DrawFn) -> tuple[Flights, str]:
    flights, keylog_text = draw(st.sampled_from(SEEDS))
    flights = list(flights)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(flights) - 1))
        direction, flight = flights[i]
        flights[i] = (direction, draw(mutations([flight], inserts=INSERTS, max_ops=4, extra=DAMAGE)))
    if draw(st.booleans()):  # sometimes without a flight, or with one repeated
        i = draw(st.integers(0, len(flights) - 1))
        flights = flights[:i] + flights[i + 1:] if draw(st.booleans()) else flights[:i + 1] + flights[i:]
    return flights, keylog_text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.lists(st.integers(1, 700), min_size=1, max_size=8))
def test_damaged_transcripts_never_raise_and_segmentation_changes_nothing(
        case: tuple[Flights, str], sizes: list[int]) -> None:
    flights, keylog_text = case
    conn, events = decode(flights, keys_for(keylog_text))
    conn2, events2 = decode(flights, keys_for(keylog_text), sizes)
    assert events2 == events
    assert conn2.summary() == conn.summary()


def test_a_stream_beginning_inside_a_record_gives_the_same_events_however_segmented() -> None:
    # A stray byte, an alert record, then bytes that cannot be the next record's header.
    data = b"\x16" + record(21, b"\x02\x28") + b"\x03\x01\x00\x05hello"
    whole = TlsConnection()
    one_feed = whole.receive_data(CLIENT, data) + whole.receive_eof(CLIENT)
    split = TlsConnection()
    bytewise = [e for i in range(len(data)) for e in split.receive_data(CLIENT, data[i:i + 1])]
    bytewise += split.receive_eof(CLIENT)
    assert bytewise == one_feed


def test_opaque_bytes_after_a_gap_do_not_depend_on_segmentation() -> None:
    t = transcript("1.2-ecdhe-aes128gcm", 4, 1000)
    ends = run(t).ends(SERVER)
    gap = (SERVER, ends[1] + 10, ends[2] - 5)
    one_feed, bytewise = run(t, gaps=[gap]), run(t, gaps=[gap], sizes=[1])
    assert bytewise.events == one_feed.events  # this much holds
    assert bytewise.summary.opaque_bytes == one_feed.summary.opaque_bytes


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.integers(1, 300), min_size=1, max_size=6))
def test_random_segmentation_of_real_transcripts_gives_the_same_events(case: tuple[Flights, str],
                                                                       sizes: list[int]) -> None:
    flights, keylog_text = case
    conn, events = decode(flights, keystore(keylog_text))
    assert conn.summary().decrypted
    conn2, events2 = decode(flights, keystore(keylog_text), sizes)
    assert events2 == events
    assert conn2.summary() == conn.summary()


class LateKeys(KeyStore):
    """A live capture's key log: its lines arrive at the ``after``-th refresh()."""

    def __init__(self, text: str, after: int) -> None:
        super().__init__()
        self.growing = True
        self.text, self.after, self.calls = text, after, 0

    def refresh(self) -> None:
        self.calls += 1
        if self.calls == self.after:
            self.add_keylog(parse_keylog(self.text.encode()))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(SEEDS), st.data())
def test_capture_gaps_and_partial_or_late_keys_never_raise(case: tuple[Flights, str],
                                                           data: st.DataObject) -> None:
    flights, keylog_text = case
    lines = [x for x in keylog_text.splitlines() if data.draw(st.booleans())]
    # A TLS 1.3 handshake secret without its application secret, then a gap, is a known crash
    # (test_a_gap_after_the_handshake_when_the_key_log_lacks_the_application_secret): not drawn here.
    for side in ("CLIENT", "SERVER"):
        if not any(x.startswith(f"{side}_TRAFFIC_SECRET_0") for x in lines):
            lines = [x for x in lines if not x.startswith(f"{side}_HANDSHAKE_TRAFFIC_SECRET")]
    text = "".join(x + "\n" for x in lines)
    keys = LateKeys(text, data.draw(st.integers(1, 8))) if data.draw(st.booleans()) else keystore(text)
    totals = {d: sum(len(f) for dd, f in flights if dd == d) for d in (CLIENT, SERVER)}
    gaps = []
    for _ in range(data.draw(st.integers(0, 3))):
        d = data.draw(st.sampled_from([CLIENT, SERVER]))
        start = data.draw(st.integers(0, max(totals[d] - 1, 0)))
        gaps.append((d, start, start + data.draw(st.integers(1, 3000))))
    gaps.sort()
    apart: list[tuple[int, int, int]] = []
    for g in gaps:  # feed() wants them apart
        if not apart or g[0] != apart[-1][0] or g[1] > apart[-1][2]:
            apart.append(g)
    conn = TlsConnection(keys, SessionCache())
    events = feed(conn, flights, gaps=apart, sizes=data.draw(st.lists(st.integers(1, 500), max_size=4)))
    # A gap may run past the end of what was captured: stream offsets count it all.
    check(conn, events, {d: max([totals[d]] + [g[2] for g in apart if g[0] == d]) for d in totals})


# -- random bytes -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([CLIENT, SERVER]), st.binary(max_size=300)), max_size=8))
def test_random_bytes_never_raise(flights: Flights) -> None:
    decode(flights, KeyStore())
    for _, data in flights:
        looks_like_tls(data)


plausible_record = st.builds(record, st.sampled_from([20, 21, 22, 23, 24]), st.binary(max_size=200),
                             st.sampled_from([0x0300, 0x0301, 0x0303, 0x0304]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([CLIENT, SERVER]), plausible_record), max_size=12),
       st.sampled_from([None, *SEEDS[:2]]))
def test_random_records_behind_valid_headers_never_raise(flights: Flights,
                                                         start: tuple[Flights, str] | None) -> None:
    keys = KeyStore()
    if start is not None:  # after a real hello exchange, so the handshake parsers see the bodies
        flights = start[0][:2] + flights
        keys = keystore(start[1])
    decode(flights, keys)


HANDSHAKE_TYPES = [0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 22, 24, 254]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(HANDSHAKE_TYPES), st.binary(max_size=120)), min_size=1, max_size=6),
       st.sampled_from([0, 1]), st.booleans())
def test_random_handshake_messages_never_raise(messages: list[tuple[int, bytes]], direction: int,
                                               after_hellos: bool) -> None:
    flights: Flights = list(SEEDS[0][0][:2]) if after_hellos else []
    body = b"".join(handshake(t, b) for t, b in messages)
    flights.append((direction, record(22, body)))
    decode(flights, keystore(SEEDS[0][1]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_handshake_parsers_never_raise(body: bytes) -> None:
    parse_client_hello(body)
    parse_server_hello(body)
    parse_encrypted_extensions(body)
    parse_certificate(body, True)
    parse_certificate(body, False)
    parse_new_session_ticket(body, True)
    parse_new_session_ticket(body, False)
    parse_key_update(body)
    parse_client_key_exchange(body, 0x0300)
    parse_client_key_exchange(body, 0x0303)


@settings(max_examples=200, deadline=None)
@given(mutations([CLIENT_HELLO_RECORD_3[9:], SERVER_HELLO_RECORD_3[9:]], max_ops=5))
def test_damaged_hellos_parse_or_say_what_is_wrong(body: bytes) -> None:
    for parse in (parse_client_hello, parse_server_hello):
        result = parse(body)
        assert isinstance(result, ClientHello | ServerHello) or result.what.endswith("runs past the message")


# -- truncation at every offset ----------------------------------------------------------------------


def truncated(flights: Flights, direction: int, keep: int) -> Flights:
    """The flights with ``direction``'s stream cut after ``keep`` bytes."""
    out: Flights = []
    offset = 0
    for d, f in flights:
        if d == direction:
            f = f[:max(0, keep - offset)]
            offset += len(f)
        if f:
            out.append((d, f))
    return out


def own_events(events: list[TlsEvent], direction: int) -> list[TlsEvent]:
    def of(e: TlsEvent) -> int:
        return e.alert.direction if isinstance(e, AlertEvent) else e.direction

    return [e for e in events if of(e) == direction]


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-cbc-sha256", "1.3-aes128gcm"])
def test_a_handshake_truncated_at_every_offset_of_either_direction(profile: str) -> None:
    t = transcript(profile, 1)
    flights = list(t.flights[:4])  # through both Finished messages (and the TLS 1.3 tickets)
    _, whole = decode(flights, keystore(t.keylog), eof=False)
    for direction in (CLIENT, SERVER):
        total = sum(len(f) for d, f in flights if d == direction)
        for keep in range(total + 1):
            conn, events = decode(truncated(flights, direction, keep), keystore(t.keylog))
            # What the cut direction said before the cut is what it says uncut (its records up to there).
            mine = own_events([e for e in events if e.end <= keep], direction)
            assert mine == own_events(whole, direction)[:len(mine)], (direction, keep)
            cut_inside_a_record = keep not in {0} | {r.end for r in records(t.stream(direction)[:total])}
            if cut_inside_a_record:
                assert any("ends inside a TLS record" in p for p in conn.summary().problems), keep


def test_the_rfc_8448_trace_truncated_at_every_offset() -> None:
    for cut in range(len(TRACE_3)):
        for direction, rec in TRACE_3[cut:cut + 1]:
            for keep in range(0, len(rec), 7):
                flights = [*TRACE_3[:cut], (direction, rec[:keep])]
                decode([f for f in flights if f[1]], keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3))


# -- extremes ---------------------------------------------------------------------------------------


def after_client_hello() -> TlsConnection:
    conn = TlsConnection(KeyStore())
    conn.receive_data(CLIENT, CLIENT_HELLO_RECORD_3)
    return conn


def test_a_handshake_length_of_2_to_the_24() -> None:
    conn = after_client_hello()
    events = conn.receive_data(CLIENT, record(22, handshake(11, b"x" * 100, claimed=(1 << 24) - 1)))
    assert events == []
    (problem,) = [p for p in conn.summary().problems if p.startswith("error:")]
    assert "16777215 bytes" in problem and f"{MAX_HANDSHAKE_MESSAGE}-byte limit" in problem
    # What follows is not buffered waiting for 16 MB.
    for _ in range(100):
        conn.receive_data(CLIENT, record(22, b"y" * 16384))
    assert len(conn._dirs[CLIENT].hs) == 0
    assert conn.buffered(CLIENT) == 0


def test_a_handshake_message_of_the_largest_allowed_size_is_read() -> None:
    body = b"\x00" * MAX_HANDSHAKE_MESSAGE
    message = handshake(99, body)
    conn = after_client_hello()
    events: list[TlsEvent] = []
    for i in range(0, len(message), 16384):
        events += conn.receive_data(CLIENT, record(22, message[i:i + 16384]))
        assert len(conn._dirs[CLIENT].hs) <= 4 + MAX_HANDSHAKE_MESSAGE
    assert [e.type for e in events if isinstance(e, HandshakeMessage)] == [99]
    over = after_client_hello()
    over.receive_data(CLIENT, record(22, handshake(99, b"", claimed=MAX_HANDSHAKE_MESSAGE + 1)))
    assert any(p.startswith("error: a handshake message (type 99)") for p in over.summary().problems)


@pytest.mark.parametrize("first", [True, False], ids=["first-record", "after-the-hello"])
@pytest.mark.parametrize("ctype", [22, 23])
def test_a_record_length_of_65535(first: bool, ctype: int) -> None:
    conn = TlsConnection(KeyStore()) if first else after_client_hello()
    conn.receive_data(CLIENT, bytes([ctype, 3, 3, 0xFF, 0xFF]) + b"z" * 70000)
    for _ in range(64):
        conn.receive_data(CLIENT, b"z" * 65536)
        assert conn.buffered(CLIENT) <= MAX_RECORD
    s = conn.summary()
    assert s.problems
    if not first:
        assert s.reason is not None and s.reason.code == "not-tls"
        assert s.opaque_bytes[CLIENT] >= 64 * 65536


@pytest.mark.parametrize("ctype", [20, 21, 22, 23, 24])
def test_ten_thousand_one_byte_records(ctype: int) -> None:
    conn = after_client_hello()
    data = record(ctype, b"\x01") * 10_000
    start = time.perf_counter()
    conn.receive_data(CLIENT, data)
    one_feed = time.perf_counter() - start
    conn2 = after_client_hello()
    start = time.perf_counter()
    for i in range(0, len(data), 6):
        conn2.receive_data(CLIENT, data[i:i + 6])
    per_record = time.perf_counter() - start
    assert one_feed < 1.0 and per_record < 1.0, (one_feed, per_record)
    assert conn.summary().records[CLIENT] == conn2.summary().records[CLIENT] == 10_001
    assert conn.buffered(CLIENT) == 0


def test_ten_thousand_tiny_records_of_a_decrypted_connection() -> None:
    # The slow path: after the handshake opened, every record is tried under the keys (and fails).
    t = transcript("1.2-ecdhe-aes128gcm", 1)
    conn = TlsConnection(keystore(t.keylog))
    feed(conn, t.flights[:4], eof=False)
    start = time.perf_counter()
    events = conn.receive_data(CLIENT, record(23, b"\x00" * 25) * 10_000)  # 1 byte + GCM's 24
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    assert len([e for e in events if isinstance(e, OpaqueData)]) == 10_000
    s = conn.summary()
    assert s.reason is not None and s.reason.code == "damaged-record"


def test_megabytes_of_application_data_keep_one_record_buffered() -> None:
    t = transcript("1.3-aes128gcm", 1)
    conn = TlsConnection(KeyStore())
    feed(conn, t.flights[:4], eof=False)
    chunk = record(23, b"\x00" * 16401) * 4 + record(23, b"\x00" * 100)[:50]  # ends inside a record
    tracemalloc.start()
    try:
        for _ in range(100):  # 6.5 MB
            conn.receive_data(SERVER, chunk)
            assert conn.buffered(SERVER) <= MAX_RECORD
            assert len(conn._dirs[SERVER].hs) <= 4 + MAX_HANDSHAKE_MESSAGE
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(chunk) + 1_000_000, peak
    assert current < 1_000_000, current


def test_megabytes_of_handshake_keep_one_message_buffered() -> None:
    # After a TLS 1.3 ServerHello (so no transcript is kept) the server sends megabytes of
    # plaintext handshake records: 100 KB Certificate messages.
    conn = TlsConnection(keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3))
    conn.receive_data(CLIENT, CLIENT_HELLO_RECORD_3)
    conn.receive_data(SERVER, SERVER_HELLO_RECORD_3)
    message = handshake(11, b"c" * 100_000)
    tracemalloc.start()
    try:
        for _ in range(40):  # 4 MB of handshake records, each message 100 KB
            for i in range(0, len(message), 16384):
                conn.receive_data(SERVER, record(22, message[i:i + 16384]))
                assert len(conn._dirs[SERVER].hs) <= 4 + MAX_HANDSHAKE_MESSAGE
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_HANDSHAKE_MESSAGE, peak


def test_a_flood_of_tiny_handshake_messages_keeps_memory_bounded() -> None:
    conn = after_client_hello()
    flood = record(22, handshake(99, b"") * 4096)  # 4096 empty messages of an unknown type a record
    tracemalloc.start()
    try:
        for _ in range(16):  # 256 KiB
            conn.receive_data(CLIENT, flood)
        current = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert current < 1_000_000, current
