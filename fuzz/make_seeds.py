"""Build the seed directories of the harnesses, at run time, from ``captures/`` and ``../shared/corpus/``.

    .venv/bin/python -m fuzz.make_seeds [--out /tmp/dmsniff-fuzz/seeds] [--tls-transcripts]

Nothing from the shared corpus is copied into the repository: the seeds are written under the work
directory (``$DMSNIFF_FUZZ_WORK``, default ``/tmp/dmsniff-fuzz``), one folder per harness, each
seed in the input format of its harness (a selector byte in front, or the op stream of
:func:`fuzz._common.encode_ops`).  The only seeds kept in the repository are the TLS transcripts in
``fuzz/seeds/tls/`` (made by ``--tls-transcripts`` with ``benchmarks/gentls.py``: OpenSSL peers in
memory, with their key log, so the TLS harness can decrypt them), because a transcript cannot be
made again with the same keys.

How each capture is taken apart uses dmsniff itself (the reader, the dissector and the pipeline
with a collecting addon): the frames, the TCP segments of each connection, each direction's byte
stream, the UDP payloads, and every HTTP exchange's headers and bodies (TLS ones decrypted with
the captures' key logs).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import shutil
import struct
import sys
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fuzz._common import CAPTURES, CORPUS, WORK, encode_ops
from fuzz._keys import TLS_SEEDS

HARNESSES = ("auth", "body", "capture", "cwmp", "http", "keys", "notification", "packet", "reader",
             "secrets", "stun", "syncml", "tcp", "tls", "tr111", "wbxml")

# -- taking captures apart ------------------------------------------------------------------------

Key = tuple[bytes, int, bytes, int]


@dataclass
class Segment:
    frame: int
    key: Key
    seq: int
    ack: int
    flags: int
    payload: bytes


@dataclass
class Capture:
    path: Path
    linktype: int = 1
    frames: list[tuple[int, float, int, bytes]] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    udp: list[tuple[int, int, int, bytes]] = field(default_factory=list)  # frame, sport, dport, payload
    frame_conn: dict[int, Key] = field(default_factory=dict)  # frame -> canonical connection key
    transactions: list[object] = field(default_factory=list)
    keylog: bytes = b""

    def connections(self) -> dict[Key, list[Segment]]:
        out: dict[Key, list[Segment]] = defaultdict(list)
        for s in self.segments:
            out[_canonical(s.key)].append(s)
        return out


def _canonical(key: Key) -> Key:
    rev = (key[2], key[3], key[0], key[1])
    return min(key, rev)


def load_capture(path: Path) -> Capture:
    from dmsniff.capture import open_capture
    from dmsniff.net.packet import Dissector

    cap = Capture(path)
    with open_capture(str(path)) as f:
        cap.frames = list(f)
    if cap.frames:
        cap.linktype = cap.frames[0][2]
    current = [0]

    def on_tcp(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int,
               flags: int, payload: bytes) -> None:
        key = (src, sport, dst, dport)
        cap.segments.append(Segment(frame, key, seq, ack, flags, bytes(payload)))
        cap.frame_conn[frame] = _canonical(key)

    def on_udp(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> None:
        cap.udp.append((frame, sport, dport, bytes(payload)))

    d = Dissector(on_tcp, on_udp)
    for fr in cap.frames:
        current[0] = fr[0]
        d.frame(*fr)
    d.finish()
    keys = path.with_suffix(".keys")
    cap.keylog = keys.read_bytes() if keys.exists() else b""
    cap.transactions = _transactions(path)
    return cap


def _transactions(path: Path) -> list[object]:
    from dmsniff.model import Transaction
    from dmsniff.net.tls_keys import TlsKeySpec
    from dmsniff.pipeline import Addon, Pipeline
    from fuzz import _keys

    got: list[object] = []

    class Collect(Addon):
        needs_bodies = True

        def transaction(self, tx: Transaction) -> None:
            got.append(tx)

    Pipeline([Collect()], tls_keys=TlsKeySpec(_keys.keylogs(), _keys.rsa_keys())).run_files([str(path)])
    return got


def captures() -> list[Capture]:
    paths = sorted(CAPTURES.glob("*.pcap")) + sorted((CORPUS / "pcap").glob("*.pcap*"))
    return [load_capture(p) for p in paths]


def pcap_file(frames: Iterable[tuple[int, float, int, bytes]], linktype: int, *, nano: bool = False,
              big: bool = False) -> bytes:
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
    for _n, ts, _lt, data in frames:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out += struct.pack(e + "IIII", sec, frac, len(data), len(data)) + data
    return bytes(out)


def pcapng_file(frames: Iterable[tuple[int, float, int, bytes]], linktype: int, keylog: bytes = b"") -> bytes:
    from dmsniff.capture.writer import (
        decryption_secrets_block,
        enhanced_packet_block,
        interface_description_block,
        section_header_block,
    )

    out = bytearray(section_header_block() + interface_description_block(linktype, 262144))
    if keylog:
        out += decryption_secrets_block(0x544C534B, keylog)
    for _n, ts, _lt, data in frames:
        out += enhanced_packet_block(0, int(ts * 1e6), data)
    return bytes(out)


# -- writing seeds --------------------------------------------------------------------------------


class Seeds:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, harness: str, data: bytes, limit: int = 1 << 20) -> None:
        if not data or len(data) > limit:
            return
        folder = self.root / harness
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()[:16]
        path = folder / name
        if not path.exists():
            path.write_bytes(data)
            self.counts[harness] += 1


def _header(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name]


def _chunked(body: bytes, size: int, trailer: bytes = b"") -> bytes:
    out = bytearray()
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return bytes(out) + b"0\r\n" + trailer + b"\r\n"


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def _stream_ops(segments: list[Segment], client: Key) -> list[tuple[int, list[object]]]:
    """A connection's payloads as TLS harness ops (direction 0: the client's)."""
    ops: list[tuple[int, list[object]]] = []
    for s in segments:
        if s.payload:
            ops.append((0, [0 if s.key == client else 1, s.payload]))
    ops += [(2, [0]), (2, [1])]
    return ops


def _client_key(segments: list[Segment]) -> Key:
    for s in segments:
        if s.flags & 0x02 and not s.flags & 0x10:  # SYN without ACK: the client's
            return s.key
    return segments[0].key


def build(out: Path, caps: list[Capture]) -> Seeds:
    from decoders import wbxml
    from decoders.auth import syncml_basic
    from decoders.stun import looks_like_stun
    from decoders.tr111 import looks_like_udp_connection_request

    seeds = Seeds(out)
    bodies: list[tuple[str | None, bytes]] = []  # (content type, body) of every HTTP message

    for cap in caps:
        conns = cap.connections()
        # -- reader and capture: the whole capture, one capture per connection, format variants
        whole = cap.path.read_bytes()
        seeds.add("reader", whole)
        seeds.add("capture", whole)
        seeds.add("reader", gzip.compress(whole, 1))
        by_conn: dict[Key, list[tuple[int, float, int, bytes]]] = defaultdict(list)
        for fr in cap.frames:
            key = cap.frame_conn.get(fr[0])
            if key is not None:
                by_conn[key].append(fr)
        udp_frames = {f for f, *_ in cap.udp}
        for frames in by_conn.values():
            small = pcap_file(frames, cap.linktype)
            seeds.add("capture", small)
            seeds.add("reader", small)
            seeds.add("capture", pcapng_file(frames, cap.linktype, cap.keylog))
        udp = [fr for fr in cap.frames if fr[0] in udp_frames]
        if udp:
            seeds.add("capture", pcap_file(udp, cap.linktype))
        head = cap.frames[:12]
        seeds.add("reader", pcap_file(head, cap.linktype, nano=True))
        seeds.add("reader", pcap_file(head, cap.linktype, big=True))
        seeds.add("reader", pcap_file(head, cap.linktype, nano=True, big=True))
        seeds.add("reader", pcapng_file(head, cap.linktype, cap.keylog))
        seeds.add("reader", gzip.compress(pcapng_file(head, cap.linktype), 1))
        seeds.add("capture", gzip.compress(pcap_file(head, cap.linktype), 1))

        # -- packet: frames as they are, and the IP packets in other link layers
        seeds.add("packet", encode_ops([(0, [0, ("u16", 1), fr[3]]) for fr in cap.frames[:40]]))
        for fr in cap.frames[:40]:
            if cap.linktype == 1 and len(fr[3]) > 14:
                seeds.add("packet", _link_variants(fr[3]))
                seeds.add("packet", _fragments(fr[3][14:]))

        # -- tcp and tls and http: per connection
        for segs in conns.values():
            client = _client_key(segs)
            steps = []
            for s in segs:
                flow = 0 if s.key == client else 1
                steps.append((0, [flow, s.flags, ("u32", s.seq), ("u32", s.ack), ("u16", 1), s.payload]))
            seeds.add("tcp", encode_ops(steps))
            if any(s.payload[:1] == b"\x16" for s in segs):
                seeds.add("tls", encode_ops(_stream_ops(segs, client)))
                continue
            for role, pick in ((0, lambda s, c=client: s.key == c), (1, lambda s, c=client: s.key != c)):
                payloads = [s.payload for s in segs if s.payload and pick(s)]
                if not payloads:
                    continue
                steps = [(role, [0, 2])]
                if role == 1:
                    steps += [(3, [3])] * 4  # the requests were POSTs
                steps += [(0, [p]) for p in payloads] + [(4, []), (2, []), (4, [])]
                seeds.add("http", encode_ops(steps))
                cut = [(role, [0, 2]), *[(0, [p]) for p in payloads[:1]], (1, [("u16", 100)]),
                       *[(0, [p]) for p in payloads[2:]], (2, []), (4, [])]
                seeds.add("http", encode_ops(cut))
        # two connections interleaved, on flows 0/1 and 2/3
        if len(conns) >= 2:
            a, b = list(conns.values())[:2]
            ca, cb = _client_key(a), _client_key(b)
            steps = []
            for sa, sb in zip(a, b, strict=False):
                steps.append((0, [0 if sa.key == ca else 1, sa.flags, ("u32", sa.seq), ("u32", sa.ack),
                                  ("u16", 1), sa.payload]))
                steps.append((0, [2 if sb.key == cb else 3, sb.flags, ("u32", sb.seq), ("u32", sb.ack),
                                  ("u16", 1), sb.payload]))
            seeds.add("tcp", encode_ops(steps))

        # -- UDP datagrams
        for _frame, sport, dport, payload in cap.udp:
            if looks_like_stun(payload):
                seeds.add("stun", payload)
            if looks_like_udp_connection_request(payload):
                seeds.add("tr111", payload)
            if 2948 in (sport, dport) or 2949 in (sport, dport):
                seeds.add("notification", payload)

        # -- HTTP messages: headers for auth, bodies for the body decoders
        for tx in cap.transactions:
            for msg in (tx.request, tx.response):  # type: ignore[attr-defined]
                if msg is None:
                    continue
                for value in _header(msg.headers, "authorization") + _header(msg.headers,
                                                                              "proxy-authorization"):
                    seeds.add("auth", b"\x00" + value.encode("latin-1", "replace"))
                for value in _header(msg.headers, "www-authenticate"):
                    seeds.add("auth", b"\x01" + value.encode("latin-1", "replace"))
                for value in _header(msg.headers, "authentication-info"):
                    seeds.add("auth", b"\x02" + value.encode("latin-1", "replace"))
                for value in _header(msg.headers, "x-syncml-hmac"):
                    seeds.add("auth", b"\x04" + value.encode("utf-8", "replace"))
                ctype = (_header(msg.headers, "content-type") or [None])[0]
                body = msg.decoded_body if msg.decoded_body is not None else msg.body
                if body:
                    bodies.append((ctype, body))

    # -- bodies: from the captures and the shared corpus
    for path in sorted(CORPUS.glob("cwmp/**/*")):
        if path.is_file() and path.suffix in (".xml", ".txt"):
            bodies.append(("text/xml", path.read_bytes()))
    for path in sorted(CORPUS.glob("omadm/**/*")):
        if not path.is_file():
            continue
        if path.suffix == ".wbxml":
            bodies.append(("application/vnd.syncml.dm+wbxml", path.read_bytes()))
        elif path.suffix in (".xml", ".ddf"):
            bodies.append(("application/vnd.syncml.dm+xml", path.read_bytes()))
        elif path.suffix == ".bin":
            bodies.append(("application/vnd.syncml.notification", path.read_bytes()))
    seen: set[bytes] = set()
    for ctype, body in bodies:
        digest = hashlib.sha1(body).digest()
        if digest in seen:
            continue
        seen.add(digest)
        ct = (ctype or "").lower()
        if b"urn:dslforum-org:cwmp" in body:
            seeds.add("cwmp", b"\x01" + body)
            seeds.add("cwmp", b"\x02" + body)
        if b"SyncML" in body and body.lstrip()[:1] == b"<":
            seeds.add("syncml", b"\x01" + body)
            doc = wbxml.encode(body)
            if isinstance(doc, bytes):
                seeds.add("wbxml", doc)
        if "wbxml" in ct or body[:1] in (b"\x01", b"\x02", b"\x03"):
            seeds.add("wbxml", body)
        if "notification" in ct:
            seeds.add("notification", body)
        if len(body) > 16 and seeds.counts["body"] < 300:
            for i, coding in enumerate(("gzip", "x-gzip", "deflate")):
                packed = {"deflate": zlib.compress(body)}.get(coding) or gzip.compress(body, 6)
                chunked = _chunked(packed, 1000, b"X-Trailer: 1\r\n")
                seeds.add("body", bytes([0 + 3 * i, 1]) + chunked)  # chunked
                seeds.add("body", bytes([1 + 3 * i, 2]) + packed)  # Content-Length
            seeds.add("body", bytes([2 + 3 * 2, 1]) + _raw_deflate(body))  # raw DEFLATE, until close
            seeds.add("body", bytes([3 * 3, 3]) + _chunked(gzip.compress(zlib.compress(body)), 7))
    _handmade(seeds, syncml_basic)
    _keys(seeds)
    _tls_transcripts(seeds)
    return seeds


def _link_variants(eth: bytes) -> bytes:
    """One Ethernet frame's IP packet in every other link layer (as a packet-harness op stream)."""
    etype, ip = eth[12:14], eth[14:]
    family = 2 if etype == b"\x08\x00" else 10
    variants = [
        (0, eth[:12] + b"\x81\x00\x00\x05" + eth[12:]),  # 802.1Q
        (0, eth[:12] + b"\x88\xa8\x00\x05\x81\x00\x00\x06" + eth[12:]),  # QinQ
        (1, struct.pack("<I", family) + ip),  # NULL
        (3, struct.pack(">I", family) + ip),  # LOOP
        (2, ip),  # RAW
        (5 if family == 2 else 6, ip),  # IPV4 / IPV6
        (4, b"\x00\x00\x03\x04\x00\x06" + b"\x00" * 8 + etype + ip),  # SLL
        (7, etype + b"\x00\x00" + b"\x00\x00\x00\x01\x03\x04\x06" + b"\x00" * 9 + ip),  # SLL2
    ]
    ppp = b"\x00\x21" if family == 2 else b"\x00\x57"
    macs = eth[:12]
    variants += [
        (11, b"\xff\x03" + ppp + ip),  # PPP
        (13, b"\x11\x00\x00\x07" + struct.pack(">H", len(ip) + 2) + ppp + ip),  # PPP_ETHER
        (14, b"\x0f\x00" + etype + ip),  # C_HDLC
        # The encapsulations of dmsniff/net/tunnels.py, around the same packet:
        (0, macs + b"\x88\x64\x11\x00\x00\x07" + struct.pack(">H", len(ip) + 2) + ppp + ip),  # PPPoE
        (0, macs + b"\x88\x47\x00\x06\x40\x40\x00\x06\x41\x40" + ip),  # MPLS, two labels
        (0, macs + b"\x08\x00" + _outer(47, b"\x20\x00" + etype + b"\x00\x00\x00\x05" + ip)),  # GRE+key
        (0, macs + b"\x08\x00" + _outer(47, b"\x10\x00\x88\xbe\x00\x00\x00\x01"
                                         + b"\x10\x00\x00\x03\x00\x00\x00\x00" + eth)),  # ERSPAN II
        (0, macs + b"\x08\x00" + _outer(4 if family == 2 else 41, ip)),  # IP-in-IP
        (0, macs + b"\x08\x00" + _outer(17, _udp(4789, b"\x08\x00\x00\x00\x00\x00\x2a\x00" + eth))),
        (0, macs + b"\x08\x00" + _outer(17, _udp(6081, b"\x00\x00\x65\x58\x00\x00\x2a\x00" + eth))),
        (0, macs + b"\x08\x00" + _outer(17, _udp(2152, b"\x30\xff" + struct.pack(">H", len(ip))
                                                   + b"\x00\x00\x00\x4d" + ip))),  # GTP-U
        (0, macs + b"\x08\x00" + _outer(17, _udp(1701, b"\x00\x02\x00\x01\x00\x02\xff\x03" + ppp + ip))),
    ]
    return encode_ops([(0, [lt, ("u16", 1), data]) for lt, data in variants])


