"""Encapsulations the dissector looks inside: the one table of each layer that announces one.

Device-management traffic is often captured where it travels inside something else: a DSL
CPE's WAN side in PPPoE (or in L2TP between a LAC and an LNS), a provider core in MPLS, a
mobile core (where OMA DM devices are) in GTP-U, a cloud traffic mirror in VXLAN (AWS, Azure)
or Geneve (AWS Gateway Load Balancer), a switch's remote SPAN in GRE/ERSPAN, a VPN or transition
tunnel in IP-in-IP.  Wireshark and Zeek decode the traffic inside; so does
:class:`dmsniff.net.packet.Dissector`, with these readers.

A reader takes the frame and the offset of the encapsulation's header and gives the network
layer it carries as ``(EtherType, offset)`` (``ETH_TEB`` for an Ethernet frame, read on by
:func:`ethernet`), or None when the header is not one it can read (too short, a version or
flag it does not know); it never raises.  The dissector counts each frame it opens at least
one encapsulation of (``tunnelled_frames``) and opens at most :data:`MAX_ENCAPSULATIONS` in
one frame: a hostile capture can nest for ever.

**Add an encapsulation**: a reader and a row in the table of the layer whose field names it
(:data:`BY_ETHERTYPE`, :data:`BY_IP_PROTOCOL` or :data:`BY_UDP_PORT`), and a frame of it in
``ENCAPSULATED`` of ``tests/dmsniff/net/test_tunnels.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct
from typing import Final

from dmsniff.net.linktypes import ETH_IPV4, ETH_IPV6, Header, ppp_frame, pppoe

__all__ = [
    "BY_ETHERTYPE",
    "BY_IP_PROTOCOL",
    "BY_UDP_PORT",
    "ETH_TEB",
    "MAX_ENCAPSULATIONS",
    "Reader",
    "ethernet",
]

#: Transparent Ethernet bridging: "an Ethernet frame follows" (GRE, Geneve, and here VXLAN,
#: ERSPAN and MPLS pseudowires too).
ETH_TEB: Final = 0x6558
#: Encapsulations opened in one frame at the most (Zeek's default is 2 tunnels; a PPPoE or MPLS
#: header around a tunnel counts here too).
MAX_ENCAPSULATIONS: Final = 8
_MAX_MPLS_LABELS: Final = 16

_u16 = Struct("!H").unpack_from

Reader = Callable[[bytes, int], Header]


def _ip_by_version(data: bytes, off: int) -> Header:
    """An IP packet whose header's version says which (MPLS, GTP-U carry no type field)."""
    if off >= len(data):
        return None
    version = data[off] >> 4
    return (ETH_IPV4, off) if version == 4 else (ETH_IPV6, off) if version == 6 else None


def ethernet(data: bytes, off: int) -> Header:
    """An Ethernet header: the EtherType it carries (VLAN tags are the caller's)."""
    return (_u16(data, off + 12)[0], off + 14) if len(data) >= off + 14 else None


def _mpls(data: bytes, off: int) -> Header:
    # RFC 3032: 4-byte label entries up to the one with the bottom-of-stack bit; no type field.
    for _ in range(_MAX_MPLS_LABELS):
        if len(data) < off + 4:
            return None
        bottom = data[off + 2] & 0x01
        off += 4
        if bottom:
            if off < len(data) and data[off] >> 4 == 0:
                # An Ethernet pseudowire's control word (RFC 4385: first nibble 0), then the frame.
                return ETH_TEB, off + 4
            return _ip_by_version(data, off)
    return None


def _erspan2(data: bytes, off: int) -> Header:
    # ERSPAN type II: an 8-byte header (version 1), then the mirrored frame.
    if len(data) < off + 8 or data[off] >> 4 != 1:
        return None
    return ETH_TEB, off + 8


def _erspan3(data: bytes, off: int) -> Header:
    # ERSPAN type III: a 12-byte header (version 2) and, when its O flag is set, an 8-byte
    # platform-specific subheader.
    if len(data) < off + 12 or data[off] >> 4 != 2:
        return None
    return ETH_TEB, off + 12 + (8 if data[off + 11] & 0x01 else 0)


