"""Link, IP and transport header decoding: frame bytes in, TCP segments and UDP datagrams out.

This is the per-packet hot path, so it is written with plain ``struct`` and local
variables rather than a layered object model (scapy's dissection is 20-30x slower).
The common case, Ethernet + IPv4 + TCP, is handled first without any helper call.

Addresses stay ``bytes`` (4 or 16 long) here; they are turned into text only when a
connection is created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from struct import Struct
from typing import Any

from mypy_extensions import mypyc_attr

from dmsniff.net.linktypes import ETH_IPV4, ETH_IPV6, LINK_TYPES
from dmsniff.net.tunnels import BY_ETHERTYPE, BY_IP_PROTOCOL, BY_UDP_PORT, MAX_ENCAPSULATIONS, Reader

ETH_VLAN = frozenset((0x8100, 0x88A8, 0x9100, 0x9200))

# IPv6 extension headers we walk over (RFC 8200 §4); 44 (fragment) and 51 (AH) have
# their own length rules and are handled separately.
_IPV6_EXT = frozenset((0, 43, 60, 135, 139, 140))
_IPV6_FRAGMENT = 44
_IPV6_AH = 51

_TCP = 6
_UDP = 17
# Tunnels on UDP whose two ends both use the well-known port: known by the source port too.
_BOTH_ENDS = frozenset((2152, 1701))

_u16 = Struct("!H").unpack_from
_ipv4 = Struct("!BxHHHBB2x4s4s").unpack_from  # vhl, total len, id, flags+frag, ttl, proto, src, dst
_tcp = Struct("!HHIIBB").unpack_from  # sport, dport, seq, ack, data offset, flags
_udp = Struct("!HHH").unpack_from
_ipv6 = Struct("!4xHBB16s16s").unpack_from  # payload len, next header, hop limit, src, dst

TcpHandler = Callable[[int, float, bytes, int, bytes, int, int, int, int, bytes], None]
UdpHandler = Callable[[int, float, bytes, int, bytes, int, bytes], None]

# Limits on IP reassembly state: a capture is untrusted input.
MAX_FRAGMENTED_DATAGRAM = 65535 + 8
MAX_PENDING_DATAGRAMS = 1024
FRAGMENT_TIMEOUT = 60.0


@dataclass(slots=True)
class DecodeStats:
    """Counters shown in the capture summary; a network engineer wants to know what was skipped."""

    tcp_segments: int = 0
    udp_datagrams: int = 0
    ip_fragments: int = 0
    reassembled_datagrams: int = 0
    other: int = 0  # ARP, ICMP, unknown link types and protocols
    malformed: int = 0
    fragments_dropped: int = 0
    unknown_linktypes: dict[int, int] = field(default_factory=dict)
    #: Frames whose traffic came out of an encapsulation (dmsniff/net/tunnels.py), by the
    #: outermost one opened.
    tunnelled: dict[str, int] = field(default_factory=dict)


class _Pending:
    """Fragments of one IP datagram waiting for the rest."""

    __slots__ = ("extra", "first_time", "frames", "parts", "proto", "total")

    def __init__(self, ts: float, proto: int) -> None:
        self.first_time = ts
        self.frames: list[int] = []
        self.parts: dict[int, bytes] = {}
        self.total = -1  # known once the last fragment (MF=0) arrives
        self.proto = proto
        self.extra = 0


# Subclassed by the pcap exporter (dmsniff/export.py) to follow IP fragments: a compiled class
# (setup.py) takes interpreted subclasses only when it says so.
@mypyc_attr(allow_interpreted_subclasses=True)
class Dissector:
    """Decodes frames and calls ``on_tcp``/``on_udp`` with the transport payload.

    ``on_tcp(frame, ts, src, sport, dst, dport, seq, ack, flags, payload)`` and
    ``on_udp(frame, ts, src, sport, dst, dport, payload)``.  A reassembled IP datagram
    is reported with the number of the frame that completed it, as Wireshark does.
    """

    def __init__(self, on_tcp: TcpHandler, on_udp: UdpHandler, *, shard: int = 0, nshards: int = 1,
                 by_hosts: bool = False, tick: Callable[[float], None] | None = None) -> None:
        self.on_tcp = on_tcp if nshards == 1 else _shard_filter(on_tcp, shard, nshards, by_hosts)
        self._on_any_tcp = on_tcp
        #: Called with the time of every TCP segment, once the shard's own are handed to ``on_tcp``
        #: (the reassembler's idle sweeps: ``TcpReassembler.tick``).
        self.tick: Callable[[float], None] = tick if tick is not None else _no_tick
        self.on_udp = on_udp
        self.stats = DecodeStats()
        self.current_frame = 0  # the frame being decoded (set by run)
        self._encap_frame = -1  # the frame whose encapsulations _opened counts
        self._encaps = 0
        self._frags: dict[tuple[bytes, bytes, int, int], _Pending] = {}
        self._shard = shard
        self._nshards = nshards
        #: Called with (frame, exception) when decoding a frame fails; None re-raises.
        self.on_fault: Callable[[int, Exception], None] | None = None
        self._port_mask = 0 if by_hosts else 0xFFFF

    def run(self, frames: Iterable[tuple[int, float, int, bytes]], pending: list[Any],
            flush: Callable[[], None]) -> None:
        """Decode every frame; after each, call ``flush`` if ``pending`` is not empty.

        The hot path: Ethernet + IPv4 without options + TCP, unfragmented (:func:`_fast_tcp`), is
        decoded here from the frame's bytes; everything else goes through :meth:`frame`.
        """
        # The fast path tests the shard itself (shard_of()'s test, on the addresses and ports read
        # from the frame), so a worker passes over the other shards' segments without a payload copy.
        on_tcp = self._on_any_tcp
        tick = self.tick
        shard, nshards, port_mask = self._shard, self._nshards, self._port_mask
        slow = self.frame
        fast = 0
        fault = self.on_fault
        try:
            for number, ts, linktype, data in frames:
                self.current_frame = number
                try:  # one frame's failure costs that frame (and its connection), not the capture
                    if linktype == 1:
                        start, end = _fast_tcp(data, 0, len(data))
                        if end:
                            fast += 1
                            sport = (data[34] << 8) | data[35]
                            dport = (data[36] << 8) | data[37]
                            if nshards > 1 and _spread(_fold(_u32_at(data, 26), _u32_at(data, 30),
                                                             sport ^ dport, port_mask), nshards) != shard:
                                tick(ts)
                                continue
                            on_tcp(number, ts, data[26:30], sport, data[30:34], dport, _u32_at(data, 38),
                                   _u32_at(data, 42), data[47], data[start:end])
                            tick(ts)
                            if pending:
                                flush()
                            continue
                    slow(number, ts, linktype, data)
                    if pending:
                        flush()
                except Exception as exc:
                    if fault is None:
                        raise
                    fault(number, exc)
                    if pending:
                        flush()
        finally:
            self.stats.tcp_segments += fast

    @property
    def sharded(self) -> bool:
        """Whether this dissector follows one shard of several (and passes over the others')."""
        return self._nshards > 1

    def passes_over(self, buf: bytes, off: int, size: int, linktype: int, number: int, ts: float) -> bool:
        """Whether the frame ``buf[off:off + size]`` is one :meth:`run` would pass over: a TCP
        segment on the fast path of another shard's connection.  If so it is counted and ticked
        here as run() would, and the reader need not make it a frame (``CaptureFile.pass_over``).

        The same test as run()'s (:func:`_fast_tcp`), on the reader's buffer: no frame is made of it."""
        if self._nshards == 1 or linktype != 1 or not _fast_tcp(buf, off, size)[1]:
            return False
        ports = ((buf[off + 34] ^ buf[off + 36]) << 8) | (buf[off + 35] ^ buf[off + 37])  # sport ^ dport
        if _spread(_fold(_u32_at(buf, off + 26), _u32_at(buf, off + 30), ports, self._port_mask),
                   self._nshards) == self._shard:
            return False
        self.current_frame = number
        self.stats.tcp_segments += 1
        try:
            self.tick(ts)
        except Exception as exc:  # as in run(): a sweep's failure costs that frame's work
            if self.on_fault is None:
                raise
            self.on_fault(number, exc)
        return True

    def frame(self, number: int, ts: float, linktype: int, data: bytes) -> None:
        """Decode one captured frame."""
        if linktype == 1:
            if len(data) < 14:
                self.stats.malformed += 1
                return
            self._network(number, ts, (data[12] << 8) | data[13], data, 14)
            return
        lt = LINK_TYPES.get(linktype)
        if lt is None:
            unknown = self.stats.unknown_linktypes
            unknown[linktype] = unknown.get(linktype, 0) + 1
            return
        header = lt.header(data)
        if header is None:
            self.stats.malformed += 1
            return
        self._network(number, ts, header[0], data, header[1])

    def _network(self, number: int, ts: float, etype: int, data: bytes, off: int) -> None:
        """The network layer an EtherType announces at ``off``: IP, or an encapsulation of it
        (PPPoE, MPLS, an Ethernet frame ...) read through to the IP inside."""
        while True:
            while etype in ETH_VLAN:  # (SLL and tunnelled frames can carry tags too)
                if len(data) < off + 4:
                    self.stats.malformed += 1
                    return
                etype = (data[off + 2] << 8) | data[off + 3]
                off += 4
            if etype == ETH_IPV4:
                self._ipv4(number, ts, data, off)
                return
            if etype == ETH_IPV6:
                self._ipv6(number, ts, data, off)
                return
            encapsulation = BY_ETHERTYPE.get(etype)
            if encapsulation is None:
                self.stats.other += 1
                return
            inner = self._opened(number, encapsulation, data, off)
            if inner is None:
                return
            etype, off = inner

    def _enter(self, number: int, name: str) -> bool:
        """Count one more encapsulation opened in frame ``number`` (the frame, by its outermost);
        False, counted as malformed, past MAX_ENCAPSULATIONS: a hostile capture can nest for ever."""
        if number != self._encap_frame:  # the frame's first
            self._encap_frame = number
            self._encaps = 0
            tunnelled = self.stats.tunnelled
            tunnelled[name] = tunnelled.get(name, 0) + 1
        self._encaps += 1
        if self._encaps > MAX_ENCAPSULATIONS:
            self.stats.malformed += 1
            return False
        return True

    def _opened(self, number: int, encapsulation: tuple[str, Reader], data: bytes,
                off: int) -> tuple[int, int] | None:
        """Read one encapsulation's header: the (EtherType, offset) it carries, or None (counted)."""
        if not self._enter(number, encapsulation[0]):
            return None
        inner = encapsulation[1](data, off)
        if inner is None:
            self.stats.malformed += 1
        return inner

    def _tunnel(self, number: int, ts: float, encapsulation: tuple[str, Reader], payload: bytes) -> None:
        """The packet a tunnel on IP or UDP carries (``payload``: the tunnel's header onwards)."""
        inner = self._opened(number, encapsulation, payload, 0)
        if inner is not None:
            self._network(number, ts, inner[0], payload, inner[1])

    def _ipv4(self, number: int, ts: float, data: bytes, off: int) -> None:
        if len(data) < off + 20:
            self.stats.malformed += 1
            return
        vhl, total, ident, frag, _ttl, proto, src, dst = _ipv4(data, off)
        ihl = (vhl & 0x0F) * 4
        if vhl >> 4 != 4 or ihl < 20 or total < ihl:
            self.stats.malformed += 1
            return
        end = off + total
        if end > len(data):
            # Snapped or lying total length: use what we have (the TCP layer sees a short
            # segment and reports a gap if bytes are really missing).
            end = len(data)
        start = off + ihl
        if frag & 0x3FFF:  # MF set or offset non-zero
            self._ipv4_fragment(number, ts, src, dst, ident, proto, frag, data[start:end])
            return
        if proto == 6:
            if end - start < 20:
                self.stats.malformed += 1
                return
            sport, dport, seq, ack, doff, flags = _tcp(data, start)
            hl = (doff >> 4) * 4
            if hl < 20 or start + hl > end:
                self.stats.malformed += 1
                return
            self.stats.tcp_segments += 1
            self.on_tcp(number, ts, src, sport, dst, dport, seq, ack, flags, data[start + hl:end])
            self.tick(ts)
        elif proto == 17:
            self._udp(number, ts, src, dst, data[start:end])
        elif proto in BY_IP_PROTOCOL:
            self._tunnel(number, ts, BY_IP_PROTOCOL[proto], data[start:end])
        else:
            self.stats.other += 1

    def _ipv6(self, number: int, ts: float, data: bytes, off: int) -> None:
        if len(data) < off + 40:
            self.stats.malformed += 1
            return
        plen, nh, _hop, src, dst = _ipv6(data, off)
        if data[off] >> 4 != 6:
            self.stats.malformed += 1
            return
        pos = off + 40
        end = min(pos + plen, len(data)) if plen else len(data)  # plen 0: jumbogram
        frag_hdr: tuple[int, int] | None = None
        while True:
            if nh in _IPV6_EXT:
                if pos + 2 > end:
                    self.stats.malformed += 1
                    return
                nh, hlen = data[pos], (data[pos + 1] + 1) * 8
                pos += hlen
            elif nh == _IPV6_AH:
                if pos + 2 > end:
                    self.stats.malformed += 1
                    return
                nh, hlen = data[pos], (data[pos + 1] + 2) * 4
                pos += hlen
            elif nh == _IPV6_FRAGMENT:
                if pos + 8 > end:
                    self.stats.malformed += 1
                    return
                nh = data[pos]
                frag_hdr = (_u16(data, pos + 2)[0], _u32_at(data, pos + 4))
                pos += 8
                break
            else:
                break
        if pos > end:
            self.stats.malformed += 1
            return
        if frag_hdr is not None:
            offset_mf, ident = frag_hdr
            # Same layout as IPv4's flags/offset field once shifted: offset in 8-byte units, MF in bit 0.
            if offset_mf & 0xFFF9:  # a real fragment (an "atomic fragment" has offset 0, M=0)
                frag = (offset_mf >> 3) | (0x2000 if offset_mf & 1 else 0)
                self._ipv4_fragment(number, ts, src, dst, ident, nh, frag, data[pos:end])
                return
        self._transport(number, ts, nh, src, dst, data[pos:end])

    def _transport(self, number: int, ts: float, proto: int, src: bytes, dst: bytes, seg: bytes) -> None:
        if proto == _TCP:
            if len(seg) < 20:
                self.stats.malformed += 1
                return
            sport, dport, seq, ack, doff, flags = _tcp(seg, 0)
            hl = (doff >> 4) * 4
            if hl < 20 or hl > len(seg):
                self.stats.malformed += 1
                return
            self.stats.tcp_segments += 1
            self.on_tcp(number, ts, src, sport, dst, dport, seq, ack, flags, seg[hl:])
            self.tick(ts)
        elif proto == _UDP:
            self._udp(number, ts, src, dst, seg)
        elif proto in BY_IP_PROTOCOL:
            self._tunnel(number, ts, BY_IP_PROTOCOL[proto], seg)
        else:
            self.stats.other += 1

    def _udp(self, number: int, ts: float, src: bytes, dst: bytes, seg: bytes) -> None:
        if len(seg) < 8:
            self.stats.malformed += 1
            return
        sport, dport, ulen = _udp(seg, 0)
        # ulen 0 happens with IPv6 jumbograms and some offloaded captures: take the rest.
        payload = seg[8:ulen] if 8 <= ulen <= len(seg) else seg[8:]
        tunnel = BY_UDP_PORT.get(dport) or (BY_UDP_PORT.get(sport) if sport in _BOTH_ENDS else None)
        if tunnel is not None:
            # A tunnel's datagrams carry traffic, they are not traffic: what they carry is decoded
            # (a datagram to the port that is not that tunnel's header goes on as any other).
            inner = tunnel[1](payload, 0)
            if inner is not None:
                if self._enter(number, tunnel[0]):
                    self._network(number, ts, inner[0], payload, inner[1])
                return
        self.stats.udp_datagrams += 1
        self.on_udp(number, ts, src, sport, dst, dport, payload)

    def _ipv4_fragment(self, number: int, ts: float, src: bytes, dst: bytes, ident: int, proto: int,
                       frag: int, payload: bytes) -> None:
        """Collect one fragment; when the datagram is whole, decode its transport header."""
        self.stats.ip_fragments += 1
        key = (src, dst, ident, proto)
        pending = self._frags.get(key)
        if pending is None:
            if len(self._frags) >= MAX_PENDING_DATAGRAMS:
                self._expire(ts, force=True)
            pending = self._frags[key] = _Pending(ts, proto)
        offset = (frag & 0x1FFF) * 8
        more = bool(frag & 0x2000)
        if offset + len(payload) > MAX_FRAGMENTED_DATAGRAM:
            del self._frags[key]
            self.stats.fragments_dropped += len(pending.frames) + 1
            return
        pending.frames.append(number)
        # First copy wins, as in the TCP reassembler.
        pending.parts.setdefault(offset, payload)
        if not more:
            pending.total = offset + len(payload)
        if pending.total < 0:
            return
        buf = bytearray(pending.total)
        have = 0
        for part_off in sorted(pending.parts):
            part = pending.parts[part_off]
            if part_off > have:
                return  # a hole remains
            end = min(part_off + len(part), pending.total)
            if end > have:
                buf[have:end] = part[have - part_off:end - part_off]
                have = end
        if have < pending.total:
            return
        del self._frags[key]
        self.stats.reassembled_datagrams += 1
        self._transport(number, ts, proto, src, dst, bytes(buf))
        if len(self._frags) > 64:
            self._expire(ts)

    def _expire(self, now: float, force: bool = False) -> None:
        """Drop reassembly state that cannot complete any more (or the oldest, when full)."""
        stale = [k for k, p in self._frags.items() if now - p.first_time > FRAGMENT_TIMEOUT]
        if force and not stale:
            stale = [min(self._frags, key=lambda k: self._frags[k].first_time)]
        for k in stale:
            self.stats.fragments_dropped += len(self._frags.pop(k).frames)

    def finish(self) -> None:
        """End of capture: count fragments that never became a datagram."""
        for p in self._frags.values():
            self.stats.fragments_dropped += len(p.frames)
        self._frags.clear()


def shard_of(src: bytes, sport: int, dst: bytes, dport: int, nshards: int, by_hosts: bool = False) -> int:
    """Which of ``nshards`` workers follows the connection of this 4-tuple.

    A symmetric function of the 4-tuple, so both directions and every reuse of a tuple
    land in the same shard; ``by_hosts`` leaves the ports out, so every connection between
    two hosts lands in the same shard.  Made of the addresses' bytes alone, not of ``hash()``,
    whose seed differs between processes that were not forked from one another: the tasks of
    one capture on a Dask cluster run in such processes (a worker started without a nanny keeps
    its own seed), and each must follow exactly the connections the others leave.
    :meth:`Dissector.run` takes the same test for the frames of its fast path (IPv4).
    """
    return _spread(_fold(int.from_bytes(src, "big"), int.from_bytes(dst, "big"), sport ^ dport,
                         0 if by_hosts else 0xFFFF), nshards)


def _fast_tcp(buf: bytes, off: int, size: int) -> tuple[int, int]:
    """Where the TCP payload of the Ethernet frame ``buf[off:off + size]`` starts and ends (offsets
    in the frame) when the frame is on the fast path, else (0, 0): IPv4 without options (EtherType
    0x0800, version/IHL 0x45), TCP (6, a literal: a module global is a dict lookup in the compiled
    build), not a fragment (flags+offset & 0x3FFF), a data offset of 5 words or more, and lengths
    that fit the frame.  Read byte by byte: indexing bytes is native code in the compiled build
    (where a struct call made an object of each field), and this tuple is a C struct there.  The
    one test of Dissector.run and of passes_over(), which must agree on every frame."""
    if (size < 54 or buf[off + 12] != 8 or buf[off + 13] or buf[off + 14] != 0x45 or buf[off + 23] != 6
            or buf[off + 20] & 0x3F or buf[off + 21] or buf[off + 46] < 0x50):
        return 0, 0
    start = 34 + (buf[off + 46] >> 4) * 4
    end = 14 + ((buf[off + 16] << 8) | buf[off + 17])
    if not start <= end <= size:
        return 0, 0
    return start, end


def _u32_at(buf: bytes, at: int) -> int:
    """The big-endian unsigned 32-bit integer at ``buf[at:at + 4]``."""
    return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]