def _outer(proto: int, payload: bytes) -> bytes:
    """An outer IPv4 header (10.9.0.1 -> 10.9.0.2) around ``payload``: a tunnel's carrier."""
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                       bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])) + payload


def _udp(port: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", port, port, 8 + len(payload), 0) + payload


def _fragments(ip: bytes) -> bytes:
    """An IPv4 packet cut into two fragments (and the same payload as IPv6 with a fragment header)."""
    if len(ip) < 28 or ip[0] >> 4 != 4:
        return b""
    ihl = (ip[0] & 15) * 4
    payload = ip[ihl:]
    cut = max(8, (len(payload) // 2) & ~7)
    head = bytearray(ip[:ihl])
    first = bytearray(head)
    struct.pack_into(">H", first, 2, ihl + cut)
    struct.pack_into(">H", first, 6, 0x2000)
    second = bytearray(head)
    struct.pack_into(">H", second, 2, ihl + len(payload) - cut)
    struct.pack_into(">H", second, 6, cut // 8)
    v6 = struct.pack(">IHBB", 0x60000000, len(payload) + 8, 44, 64) + b"\x00" * 15 + b"\x01" + \
        b"\x00" * 15 + b"\x02"
    frag6 = struct.pack(">BBHI", ip[9], 0, 0, 7)
    return encode_ops([(0, [2, ("u16", 1), bytes(first) + payload[:cut]]),
                       (0, [2, ("u16", 1), bytes(second) + payload[cut:]]),
                       (0, [6, ("u16", 1), v6 + frag6 + payload])])


def _handmade(seeds: Seeds, syncml_basic: object) -> None:
    """Seeds for what the captures do not hold: written here from the specifications' examples."""
    auth = [
        b'\x00Digest username="alice", realm="dmsniff-test", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        b'uri="/secret/file.txt", qop=auth, nc=00000001, cnonce="0a4f113b", '
        b'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", '
        b"algorithm=MD5-sess",
        b'\x00Digest username*=UTF-8\'\'J%C3%A4s%C3%B8n, realm="api@example.org", uri="/doe.json", '
        b'algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, '
        b'qop=auth, cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", userhash=false, '
        b'response="ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"',
        b"\x00Basic YWxpY2U6YWxpY2UtcGFzcw==",
        b'\x01Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        b'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        b'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", '
        b'Basic realm="simple", charset="UTF-8"',
        b'\x02rspauth="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b"',
        b"\x03" + str(syncml_basic("dmuser", "dmpass")).encode(),  # type: ignore[operator]
        b'\x04algorithm=MD5, username="dmuser", mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZkYmQ4OGE=',
    ]
    for s in auth:
        seeds.add("auth", s)
    tr111 = [
        b"GET http://10.1.1.1:8080?ts=1120673700&id=1234&un=CPE57689&cn=XTGRWIPC6D3IPXS3&"
        b"sig=3545F7B5820D76A3DF45A3A509DA8D8C38F62F0A HTTP/1.1\r\nHost: 10.1.1.1:8080\r\n\r\n",
        b"GET /?ts=1&id=2&un=u&cn=c&sig=00 HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n",
    ]
    for s in tr111:
        seeds.add("tr111", s)
    stun = struct.pack(">HHI12s", 0x0001, 24, 0x2112A442, b"abcdefghijkl") + \
        struct.pack(">HH", 0x0006, 8) + b"cpe-0001" + struct.pack(">HHI", 0x0024, 4, 0x6E0001FF) + \
        struct.pack(">HH", 0x8022, 0)
    seeds.add("stun", stun)
    seeds.add("stun", struct.pack(">HHI12s", 0x0101, 12, 0x2112A442, b"abcdefghijkl") +
              struct.pack(">HHBBH4s", 0x0020, 8, 0, 1, 0x1234 ^ 0x2112, b"\x5e\x12\xa4\x43"))
    secrets = [
        b'[[http]]\nusername = "cpe-0001"\npassword = "s3cret"\nrealm = "acs.example.net"\n'
        b'label = "lab CPE"\n',
        b'[[connection_request]]\nusername = "cruser"\npassword = "crpass"\n',
        b'[[omadm_client]]\nusername = "dmuser"\npassword = "dmpass"\n'
        b'nonce_b64 = "XUFAKrxLKna5cZ2REBfFkg=="\n',
        b'[[omadm_server]]\nserver_id = "dm.example.net"\npassword = "srvpass"\nnonce_hex = "00ff"\n'
        b'[[omadm_server]]\nserver_id = "x"\npassword = "y"\nnonce = "n"\n',
        b'keylog = ["sslkeys.log", "b.log"]\n[[tls]]\nrsa_key = "acs.key"\npassword = "pw"\n'
        b'server = "[2001:db8::1]:443"\n',
        b"alice:alice-pass",
    ]
    for s in secrets:
        seeds.add("secrets", s)


def _keys(seeds: Seeds) -> None:
    from cryptography.hazmat.primitives import serialization

    for path in sorted(CAPTURES.glob("*.keys")) + sorted(TLS_SEEDS.glob("*.keys")):
        seeds.add("keys", b"\x00" + path.read_bytes()[:8000])
    for path in sorted(CAPTURES.glob("*.server.key"))[:1]:
        pem = path.read_bytes()
        seeds.add("keys", b"\x01" + pem)
        seeds.add("keys", b"\x03" + pem)
        key = serialization.load_pem_private_key(pem, None)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        seeds.add("keys", b"\x01" + der)
        enc = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"password"))
        seeds.add("keys", b"\x02" + enc)
        seeds.add("keys", b"\x01" + base64.b64encode(der))


def _tls_transcripts(seeds: Seeds) -> None:
    for path in sorted(TLS_SEEDS.glob("*.bin")):
        seeds.add("tls", path.read_bytes())


def make_tls_transcripts() -> None:
    """(Re)write ``fuzz/seeds/tls/``: one transcript per profile of the TLS tests, as TLS harness
    ops, and their key log.  Run by hand; the result is committed."""
    sys.path.insert(0, str(CAPTURES.parent))
    from tests.decoders.tls import helpers

    TLS_SEEDS.mkdir(parents=True, exist_ok=True)
    for old in TLS_SEEDS.glob("*"):
        old.unlink()
    keylog = []
    for profile in helpers.PROFILES:
        t = helpers.transcript(profile, 2)
        steps = [(0, [direction, data]) for direction, data in t.flights] + [(2, [0]), (2, [1])]
        (TLS_SEEDS / f"{profile}.bin").write_bytes(encode_ops(steps))
        keylog.append(t.keylog)
    (TLS_SEEDS / "transcripts.keys").write_text("".join(keylog))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=WORK / "seeds")
    ap.add_argument("--tls-transcripts", action="store_true",
                    help="first remake the committed TLS transcripts in fuzz/seeds/tls/")
    args = ap.parse_args(argv)
    if args.tls_transcripts:
        make_tls_transcripts()
    if args.out.exists():
        shutil.rmtree(args.out)
    seeds = build(args.out, captures())
    for h in HARNESSES:
        print(f"{h:13} {seeds.counts.get(h, 0):5} seeds  {args.out / h}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
