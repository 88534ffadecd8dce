"""Real TLS transcripts (``benchmarks/gentls.py``: two OpenSSL peers over memory BIOs) and the
plumbing the TLS decoder tests share: feeding flights with damage or capture gaps, cutting
streams into records, relabelling key logs.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks import gentls
from decoders.tls import (
    ApplicationData,
    DataLost,
    KeyStore,
    OpaqueData,
    SessionCache,
    TlsConnection,
    TlsEvent,
    TlsSummary,
    parse_keylog,
)

V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
CLIENT, SERVER = gentls.CLIENT, gentls.SERVER

REQUEST = b"POST /acs HTTP/1.1\r\nHost: acs.example\r\nContent-Length: 5\r\n\r\nhello"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

#: TLS profiles the connection tests run, by name.  Everything OpenSSL 3 negotiates by default
#: plus what a CPE may still meet (CBC with and without encrypt-then-MAC, RSA key exchange).
PROFILES: dict[str, gentls.TLSConfig] = {
    "1.2-ecdhe-aes128gcm": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES128-GCM-SHA256"),
    "1.2-ecdhe-aes256gcm": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES256-GCM-SHA384"),
    "1.2-ecdhe-chacha20": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-CHACHA20-POLY1305"),
    "1.2-ecdhe-cbc-sha256-etm": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES128-SHA256"),
    "1.2-ecdhe-cbc-sha256": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES128-SHA256",
                                             encrypt_then_mac=False),
    "1.2-ecdhe-cbc-sha384-etm": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES256-SHA384"),
    "1.2-ecdhe-cbc-sha384": gentls.TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES256-SHA384",
                                             encrypt_then_mac=False),
    "1.2-rsa-aes128-sha-etm": gentls.TLSConfig(max_version=V12, ciphers="AES128-SHA"),
    "1.2-rsa-aes128-sha": gentls.TLSConfig(max_version=V12, ciphers="AES128-SHA", encrypt_then_mac=False),
    "1.2-rsa-aes128-sha-noems": gentls.TLSConfig(max_version=V12, ciphers="AES128-SHA",
                                                 encrypt_then_mac=False, extended_master_secret=False),
    "1.3-aes128gcm": gentls.TLSConfig(min_version=V13, tls13_ciphersuites="TLS_AES_128_GCM_SHA256"),
    "1.3-aes256gcm": gentls.TLSConfig(min_version=V13, tls13_ciphersuites="TLS_AES_256_GCM_SHA384"),
    "1.3-chacha20": gentls.TLSConfig(min_version=V13, tls13_ciphersuites="TLS_CHACHA20_POLY1305_SHA256"),
}

#: IANA names of what each profile negotiates.
SUITE_NAMES = {
    "1.2-ecdhe-aes128gcm": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "1.2-ecdhe-aes256gcm": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "1.2-ecdhe-chacha20": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "1.2-ecdhe-cbc-sha256-etm": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "1.2-ecdhe-cbc-sha256": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "1.2-ecdhe-cbc-sha384-etm": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "1.2-ecdhe-cbc-sha384": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "1.2-rsa-aes128-sha-etm": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "1.2-rsa-aes128-sha": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "1.2-rsa-aes128-sha-noems": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "1.3-aes128gcm": "TLS_AES_128_GCM_SHA256",
    "1.3-aes256gcm": "TLS_AES_256_GCM_SHA384",
    "1.3-chacha20": "TLS_CHACHA20_POLY1305_SHA256",
}


def exchanges(n: int, body: int = 0) -> tuple[gentls.Exchange, ...]:
    """``n`` request/response pairs, each response ``body`` bytes longer (and so its own record)."""
    return tuple((REQUEST + b"&%d" % i, RESPONSE + bytes([0x41 + i % 26]) * body) for i in range(n))


def config(profile: str, **changes: object) -> gentls.TLSConfig:
    return dataclasses.replace(PROFILES[profile], **changes)  # type: ignore[arg-type]


@functools.cache
def transcript(profile: str, n: int = 1, body: int = 0) -> gentls.Transcript:
    """One recorded connection of ``profile`` carrying ``exchanges(n, body)`` (made once per process)."""
    return gentls.transcript(config(profile, exchanges=exchanges(n, body)))


def sent(t: gentls.Transcript) -> dict[int, bytes]:
    """What each side wrote as application data."""
    return {CLIENT: b"".join(q for q, _ in t.exchanges), SERVER: b"".join(r for _, r in t.exchanges)}


def keystore(*keylogs: str) -> KeyStore:
    keys = KeyStore()
    for text in keylogs:
        keys.add_keylog(parse_keylog(text.encode(), source="test.keys"))
    return keys


def client_random(t: gentls.Transcript) -> bytes:
    """The ClientHello's random: record header 5, handshake header 4, legacy_version 2."""
    hello = t.stream(CLIENT)
    assert hello[0] == 22 and hello[5] == 1
    return hello[11:43]