def _gre(data: bytes, off: int) -> Header:
    # RFC 2784 / 2890: flags and version, protocol type (an EtherType), then the optional
    # checksum, key and sequence number fields the flags announce.
    if len(data) < off + 4:
        return None
    flags, proto = _u16(data, off)[0], _u16(data, off + 2)[0]
    if flags & 0x4007:  # a routing field (RFC 1701) or version 1 (PPTP's, carrying PPP): not read
        return 0, off + 4  # (EtherType 0: counted as another protocol, not as malformed)
    start = off + 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
    if start > len(data):
        return None
    if proto == 0x88BE and not flags & 0x1000:
        return ETH_TEB, start  # ERSPAN type I: no sequence number and no ERSPAN header
    return proto, start


def _l2tp(data: bytes, off: int) -> Header:
    # RFC 2661 (L2TPv2, as between a broadband LAC and LNS): a data message (T bit clear) of
    # version 2, its optional length, tunnel and session ids, optional Ns/Nr and offset pad, then
    # the subscriber's PPP frame.  Control messages carry no traffic.
    if len(data) < off + 6:
        return None
    flags = _u16(data, off)[0]
    if flags & 0x000F != 2:
        return None
    if flags & 0x8000:  # a control message
        return 0, off
    pos = off + 2 + (2 if flags & 0x4000 else 0) + 4 + (4 if flags & 0x0800 else 0)
    if flags & 0x0200:  # an offset size, then that many bytes of padding
        if len(data) < pos + 2:
            return None
        pos += 2 + _u16(data, pos)[0]
    return ppp_frame(data, pos) if pos < len(data) else None


def _vxlan(data: bytes, off: int) -> Header:
    # RFC 7348: 8 bytes whose flags have the I bit (a valid VNI), then an Ethernet frame.
    if len(data) < off + 8 or not data[off] & 0x08:
        return None
    return ETH_TEB, off + 8


def _geneve(data: bytes, off: int) -> Header:
    # RFC 8926: version 0, options' length in 4-byte words, protocol type (an EtherType).
    if len(data) < off + 8 or data[off] >> 6 != 0:
        return None
    start = off + 8 + (data[off] & 0x3F) * 4
    return (_u16(data, off + 2)[0], start) if start <= len(data) else None


def _gtpu(data: bytes, off: int) -> Header:
    # 3GPP TS 29.281: version 1, protocol type GTP, a G-PDU (message 255) carrying a user's IP
    # packet; the E, S or PN flag adds 4 bytes, and E a chain of extension headers (each one's
    # length in 4-byte units first, the next one's type last).
    if len(data) < off + 8:
        return None
    flags = data[off]
    if flags >> 5 != 1 or not flags & 0x10 or data[off + 1] != 0xFF:
        return None
    pos = off + 8
    if flags & 0x07:
        if len(data) < pos + 4:
            return None
        next_type = data[pos + 3]
        pos += 4
        while flags & 0x04 and next_type:
            if pos >= len(data) or not data[pos]:
                return None
            end = pos + data[pos] * 4
            if end > len(data):
                return None
            next_type = data[end - 1]
            pos = end
    return _ip_by_version(data, pos)


#: EtherType -> (name, reader): encapsulations announced by an Ethernet, PPP, SLL or GRE type field.
BY_ETHERTYPE: Final[dict[int, tuple[str, Reader]]] = {
    0x8864: ("PPPoE", pppoe),  # (the session stage; discovery is EtherType 0x8863)
    0x8847: ("MPLS", _mpls),
    0x8848: ("MPLS", _mpls),
    ETH_TEB: ("Ethernet", ethernet),
    0x88BE: ("ERSPAN", _erspan2),
    0x22EB: ("ERSPAN", _erspan3),
}

#: IP protocol number -> (name, reader): tunnels carried right on IPv4 or IPv6.
BY_IP_PROTOCOL: Final[dict[int, tuple[str, Reader]]] = {
    4: ("IP-in-IP", lambda data, off: (ETH_IPV4, off)),
    41: ("IPv6-in-IP", lambda data, off: (ETH_IPV6, off)),
    47: ("GRE", _gre),
}

#: UDP port -> (name, reader): tunnels carried on UDP, known by the destination port (GTP-U's and
#: L2TP's by either port: both ends use 2152, 1701).
BY_UDP_PORT: Final[dict[int, tuple[str, Reader]]] = {
    4789: ("VXLAN", _vxlan),
    6081: ("Geneve", _geneve),
    2152: ("GTP-U", _gtpu),
    1701: ("L2TP", _l2tp),
}
