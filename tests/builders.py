"""Build TCP conversations as captures, for tests that need exact control of segments."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

# Explicit addresses: with none, scapy resolves the destination MAC by ARP, with a timeout,
# for every frame it builds.
MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"


class Conversation:
    """A TCP connection between a client and a server, segment by segment.

    ``send(from_client, data, mss)`` appends data segments (each acknowledged by the
    other side) and returns their indexes in :attr:`packets`, so tests can reorder,
    duplicate or drop them before writing the capture.
    """

    def __init__(self, client: str = "192.0.2.10", server: str = "198.51.100.1", cport: int = 40000,
                 sport: int = 7547, isn_c: int = 1000, isn_s: int = 5000, handshake: bool = True,
                 vlan: int | None = None) -> None:
        self.c, self.s, self.cport, self.sport = client, server, cport, sport
        self.seq = {True: isn_c, False: isn_s}
        self.vlan = vlan
        self.packets: list[Packet] = []
        if handshake:
            self._pkt(True, "S", self.seq[True], 0)
            self._pkt(False, "SA", self.seq[False], self.seq[True] + 1)
            self.seq[True] += 1
            self.seq[False] += 1
            self._pkt(True, "A", self.seq[True], self.seq[False])

    def _pkt(self, from_client: bool, flags: str, seq: int, ack: int, data: bytes = b"") -> int:
        src, dst = (self.c, self.s) if from_client else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        ip: Packet = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        l2: Packet = Ether(src=MAC_A, dst=MAC_B)
        if self.vlan is not None:
            l2 = l2 / Dot1Q(vlan=self.vlan)
        pkt = l2 / ip / TCP(sport=sp, dport=dp, flags=flags, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF)
        if data:
            pkt = pkt / Raw(data)
        self.packets.append(pkt)
        return len(self.packets) - 1

    def send(self, from_client: bool, data: bytes, mss: int = 1400, ack: bool = True) -> list[int]:
        idx = []
        for off in range(0, len(data), mss):
            part = data[off:off + mss]
            idx.append(self._pkt(from_client, "PA", self.seq[from_client], self.seq[not from_client], part))
            self.seq[from_client] += len(part)
        if ack and data:
            self._pkt(not from_client, "A", self.seq[not from_client], self.seq[from_client])
        return idx

    def skip(self, from_client: bool, n: int) -> None:
        """Advance the sequence number as if ``n`` bytes were sent but not captured."""
        self.seq[from_client] += n

    def close(self) -> None:
        self._pkt(True, "FA", self.seq[True], self.seq[False])
        self._pkt(False, "FA", self.seq[False], self.seq[True] + 1)
        self._pkt(True, "A", self.seq[True] + 1, self.seq[False] + 1)


def write(path: Path, packets: Sequence[Packet]) -> Path:
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i * 0.001
    wrpcap(str(path), list(packets))
    return path


def request(method: str = "POST", uri: str = "/acs", body: bytes = b"", headers: str = "") -> bytes:
    head = f"{method} {uri} HTTP/1.1\r\nHost: acs.example\r\n{headers}"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def response(status: int = 200, reason: str = "OK", body: bytes = b"", headers: str = "") -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\n{headers}"
    if status not in (204, 304) and not 100 <= status < 200:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def nflog(packet: bytes, family: int = 2, order: str = "<", payload_type: int = 9) -> bytes:
    """A Linux NFLOG frame (LINKTYPE_NFLOG) as the kernel hands it to tcpdump -i nflog:N: the header,
    then TLVs (length and type in the writer's byte order, values padded to 4 bytes): the packet
    header (hardware protocol, hook), a prefix, the packet itself and a uid after it."""
    def tlv(kind: int, value: bytes) -> bytes:
        head = struct.pack(order + "HH", 4 + len(value), kind)
        return head + value + b"\0" * (-len(value) % 4)

    hw = 0x0800 if family == 2 else 0x86DD
    return (bytes([family, 0]) + struct.pack("!H", 5) + tlv(1, struct.pack("!HBB", hw, 1, 0))
            + tlv(10, b"cwmp \0") + tlv(payload_type, packet) + tlv(11, struct.pack("!I", 0)))