def relabel(keylog: str, random: bytes) -> str:
    """Another connection's key log lines, claiming to be for ``random``."""
    return re.sub(r"^(\S+) [0-9a-fA-F]{64} ", lambda m: f"{m.group(1)} {random.hex()} ", keylog, flags=re.M)


@dataclass(frozen=True)
class Record:
    type: int
    start: int  #: stream offset of the header
    end: int  #: stream offset just past the body

    @property
    def body(self) -> slice:
        return slice(self.start + 5, self.end)


def records(stream: bytes) -> list[Record]:
    """The records of a well-formed stream."""
    out: list[Record] = []
    pos = 0
    while pos + 5 <= len(stream):
        end = pos + 5 + int.from_bytes(stream[pos + 3:pos + 5], "big")
        out.append(Record(stream[pos], pos, end))
        pos = end
    return out


def handshake_messages(flight: bytes) -> list[bytes]:
    """The handshake messages (with headers) of a flight's leading plaintext handshake records."""
    data = b"".join(flight[r.body] for r in itertools.takewhile(lambda r: r.type == 22, records(flight)))
    out: list[bytes] = []
    pos = 0
    while pos + 4 <= len(data):
        end = pos + 4 + int.from_bytes(data[pos + 1:pos + 4], "big")
        out.append(data[pos:end])
        pos = end
    return out


def handshake_record(messages: Iterable[bytes], version: bytes = b"\x03\x03") -> bytes:
    body = b"".join(messages)
    return b"\x16" + version + len(body).to_bytes(2, "big") + body


@dataclass(frozen=True)
class Result:
    conn: TlsConnection
    events: list[TlsEvent]
    summary: TlsSummary

    @property
    def data(self) -> dict[int, bytes]:
        """Decrypted application data per direction."""
        out = {CLIENT: b"", SERVER: b""}
        for e in self.events:
            if isinstance(e, ApplicationData):
                out[e.direction] += e.data
        return out

    @property
    def opaque(self) -> list[OpaqueData]:
        return [e for e in self.events if isinstance(e, OpaqueData)]

    @property
    def lost(self) -> list[DataLost]:
        return [e for e in self.events if isinstance(e, DataLost)]

    def ends(self, direction: int) -> list[int]:
        """Stream offsets just past each decrypted application data record of a direction."""
        return [e.end for e in self.events if isinstance(e, ApplicationData) and e.direction == direction]


def feed(conn: TlsConnection, flights: Sequence[tuple[int, bytes]], *,
         streams: dict[int, bytes] | None = None, gaps: Sequence[tuple[int, int, int]] = (),
         sizes: Iterable[int] | None = None, eof: bool = True) -> list[TlsEvent]:
    """Feed ``flights`` in their order, as a capture would.

    ``streams`` replaces a direction's bytes (same length: damage in place); ``gaps`` are
    (direction, start, end) stream ranges that never reached the capture (``receive_gap``);
    ``sizes`` cuts every delivery into pieces of these lengths (cycled).
    """
    events: list[TlsEvent] = []
    cycle: Iterator[int] | None = None
    if sizes is not None:
        pieces = list(sizes)
        cycle = itertools.cycle(pieces) if pieces else None

    def deliver(direction: int, data: bytes) -> None:
        if cycle is None:
            if data:
                events.extend(conn.receive_data(direction, data))
            return
        pos = 0
        while pos < len(data):
            n = max(1, next(cycle))
            events.extend(conn.receive_data(direction, data[pos:pos + n]))
            pos += n

    offset = [0, 0]
    for direction, flight in flights:
        start = offset[direction]
        end = start + len(flight)
        offset[direction] = end
        data = streams[direction][start:end] if streams and direction in streams else flight
        pos = start
        for g_dir, g0, g1 in sorted(gaps):
            if g_dir != direction or g1 <= pos or g0 >= end:
                continue
            if g0 > pos:
                deliver(direction, data[pos - start:g0 - start])
            if g0 >= start:
                events.extend(conn.receive_gap(direction, g1 - g0))
            pos = min(g1, end)
        if pos < end:
            deliver(direction, data[pos - start:])
    if eof:
        for direction in (CLIENT, SERVER):
            events.extend(conn.receive_eof(direction))
    return events


def run(t: gentls.Transcript, keys: KeyStore | None = None, cache: SessionCache | None = None, *,
        name: str = "", server: tuple[str, int] | None = None, **options: object) -> Result:
    """Decode a transcript (with its own key log unless ``keys`` is given)."""
    if keys is None:
        keys = keystore(t.keylog)
    conn = TlsConnection(keys, cache, server=server, name=name)
    events = feed(conn, t.flights, **options)  # type: ignore[arg-type]
    return Result(conn, events, conn.summary())


@functools.cache
def other_rsa_key_pem() -> bytes:
    """An RSA-2048 key that is not the servers' (PKCS#1 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())
