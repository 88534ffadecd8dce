"""Link types: the one table of the LINKTYPE values dmsniff reads, their names and their headers.

**Add a link type**: a row of :data:`LINK_TYPES` with its libpcap name and a function that finds
the network layer in a frame (the EtherType it carries and where it starts), and a frame of it in
``LINK_FRAMES`` of ``tests/dmsniff/net/test_packet.py``.  Ethernet also has a fast path of its own in
:meth:`dmsniff.net.packet.Dissector.run` (the common case, Ethernet + IPv4 + TCP:
``dmsniff.net.packet._fast_tcp``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from struct import Struct
from typing import Final

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD

_u16 = Struct("!H").unpack_from
_u32_le = Struct("<I").unpack_from
_u32_be = Struct(">I").unpack_from

# BSD loopback address families that mean IPv6 (differs per OS: NetBSD 24, FreeBSD 28, macOS 30).
_NULL_IPV6 = frozenset((24, 28, 30))

#: (EtherType of the network layer, its offset in the frame), or None when the frame is too short.
Header = tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class LinkType:
    name: str  # libpcap's short name (pcap_datalink_val_to_name), as reports print it
    header: Callable[[bytes], Header]


def _ethernet(data: bytes) -> Header:
    return (_u16(data, 12)[0], 14) if len(data) >= 14 else None


def _sll(data: bytes) -> Header:  # Linux cooked capture v1: protocol at 14
    return (_u16(data, 14)[0], 16) if len(data) >= 16 else None


def _sll2(data: bytes) -> Header:  # v2: protocol first
    return (_u16(data, 0)[0], 20) if len(data) >= 20 else None


def _raw(data: bytes) -> Header:  # the IP header itself: its version says which
    if not data:
        return None
    version = data[0] >> 4
    return (ETH_IPV4 if version == 4 else ETH_IPV6 if version == 6 else 0), 0


def _null(data: bytes) -> Header:
    # NULL is in the capturing host's byte order.  A family fits in one byte, so whichever
    # order gives a small number is the right one.
    if len(data) < 4:
        return None
    family = _u32_le(data, 0)[0]
    if family > 0xFFFF:
        family = _u32_be(data, 0)[0]
    return (ETH_IPV4 if family == 2 else ETH_IPV6 if family in _NULL_IPV6 else 0), 4


#: PPP protocol number -> the EtherType of what it carries (RFC 1661's registry, the ones read here).
PPP_PROTOCOLS: Final[dict[int, int]] = {0x0021: ETH_IPV4, 0x0057: ETH_IPV6, 0x0281: 0x8847, 0x0283: 0x8848}


def ppp_ethertype(protocol: int) -> int:
    """The EtherType of a PPP protocol number (IPv4, IPv6, MPLS); 0 for any other (LCP, IPCP ...),
    which the dissector counts as other traffic."""
    return PPP_PROTOCOLS.get(protocol, 0)


def ppp_frame(data: bytes, off: int = 0) -> Header:
    """A PPP frame at ``off`` (RFC 1661/1662): the HDLC address and control bytes (FF 03) when not
    left out, then the protocol field, one byte when compressed (an odd first byte)."""
    if data[off:off + 2] == b"\xff\x03":
        off += 2
    if len(data) <= off:
        return None
    if data[off] & 0x01:
        protocol, off = data[off], off + 1
    elif len(data) >= off + 2:
        protocol, off = _u16(data, off)[0], off + 2
    else:
        return None
    return ppp_ethertype(protocol), off


def pppoe(data: bytes, off: int = 0) -> Header:
    """A PPPoE header at ``off`` (RFC 2516): version and type 0x11, a code, the session id and
    length, then (in a session packet, code 0) the PPP protocol field.  A discovery packet (PADI,
    PADO ...) carries no traffic: EtherType 0."""
    if len(data) < off + 8 or data[off] != 0x11:
        return None
    if data[off + 1] != 0:
        return 0, off + 6
    return ppp_ethertype(_u16(data, off + 6)[0]), off + 8


def _c_hdlc(data: bytes) -> Header:  # Cisco HDLC: address, control, then an EtherType
    return (_u16(data, 2)[0], 4) if len(data) >= 4 else None


def _loop(data: bytes) -> Header:  # OpenBSD loopback: NULL, big-endian
    if len(data) < 4:
        return None
    family = _u32_be(data, 0)[0]
    return (ETH_IPV4 if family == 2 else ETH_IPV6 if family in _NULL_IPV6 else 0), 4


# Linux NFLOG (iptables/nftables "log group" packets, captured as tcpdump -i nflog:N): a 4-byte
# header (address family, version, resource id), then TLVs whose length and type are in the byte
# order of the host that wrote them; the packet is the value of the NFULA_PAYLOAD TLV.
_NFLOG_PAYLOAD = 9
_NFLOG_FAMILIES: Final[dict[int, int]] = {2: ETH_IPV4, 10: ETH_IPV6}  # AF_INET, AF_INET6 (Linux)
_u16_le = Struct("<H").unpack_from


def _nflog(data: bytes) -> Header:
    if len(data) < 4:
        return None
    # Whichever byte order makes the TLVs tile the frame exactly (little-endian first: the order
    # of the x86 and ARM hosts that write nearly all of them).
    for u16 in (_u16_le, _u16):
        payload = _nflog_payload(data, u16)
        if payload is not None:
            if payload < 0:  # logged without the packet (nflog's copy range 0): nothing to decode
                return 0, len(data)
            return _NFLOG_FAMILIES.get(data[0], 0), payload
    return None


def _nflog_payload(data: bytes, u16: Callable[[bytes, int], tuple[int]]) -> int | None:
    """Where the NFULA_PAYLOAD value starts (-1: no such TLV), if the TLVs read with ``u16`` tile
    the frame (the payload may run past its end: a snapshot length cut it); else None."""
    off = 4
    payload = -1
    while off < len(data):
        if off + 4 > len(data):
            return None
        length, kind = u16(data, off)[0], u16(data, off + 2)[0] & 0x7FFF  # (top bit: nested)
        if length < 4:
            return None
        if kind == _NFLOG_PAYLOAD and payload < 0:
            payload = off + 4
        elif off + length > len(data):
            return None
        off += (length + 3) & ~3
    return payload


#: LINKTYPE number (https://www.tcpdump.org/linktypes.html) -> how to read it.
LINK_TYPES: Final[dict[int, LinkType]] = {
    0: LinkType("NULL", _null),
    1: LinkType("EN10MB", _ethernet),
    9: LinkType("PPP", ppp_frame),
    12: LinkType("RAW", _raw),  # DLT_RAW on some BSDs, written as 12 by their tools
    14: LinkType("RAW", _raw),  # DLT_RAW on OpenBSD
    50: LinkType("PPP_HDLC", ppp_frame),  # PPP in HDLC-like framing (RFC 1662), as BSD/OS wrote it
    51: LinkType("PPP_ETHER", pppoe),  # PPPoE packets without their Ethernet header
    104: LinkType("C_HDLC", _c_hdlc),
    101: LinkType("RAW", _raw),
    108: LinkType("LOOP", _loop),
    113: LinkType("LINUX_SLL", _sll),
    228: LinkType("IPV4", _raw),
    229: LinkType("IPV6", _raw),
    239: LinkType("NFLOG", _nflog),
    276: LinkType("LINUX_SLL2", _sll2),
}
LINKTYPE_ETHERNET: Final = 1


def link_type_name(linktype: int) -> str:
    """Short libpcap-style name of a LINKTYPE number (LINKTYPE_147 for one dmsniff cannot read)."""
    lt = LINK_TYPES.get(linktype)
    return lt.name if lt is not None else f"LINKTYPE_{linktype}"