def _fold(src: int, dst: int, ports: int, port_mask: int) -> int:
    """The addresses (as integers) and the ports' XOR folded into 32 bits, symmetric in the two ends:
    every 32-bit word of the addresses (one each for IPv4, four for IPv6), and the ports unless
    ``port_mask`` is 0 (connections split by host pair)."""
    h = src ^ dst
    h ^= h >> 64
    h ^= h >> 32
    return (h ^ (ports & port_mask)) & 0xFFFFFFFF


def _spread(h: int, nshards: int) -> int:
    """The shard of a connection whose 4-tuple folds to ``h`` (Fibonacci hashing: the top bits of
    ``h`` times 2**32 / phi)."""
    # That is (h * 0x9E3779B1 & 0xFFFFFFFF) * nshards >> 32, computed from 16-bit halves: the
    # compiled build multiplies natively only factors under 2**30 (mypyc's overflow test is
    # conservative), else with Python's long integers, objects made for every frame.
    hl, hh = h & 0xFFFF, h >> 16
    low = (hl * 0x79B1 + (((hl * 0x9E37 + hh * 0x79B1) & 0xFFFF) << 16)) & 0xFFFFFFFF
    return ((low >> 16) * nshards + ((low & 0xFFFF) * nshards >> 16)) >> 16


def _no_tick(ts: float) -> None:
    pass


def _shard_filter(on_tcp: TcpHandler, shard: int, nshards: int, by_hosts: bool) -> TcpHandler:
    """``on_tcp`` for the segments of ``shard``'s connections only (the slow paths)."""

    def owned(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int,
              flags: int, payload: bytes) -> None:
        if shard_of(src, sport, dst, dport, nshards, by_hosts) == shard:
            on_tcp(frame, ts, src, sport, dst, dport, seq, ack, flags, payload)

    return owned
