"""Link/IP/transport decoding for every supported link type, VLANs, IPv6 extension
headers and IP fragment reassembly; frames are built with scapy."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback
from scapy.packet import Packet, Raw

from dmsniff.net.linktypes import LINK_TYPES
from dmsniff.net.packet import Dissector, shard_of
from tests.builders import nflog

# Explicit addresses: with none, scapy resolves the destination MAC by ARP, with a timeout,
# for every frame it builds.
MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"

PAYLOAD = b"POST /acs HTTP/1.1\r\nHost: acs\r\n\r\n"


class Recorder:
    def __init__(self) -> None:
        self.tcp: list[tuple[object, ...]] = []
        self.udp: list[tuple[object, ...]] = []
        self.d = Dissector(self.on_tcp, self.on_udp)

    def on_tcp(self, *args: object) -> None:
        self.tcp.append(args)

    def on_udp(self, *args: object) -> None:
        self.udp.append(args)


def ip4_tcp() -> Packet:
    return IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=40001, dport=7547, seq=1234, ack=99,
                                                         flags="PA") / Raw(PAYLOAD)


def ip6_tcp(*ext: Packet) -> Packet:
    pkt: Packet = IPv6(src="2001:db8::1", dst="2001:db8::2")
    for e in ext:
        pkt = pkt / e
    return pkt / TCP(sport=40001, dport=7547, seq=1234, ack=99, flags="PA") / Raw(PAYLOAD)


def check_tcp(rec: Recorder, v6: bool = False) -> None:
    assert len(rec.tcp) == 1, rec.d.stats
    _frame, _ts, src, sport, dst, dport, seq, ack, flags, payload = rec.tcp[0]
    assert (sport, dport, seq, ack, payload) == (40001, 7547, 1234, 99, PAYLOAD)
    assert flags == 0x18
    if v6:
        assert src == bytes.fromhex("20010db8000000000000000000000001")
    else:
        assert (src, dst) == (bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7]))


LINK_FRAMES = [
        (1, lambda: Ether(src=MAC_A, dst=MAC_B) / ip4_tcp()),
        (1, lambda: Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=7) / ip4_tcp()),
        (1, lambda: Ether(src=MAC_A, dst=MAC_B) / Dot1AD(vlan=100) / Dot1Q(vlan=7) / ip4_tcp()),  # QinQ
        (113, lambda: CookedLinux(proto=0x0800) / ip4_tcp()),
        (276, lambda: CookedLinuxV2(proto=0x0800) / ip4_tcp()),
        (101, ip4_tcp),
        (228, ip4_tcp),
        (0, lambda: Loopback(type=2) / ip4_tcp()),
        (108, lambda: bytes.fromhex("00000002") + bytes(ip4_tcp())),  # OpenBSD loop: big-endian family
        (12, ip4_tcp),
        (14, ip4_tcp),
        (229, lambda: bytes(ip4_tcp())),  # an IPV6 link carrying IPv4 is read by the header's version
        (9, lambda: b"\xff\x03\x00\x21" + bytes(ip4_tcp())),  # PPP in HDLC-like framing
        (50, lambda: b"\xff\x03\x00\x21" + bytes(ip4_tcp())),
        (51, lambda: bytes.fromhex("110000070000") + b"\x00\x21" + bytes(ip4_tcp())),  # PPPoE session
        (104, lambda: b"\x0f\x00\x08\x00" + bytes(ip4_tcp())),  # Cisco HDLC: an EtherType
        (239, lambda: nflog(bytes(ip4_tcp()))),  # Linux NFLOG, written on a little-endian host
]


def test_every_link_type_has_a_frame_here() -> None:
    """A row added to dmsniff/net/linktypes.py LINK_TYPES needs its frame in LINK_FRAMES."""
    assert {lt for lt, _build in LINK_FRAMES} == set(LINK_TYPES)


@pytest.mark.parametrize(
    ("linktype", "build"),
    LINK_FRAMES,
    ids=["ether", "vlan", "qinq", "sll", "sll2", "raw", "ipv4", "null", "loop", "raw12", "raw14", "ipv6link",
         "ppp", "ppp-hdlc", "ppp-ether", "c-hdlc", "nflog"],
)
def test_ipv4_tcp_on_every_link_type(linktype: int, build: object) -> None:
    rec = Recorder()
    rec.d.frame(1, 0.0, linktype, bytes(build()))  # type: ignore[operator]
    check_tcp(rec)


def test_nflog_in_either_byte_order_and_without_its_packet() -> None:
    big_endian = Recorder()
    big_endian.d.frame(1, 0.0, 239, nflog(bytes(ip4_tcp()), order=">"))
    check_tcp(big_endian)
    v6 = Recorder()
    v6.d.frame(1, 0.0, 239, nflog(bytes(ip6_tcp()), family=10))
    check_tcp(v6, v6=True)
    cut = Recorder()  # a snapshot length cut the packet: what there is of it is read (here, the headers)
    frame = nflog(bytes(ip4_tcp()))
    cut.d.frame(1, 0.0, 239, frame[:frame.index(PAYLOAD) + 4])
    assert cut.d.stats.tcp_segments == 1 and cut.d.stats.malformed == 0
    no_packet = Recorder()  # logged without a copy of the packet: counted, not malformed
    no_packet.d.frame(1, 0.0, 239, nflog(b"", payload_type=12))
    no_packet.d.frame(2, 0.0, 239, b"\x02\x00\x00\x05\x50\x00")  # TLVs that do not add up
    assert not no_packet.tcp
    assert (no_packet.d.stats.other, no_packet.d.stats.malformed) == (1, 1)


@given(st.binary(max_size=64), st.data())
def test_any_nflog_frame_decodes_or_is_counted(tail: bytes, data: st.DataObject) -> None:
    frame = data.draw(st.sampled_from([nflog(bytes(ip4_tcp())), nflog(bytes(ip4_tcp()), order=">"),
                                        b"\x02\x00\x00\x05"]))
    cut = data.draw(st.integers(0, len(frame)))
    header = LINK_TYPES[239].header(frame[:cut] + tail)
    assert header is None or 4 <= header[1] <= cut + len(tail)
    rec = Recorder()
    rec.d.frame(1, 0.0, 239, frame[:cut] + tail)  # never raises


def test_ethernet_padding_is_not_payload() -> None:
    pkt = bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src="1.2.3.4", dst="5.6.7.8") / TCP(flags="A"))
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, pkt + b"\x00" * 6)  # padded to the 60-byte minimum
    assert rec.tcp[0][-1] == b""


@pytest.mark.parametrize(
    "ext",
    [
        (),
        (IPv6ExtHdrHopByHop(),),
        (IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt(), IPv6ExtHdrRouting(addresses=["2001:db8::9"])),
    ],
    ids=["plain", "hopbyhop", "chain"],
)
@pytest.mark.parametrize("linktype", [1, 101, 229, 0])
def test_ipv6_with_extension_headers(ext: tuple[Packet, ...], linktype: int) -> None:
    l3 = ip6_tcp(*ext)
    frame = {1: lambda: Ether(src=MAC_A, dst=MAC_B) / l3,
             0: lambda: Loopback(type=30) / l3}.get(linktype, lambda: l3)()
    rec = Recorder()
    rec.d.frame(1, 0.0, linktype, bytes(frame))
    check_tcp(rec, v6=True)


def test_udp_over_ipv4_and_ipv6() -> None:
    rec = Recorder()
    rec.d.frame(1, 0.5, 1, bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src="10.0.0.1", dst="10.0.0.2")
                                 / UDP(sport=5, dport=2948)
                                 / Raw(b"\x01\x06pkg0")))
    rec.d.frame(2, 0.6, 229, bytes(IPv6(src="::1", dst="::1") / UDP(sport=3478, dport=3478) / Raw(b"stun")))
    assert [(u[3], u[5], u[6]) for u in rec.udp] == [(5, 2948, b"\x01\x06pkg0"), (3478, 3478, b"stun")]


@pytest.mark.parametrize("seed", range(3))
def test_ipv4_fragments_reassembled_in_any_order(seed: int) -> None:
    big = ip4_tcp()
    big[Raw].load = PAYLOAD + bytes(random.Random(seed).randbytes(3000))
    frags = fragment(big, fragsize=512)
    assert len(frags) > 3
    order = list(range(len(frags)))
    random.Random(seed).shuffle(order)
    rec = Recorder()
    for n, i in enumerate(order, 1):
        rec.d.frame(n, 0.0, 1, bytes(Ether(src=MAC_A, dst=MAC_B) / frags[i]))
    assert len(rec.tcp) == 1
    assert rec.tcp[0][0] == len(frags)  # reported with the frame that completed it
    assert rec.tcp[0][-1] == big[Raw].load
    assert rec.d.stats.reassembled_datagrams == 1


def test_ipv6_fragments_reassembled() -> None:
    big = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment() / UDP(sport=1, dport=2) / Raw(
        b"Z" * 3000)
    frags = fragment6(big, 1280)
    rec = Recorder()
    for n, f in enumerate(reversed(frags), 1):
        rec.d.frame(n, 0.0, 229, bytes(f))
    assert len(rec.udp) == 1
    assert rec.udp[0][-1] == b"Z" * 3000


def test_incomplete_fragments_are_counted_not_delivered() -> None:
    frags = fragment(ip4_tcp() / Raw(b"x" * 2000), fragsize=512)
    rec = Recorder()
    for n, f in enumerate(frags[:-1], 1):
        rec.d.frame(n, 0.0, 101, bytes(f))
    rec.d.finish()
    assert rec.tcp == []
    assert rec.d.stats.fragments_dropped == len(frags) - 1


def test_oversized_fragment_datagram_is_dropped() -> None:
    rec = Recorder()
    hdr = IP(src="1.1.1.1", dst="2.2.2.2", id=5, proto=6, flags="MF", frag=8180) / Raw(b"A" * 1000)
    rec.d.frame(1, 0.0, 101, bytes(hdr))
    assert rec.d.stats.fragments_dropped == 1


@pytest.mark.parametrize("cut", range(0, 80))
def test_truncated_headers_never_raise(cut: int) -> None:
    frame = bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q() / ip4_tcp())[:cut]
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, frame)
    frame6 = bytes(Ether(src=MAC_A, dst=MAC_B) / ip6_tcp(IPv6ExtHdrHopByHop()))[:cut]
    rec.d.frame(2, 0.0, 1, frame6)
    for lt in (0, 101, 113, 276, 108, 229, 9999):
        rec.d.frame(3, 0.0, lt, frame[14:])


@pytest.mark.parametrize("frame", [b"\x21" + bytes(ip4_tcp()), b"\x00\x21" + bytes(ip4_tcp())],
                         ids=["compressed", "no-address-control"])
def test_ppp_protocol_field_forms(frame: bytes) -> None:
    # RFC 1661/1662: the address and control bytes may be left out, the protocol cut to one byte.
    rec = Recorder()
    rec.d.frame(1, 0.0, 9, frame)
    check_tcp(rec)


def test_ppp_control_protocols_are_other_traffic() -> None:
    rec = Recorder()
    rec.d.frame(1, 0.0, 9, bytes.fromhex("ff03c021") + b"\x01\x01\x00\x04")  # LCP Configure-Request
    assert (rec.d.stats.other, rec.d.stats.malformed) == (1, 0)


def test_unknown_link_type_counted() -> None:
    rec = Recorder()
    rec.d.frame(1, 0.0, 147, b"\x00" * 40)
    assert rec.d.stats.unknown_linktypes == {147: 1}


def test_shards_split_connections_the_same_on_fast_and_slow_paths() -> None:
    # Plain Ethernet/IPv4/TCP takes the inlined shard test in Dissector.run; a VLAN tag
    # sends the same segment through the slow path and shard_of().  Each connection
    # (either direction) must land in exactly one shard, the same one either way.
    rng = random.Random(7)
    frames = []
    for _ in range(200):
        a, b = f"10.{rng.randrange(256)}.0.{rng.randrange(1, 255)}", f"192.0.2.{rng.randrange(1, 255)}"
        pa, pb = rng.randrange(1024, 65536), rng.choice([80, 7547, 8080])
        for src, sport, dst, dport in ((a, pa, b, pb), (b, pb, a, pa)):
            seg = IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="PA") / Raw(b"x")
            frames.append(bytes(Ether(src=MAC_A, dst=MAC_B) / seg))
            frames.append(bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=5) / seg))
    seen: dict[tuple[object, ...], list[int]] = {}
    for shard in range(3):
        rec = Recorder()
        rec.d = Dissector(rec.on_tcp, rec.on_udp, shard=shard, nshards=3)
        rec.d.run([(n + 1, 0.0, 1, f) for n, f in enumerate(frames)], [], lambda: None)
        for _frame, _ts, src, sport, dst, dport, *_ in rec.tcp:
            conn = tuple(sorted([(src, sport), (dst, dport)]))
            seen.setdefault(conn, []).append(shard)
            assert shard_of(src, sport, dst, dport, 3) == shard  # type: ignore[arg-type]
    assert len(seen) == 200
    assert all(len(shards) == 4 and len(set(shards)) == 1 for shards in seen.values())  # 2 dirs x 2 paths
    assert {s[0] for s in seen.values()} == {0, 1, 2}


def test_a_connections_shard_does_not_depend_on_the_interpreters_hash_seed() -> None:
    # The tasks of one capture on a Dask cluster run in processes that were not forked from one
    # another; each must follow exactly the connections the others leave, whatever its seed.
    import os
    import subprocess
    import sys

    code = (
        "import random; from dmsniff.net.packet import shard_of; r = random.Random(3); "
        "print([shard_of(r.randbytes(n), r.randrange(65536), r.randbytes(n), r.randrange(65536), k, h) "
        "for n in (4, 16) for k in (2, 3, 8) for h in (False, True) for _ in range(50)])"
    )
    out = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "random")
    }
    assert len(out) == 1
    shards = eval(out.pop())  # a list of ints, printed by the code above
    assert set(shards) == set(range(8))  # (every shard of 8 is used)


def test_shards_share_out_many_connections_evenly() -> None:
    # Clients of one subnet to one server, as behind an ACS: both halves get about half of them.
    rng = random.Random(11)
    for by_hosts in (False, True):
        counts = [0, 0]
        for i in range(4000):
            client = bytes([10, 0, i >> 8, i & 0xFF])
            port = rng.randrange(1024, 65536)
            counts[shard_of(client, port, bytes([192, 0, 2, 1]), 7547, 2, by_hosts)] += 1
        assert min(counts) > 1800, counts


def _mixed_frames(rng: random.Random) -> list[bytes]:
    """TCP segments of many connections on the fast path and off it (VLAN, IP options, fragments,
    IPv6, a header cut short, a length past the frame), with UDP datagrams between."""
    frames: list[bytes] = []
    for i in range(300):
        a, b = f"10.{rng.randrange(256)}.0.{rng.randrange(1, 255)}", f"192.0.2.{rng.randrange(1, 255)}"
        tcp = TCP(sport=rng.randrange(1024, 65536), dport=rng.choice([80, 7547]), seq=rng.randrange(2**32),
                  ack=rng.randrange(2**32), flags="PA")
        seg = IP(src=a, dst=b) / tcp / Raw(b"x" * i)
        eth = Ether(src=MAC_A, dst=MAC_B)
        kind = i % 10
        if kind == 1:
            frames.append(bytes(eth / Dot1Q(vlan=5) / seg))
        elif kind == 2:
            frames.append(bytes(eth / IP(src=a, dst=b, options=b"\x01\x01\x01\x01") / seg[TCP]))
        elif kind == 3:
            frames += [bytes(eth / f) for f in fragment(seg, fragsize=16)]
        elif kind == 4:
            frames.append(bytes(eth / IPv6(src="2001:db8::1", dst="2001:db8::2") / seg[TCP]))
        elif kind == 5:
            frames.append(bytes(eth / seg)[:50])
        elif kind == 6:
            whole = bytes(eth / seg)
            frames.append(whole[:16] + (len(whole) + 10).to_bytes(2, "big") + whole[18:])
        elif kind == 7:
            frames.append(bytes(eth / IP(src=a, dst=b) / UDP(sport=5000, dport=2948) / Raw(b"u")))
        else:
            frames.append(bytes(eth / seg))
    return frames


@pytest.mark.parametrize(("nshards", "by_hosts"), [(2, False), (3, False), (2, True)])
def test_the_reader_passes_over_exactly_the_frames_run_passes_over(nshards: int, by_hosts: bool) -> None:
    # Dissector.passes_over is run()'s own test, asked in the reader: a worker that lets its reader
    # pass over what it says must see the same segments, tick after the same frames, and count the
    # same, as one that reads every frame.
    frames = _mixed_frames(random.Random(5))
    timed = [(n + 1, 1000.0 + n, 1, f) for n, f in enumerate(frames)]
    for shard in range(nshards):
        runs = []
        for reader_passes in (False, True):
            rec = Recorder()
            ticks: list[tuple[int, float]] = []
            rec.d = d = Dissector(rec.on_tcp, rec.on_udp, shard=shard, nshards=nshards, by_hosts=by_hosts)
            d.tick = lambda ts, d=d, ticks=ticks: ticks.append((d.current_frame, ts))  # type: ignore[misc]
            yielded = []
            todo: Iterable[tuple[int, float, int, bytes]] = timed
            if reader_passes:
                pad = b"\xee" * 5  # the frame sits inside the reader's buffer, not at its start
                # (a generator: the reader asks as it reads, between the frames run() decodes)
                todo = (t for t in timed if not d.passes_over(pad + t[3] + pad, 5, len(t[3]), 1, t[0], t[1]))
            d.run((yielded.append(t) or t for t in todo), [], lambda: None)
            d.finish()
            runs.append((rec.tcp, rec.udp, ticks, d.stats, len(timed) - len(yielded)))
        (tcp, udp, ticks, stats, _), (tcp2, udp2, ticks2, stats2, passed) = runs
        assert (tcp2, udp2, ticks2, stats2) == (tcp, udp, ticks, stats)
        # Most of the others' segments on the fast path (90 of the 300 connections' frames) were
        # passed over: the test has teeth.
        assert passed > 0.7 * 90 * (nshards - 1) / nshards, passed


def test_only_a_shard_s_dissector_passes_over_frames_and_only_ethernet_ones() -> None:
    frame = bytes(Ether(src=MAC_A, dst=MAC_B) / ip4_tcp())
    one = Dissector(lambda *a: None, lambda *a: None)
    assert not one.sharded and not one.passes_over(frame, 0, len(frame), 1, 1, 0.0)
    shards = [Dissector(lambda *a: None, lambda *a: None, shard=k, nshards=2) for k in range(2)]
    assert all(d.sharded for d in shards)
    assert [d.passes_over(frame, 0, len(frame), 1, 1, 0.0) for d in shards].count(True) == 1
    for link in (0, 101, 113):  # the fast path is Ethernet's: other link types take run()'s slow path
        assert not any(d.passes_over(frame, 0, len(frame), link, 1, 0.0) for d in shards)


@given(st.integers(0, 2**32 - 1), st.integers(1, 64))
def test_a_shard_is_the_top_of_the_fibonacci_product(h: int, nshards: int) -> None:
    # _spread computes this from 16-bit halves (the compiled build multiplies natively only factors
    # under 2**30): the same shard as the plain formula, for every 32-bit h.
    from dmsniff.net.packet import _spread

    assert _spread(h, nshards) == (h * 0x9E3779B1 & 0xFFFFFFFF) * nshards >> 32
