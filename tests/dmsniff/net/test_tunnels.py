"""Traffic inside encapsulations (dmsniff/net/tunnels.py): every reader, built with scapy; hostile
nesting and cut headers; and a whole capture re-encapsulated, which must give the same report
(and which tshark reads as we do)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE, Dot1Q, Ether
from scapy.layers.l2tp import L2TP
from scapy.layers.ppp import HDLC, PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw
from scapy.utils import PcapReader, PcapWriter

from dmsniff.net.packet import Dissector, shard_of
from dmsniff.net.tunnels import BY_ETHERTYPE, BY_IP_PROTOCOL, BY_UDP_PORT, MAX_ENCAPSULATIONS
from tests.dmsniff.net.test_packet import MAC_A, MAC_B, PAYLOAD, Recorder, check_tcp, ip4_tcp, ip6_tcp

ROOT = Path(__file__).resolve().parents[3]


def eth(*inner: Packet) -> Packet:
    pkt: Packet = Ether(src=MAC_A, dst=MAC_B)
    for layer in inner:
        pkt = pkt / layer
    return pkt


def outer4() -> Packet:
    return IP(src="10.9.0.1", dst="10.9.0.2")


def outer6() -> Packet:
    return IPv6(src="2001:db8:9::1", dst="2001:db8:9::2")


#: (id, the encapsulations the frame opens, the frame): every row of the three tables appears.
ENCAPSULATED: list[tuple[str, set[str], Callable[[], Packet]]] = [
    ("pppoe", {"PPPoE"}, lambda: eth(PPPoE(sessionid=7), PPP(proto=0x0021), ip4_tcp())),
    ("pppoe-ipv6", {"PPPoE"}, lambda: eth(PPPoE(sessionid=7), PPP(proto=0x0057), ip6_tcp())),
    ("mpls", {"MPLS"}, lambda: eth(MPLS(label=100, s=0), MPLS(label=200, s=1), ip4_tcp())),
    ("mpls-ipv6", {"MPLS"}, lambda: eth(MPLS(label=100, s=1), ip6_tcp())),
    ("mpls-pseudowire", {"MPLS"},  # an Ethernet pseudowire: control word, then the frame
     lambda: eth(MPLS(label=100, s=1), Raw(b"\x00\x00\x00\x01"), eth(ip4_tcp()))),
    ("gre-ipv4", {"GRE"}, lambda: eth(outer4(), GRE(), ip4_tcp())),
    ("gre-key-checksum-seq", {"GRE"},
     lambda: eth(outer4(), GRE(chksum_present=1, key_present=1, key=5, seqnum_present=1), ip4_tcp())),
    ("gre-over-ipv6", {"GRE"}, lambda: eth(outer6(), GRE(proto=0x86DD), ip6_tcp())),
    ("gre-ethernet", {"GRE", "Ethernet"}, lambda: eth(outer4(), GRE(proto=0x6558), eth(ip4_tcp()))),
    ("erspan-1", {"GRE", "ERSPAN"}, lambda: eth(outer4(), GRE(proto=0x88BE), eth(ip4_tcp()))),
    ("erspan-2", {"GRE", "ERSPAN"},
     lambda: eth(outer4(), GRE(seqnum_present=1, proto=0x88BE), ERSPAN_II(session_id=3), eth(ip4_tcp()))),
    ("erspan-3", {"GRE", "ERSPAN"},
     lambda: eth(outer4(), GRE(seqnum_present=1, proto=0x22EB), ERSPAN_III(session_id=3), eth(ip4_tcp()))),
    ("erspan-3-subheader", {"GRE", "ERSPAN"},
     lambda: eth(outer4(), GRE(seqnum_present=1, proto=0x22EB), ERSPAN_III(o=1), ERSPAN_PlatformSpecific(),
                 eth(ip4_tcp()))),
    ("ip-in-ip", {"IP-in-IP"}, lambda: eth(outer4() / ip4_tcp())),
    ("ipv4-in-ipv6", {"IP-in-IP"},
     lambda: eth(IPv6(src="2001:db8:9::1", dst="2001:db8:9::2", nh=4), ip4_tcp())),
    ("ipv6-in-ip", {"IPv6-in-IP"}, lambda: eth(outer4() / ip6_tcp())),
    ("vxlan", {"VXLAN"},
     lambda: eth(outer4(), UDP(sport=49152, dport=4789), VXLAN(vni=42), eth(ip4_tcp()))),
    ("vxlan-vlan-inside", {"VXLAN"},
     lambda: eth(outer6(), UDP(sport=49152, dport=4789), VXLAN(vni=42), eth(Dot1Q(vlan=9), ip4_tcp()))),
    ("geneve", {"Geneve"},
     lambda: eth(outer4(), UDP(sport=1, dport=6081), GENEVE(proto=0x6558), eth(ip4_tcp()))),
    ("geneve-options-ip", {"Geneve"},
     lambda: eth(outer4(), UDP(sport=1, dport=6081),
                 GENEVE(proto=0x0800, options=[GeneveOptions(classid=0x0102, type=1, data=b"\x00" * 8)]),
                 ip4_tcp())),
    ("gtp-u", {"GTP-U"},
     lambda: eth(outer4(), UDP(sport=2152, dport=2152), GTP_U_Header(teid=77), ip4_tcp())),
    ("gtp-u-sequence", {"GTP-U"},
     lambda: eth(outer4(), UDP(sport=2152, dport=2152), GTP_U_Header(teid=77, S=1, seq=9), ip6_tcp())),
    ("gtp-u-extension", {"GTP-U"},  # a 5G PDU session container extension header
     lambda: eth(outer4(), UDP(sport=2152, dport=2152), GTP_U_Header(teid=77, E=1, next_ex=0x85),
                 GTPPDUSessionContainer(type=0, QFI=5), ip4_tcp())),
    ("l2tp", {"L2TP"},  # a subscriber's PPP session between a LAC and an LNS
     lambda: eth(outer4(), UDP(sport=1701, dport=1701), L2TP(tunnel_id=1, session_id=2), HDLC(),
                 PPP(proto=0x0021), ip4_tcp())),
    ("l2tp-length-sequence-offset", {"L2TP"},  # L, S and O bits; no address/control, IPv6
     lambda: eth(outer4(), UDP(sport=1701, dport=40000),
                 Raw(bytes.fromhex("4a02") + b"\x00\x00" + bytes.fromhex("0001 0002 0000 0000 0003 000000")
                     + b"\x00\x57"), ip6_tcp())),
    ("nested", {"VXLAN", "PPPoE", "MPLS"},  # a VLAN, VXLAN, then PPPoE carrying MPLS (PPP's 0x0281)
     lambda: eth(Dot1Q(vlan=3), outer4(), UDP(sport=1, dport=4789), VXLAN(vni=1),
                 eth(PPPoE(), PPP(proto=0x0281), MPLS(label=1, s=1), ip4_tcp()))),
]


def test_every_encapsulation_has_a_frame_here() -> None:
    """A row added to a table of dmsniff/net/tunnels.py needs its frame in ENCAPSULATED."""
    tables = (BY_ETHERTYPE, BY_IP_PROTOCOL, BY_UDP_PORT)
    names = {name for table in tables for name, _reader in table.values()}
    assert set().union(*(opens for _id, opens, _build in ENCAPSULATED)) == names


@pytest.mark.parametrize(("opens", "build"), [(o, b) for _i, o, b in ENCAPSULATED],
                         ids=[i for i, _o, _b in ENCAPSULATED])
def test_tcp_inside_the_encapsulation(opens: set[str], build: Callable[[], Packet]) -> None:
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, bytes(build()))
    check_tcp(rec, v6=bool(rec.tcp) and len(rec.tcp[0][2]) == 16)
    assert sum(rec.d.stats.tunnelled.values()) == 1  # one frame, counted once, by its outermost
    assert next(iter(rec.d.stats.tunnelled)) in opens
    assert (rec.d.stats.malformed, rec.d.stats.other, rec.udp) == (0, 0, [])


def test_shards_follow_the_inner_connection() -> None:
    # Tunnelled segments take the slow path; with shards, the inner connection decides the shard.
    frames = [(n, 0.0, 1, bytes(build())) for n, (_i, _o, build) in enumerate(ENCAPSULATED, 1)]
    total = 0
    for shard in range(3):
        rec = Recorder()
        rec.d = Dissector(rec.on_tcp, rec.on_udp, shard=shard, nshards=3)
        rec.d.run(frames, [], lambda: None)
        assert all(shard_of(t[2], t[3], t[4], t[5], 3) == shard for t in rec.tcp)
        total += len(rec.tcp)
    assert total == len(frames)


def test_nesting_is_bounded() -> None:
    pkt: Packet = ip4_tcp()
    for _ in range(MAX_ENCAPSULATIONS + 5):
        pkt = outer4() / pkt
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, bytes(eth(pkt)))
    assert rec.tcp == []
    assert rec.d.stats.malformed == 1
    assert rec.d.stats.tunnelled == {"IP-in-IP": 1}
    # ... and the limit is per frame: the next one is read whole.
    rec.d.frame(2, 0.0, 1, bytes(eth(outer4() / ip4_tcp())))
    assert len(rec.tcp) == 1


def test_a_datagram_to_a_tunnel_port_that_is_no_tunnel_stays_a_datagram() -> None:
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, bytes(eth(outer4(), UDP(sport=5, dport=4789), Raw(b"\x00" * 16))))
    rec.d.frame(2, 0.0, 1, bytes(eth(outer4(), UDP(sport=5, dport=2152), Raw(b"hello, not GTP"))))
    assert [u[5] for u in rec.udp] == [4789, 2152]
    assert rec.d.stats.tunnelled == {}


def test_gre_version_1_lcp_and_l2tp_control_are_other_traffic_not_malformed() -> None:
    rec = Recorder()
    control = bytes.fromhex("c802 000c 0001 0000 0000 0000")  # L2TP control message (T, L bits), a ZLB
    rec.d.frame(3, 0.0, 1, bytes(eth(outer4(), UDP(sport=1701, dport=1701), Raw(control))))
    rec.d.frame(1, 0.0, 1, bytes(eth(outer4(), GRE(version=1, proto=0x880B, key_present=1), Raw(b"ppp"))))
    rec.d.frame(2, 0.0, 1, bytes(eth(PPPoE(), PPP(proto=0xC021), Raw(b"\x01\x01\x00\x04"))))
    rec.d.frame(4, 0.0, 51, bytes.fromhex("1109 0000 0004 0101 0000"))  # PPPoE discovery (PADI)
    assert (rec.d.stats.other, rec.d.stats.malformed, rec.tcp) == (4, 0, [])


@pytest.mark.parametrize("build", [b for _i, _o, b in ENCAPSULATED], ids=[i for i, _o, _b in ENCAPSULATED])
def test_cut_anywhere_never_raises(build: Callable[[], Packet]) -> None:
    frame = bytes(build())
    rec = Recorder()
    for n, cut in enumerate(range(len(frame) - len(PAYLOAD)), 1):
        rec.d.frame(n, 0.0, 1, frame[:cut])
    assert all(u[3] in BY_UDP_PORT or u[5] in BY_UDP_PORT for u in rec.udp)  # (cut inside the tunnel header)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b for _i, _o, b in ENCAPSULATED]), st.data())
def test_damaged_headers_never_raise(build: Callable[[], Packet], data: st.DataObject) -> None:
    frame = bytearray(bytes(build()))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(frame) - 1))
        frame[pos] = data.draw(st.integers(0, 255))
    rec = Recorder()
    rec.d.frame(1, 0.0, 1, bytes(frame))


# -- a whole capture, re-encapsulated ----------------------------------------------------------

CAPTURE = ROOT / "captures" / "cwmp_loopback.pcap"

WRAPS: dict[str, Callable[[Packet], Packet]] = {
    "pppoe": lambda p: eth(PPPoE(sessionid=7), PPP(proto=0x0021), p[IP]),
    "mpls": lambda p: eth(MPLS(label=100, s=0), MPLS(label=200, s=1), p[IP]),
    "vxlan": lambda p: eth(Dot1Q(vlan=4), outer4(), UDP(sport=49152, dport=4789), VXLAN(vni=42), p[Ether]),
    "gtp-u": lambda p: eth(outer4(), UDP(sport=2152, dport=2152), GTP_U_Header(teid=77), p[IP]),
    "l2tp": lambda p: eth(outer4(), UDP(sport=1701, dport=1701), L2TP(tunnel_id=1, session_id=2), HDLC(),
                          PPP(proto=0x0021), p[IP]),
    "erspan": lambda p: eth(outer6(), GRE(seqnum_present=1, proto=0x88BE), ERSPAN_II(session_id=3), p[Ether]),
}


def _report(path: Path) -> list[str]:
    command = [sys.executable, "-m", "dmsniff", "report", "-j", "1", "--format", "jsonl", str(path)]
    out = subprocess.run(command, capture_output=True, check=True, cwd=ROOT).stdout.decode()
    return [line.replace(str(path), "CAPTURE") for line in out.splitlines()]


@pytest.fixture(scope="module")
def plain() -> list[str]:
    return _report(CAPTURE)


@pytest.mark.parametrize("kind", sorted(WRAPS))
def test_a_reencapsulated_capture_gives_the_same_report(kind: str, plain: list[str], tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.pcap"
    writer = PcapWriter(str(out), linktype=1)
    for pkt in PcapReader(str(CAPTURE)):
        wrapped = WRAPS[kind](pkt)
        wrapped.time = pkt.time
        writer.write(wrapped)
    writer.close()
    got = _report(out)
    def records(lines: list[str]) -> list[str]:
        return [r for r in lines if '"type":"capture"' not in r]

    assert records(got) == records(plain)
    [capture] = [json.loads(r) for r in got if '"type":"capture"' in r]
    assert capture["counters"]["tunnelled_frames"] == capture["packets"] == 99
    assert capture["counters"]["tcp_segments"] == 94  # (the other 5 frames are UDP, inside too)
    if shutil.which("tshark"):  # the oracle reads the same 14 HTTP requests in the file (CI has it)
        requests = subprocess.run(["tshark", "-r", str(out), "-Y", "http.request", "-T", "fields",
                                   "-e", "frame.number"], capture_output=True, text=True, check=True).stdout
        assert len(requests.split()) == sum('"type":"transaction"' in r for r in plain) == 14
