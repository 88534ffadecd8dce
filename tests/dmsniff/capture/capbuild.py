"""Byte-exact pcap / pcapng builders for the capture tests (plain struct, no scapy)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction


@dataclass
class Expected:
    """A frame the reader must yield: exact timestamp as a Fraction, and where its block ends."""

    number: int
    time: Fraction
    linktype: int
    data: bytes
    end: int = 0  # file offset just past the record/block holding it


def eth_frame(i: int, size: int = 60) -> bytes:
    """A recognisable Ethernet-looking frame of the given size."""
    head = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    body = bytes((i * 7 + k) & 0xFF for k in range(max(0, size - len(head))))
    return (head + body)[:size]


def pcap_bytes(
    records: list[tuple[int, int, bytes]],
    *,
    endian: str = "<",
    nano: bool = False,
    linktype: int = 1,
    snaplen: int = 65535,
    version: tuple[int, int] = (2, 4),
    orig_extra: int = 0,
) -> tuple[bytes, list[Expected]]:
    """Classic pcap from (sec, frac, data) records; returns the bytes and the expected frames."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    div = 10**9 if nano else 10**6
    out = bytearray(struct.pack(endian + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, linktype))
    expected: list[Expected] = []
    for i, (sec, frac, data) in enumerate(records, 1):
        out += struct.pack(endian + "IIII", sec, frac, len(data), len(data) + orig_extra) + data
        expected.append(Expected(i, sec + Fraction(frac, div), linktype & 0xFFFF, data, len(out)))
    return bytes(out), expected


def _opt(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


@dataclass
class _Iface:
    linktype: int
    tps: int
    offset: int
    snaplen: int


@dataclass
class PcapngBuilder:
    """Appends pcapng blocks and records what a correct reader must yield."""

    endian: str = "<"
    out: bytearray = field(default_factory=bytearray)
    ifaces: list[_Iface] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    last_time: Fraction = Fraction(0)
    block_ends: list[int] = field(default_factory=list)

    def block(self, btype: int, body: bytes, *, endian: str | None = None) -> PcapngBuilder:
        e = endian or self.endian
        body = body + b"\0" * (-len(body) % 4)
        blen = 12 + len(body)
        self.out += struct.pack(e + "II", btype, blen) + body + struct.pack(e + "I", blen)
        self.block_ends.append(len(self.out))
        return self

    def shb(
        self, endian: str | None = None, version: tuple[int, int] = (1, 0), options: bytes = b""
    ) -> PcapngBuilder:
        if endian:
            self.endian = endian
        self.ifaces = []
        e = self.endian
        body = struct.pack(e + "IHHq", 0x1A2B3C4D, version[0], version[1], -1) + options
        return self.block(0x0A0D0D0A, body)

    def idb(
        self,
        linktype: int,
        *,
        snaplen: int = 0,
        tsresol: int | None = None,
        tsoffset: int | None = None,
        name: str | None = None,
    ) -> PcapngBuilder:
        e = self.endian
        opts = b""
        if name is not None:
            opts += _opt(e, 2, name.encode())
        tps = 10**6
        if tsresol is not None:
            opts += _opt(e, 9, bytes([tsresol]))
            tps = 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol
        if tsoffset is not None:
            opts += _opt(e, 14, struct.pack(e + "q", tsoffset))
        if opts:
            opts += _opt(e, 0, b"")
        self.ifaces.append(_Iface(linktype, tps, tsoffset or 0, snaplen))
        return self.block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)

    def _expect(self, t: Fraction, linktype: int, data: bytes) -> None:
        self.last_time = t
        self.expected.append(Expected(len(self.expected) + 1, t, linktype, data, len(self.out)))

    def epb(
        self, ifid: int, units: int, data: bytes, *, orig: int | None = None, options: bytes = b""
    ) -> PcapngBuilder:
        e = self.endian
        body = struct.pack(e + "IIIII", ifid, units >> 32, units & 0xFFFFFFFF, len(data), orig or len(data))
        body += data + b"\0" * (-len(data) % 4) + options
        self.block(6, body)
        if ifid < len(self.ifaces):
            iface = self.ifaces[ifid]
            self._expect(Fraction(units, iface.tps) + iface.offset, iface.linktype, data)
        return self

    def pb(self, ifid: int, units: int, data: bytes) -> PcapngBuilder:
        e = self.endian
        body = (
            struct.pack(e + "HHIIII", ifid, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data
        )
        self.block(2, body)
        iface = self.ifaces[ifid]
        self._expect(Fraction(units, iface.tps) + iface.offset, iface.linktype, data)
        return self

    def spb(self, data: bytes, *, orig: int | None = None) -> PcapngBuilder:
        """SPB; orig defaults to len(data). The expected data honours orig and snaplen."""
        e = self.endian
        orig_len = len(data) if orig is None else orig
        self.block(3, struct.pack(e + "I", orig_len) + data)
        iface = self.ifaces[0]
        cap = min(orig_len, len(data) + (-len(data) % 4))
        if iface.snaplen:
            cap = min(cap, iface.snaplen)
        padded = data + b"\0" * (-len(data) % 4)
        self._expect(self.last_time, iface.linktype, padded[:cap])
        return self

    def nrb(self) -> PcapngBuilder:
        e = self.endian
        rec = struct.pack(e + "HH", 1, 4 + 12) + bytes([127, 0, 0, 1]) + b"localhost\0\0\0"
        return self.block(4, rec + struct.pack(e + "HH", 0, 0))

    def isb(self, ifid: int, units: int) -> PcapngBuilder:
        e = self.endian
        opts = _opt(e, 4, struct.pack(e + "Q", 5)) + _opt(e, 0, b"")  # isb_ifrecv
        return self.block(5, struct.pack(e + "III", ifid, units >> 32, units & 0xFFFFFFFF) + opts)

    def custom(self, copyable: bool = False) -> PcapngBuilder:
        e = self.endian
        return self.block(
            0x40000BAD if copyable else 0x00000BAD, struct.pack(e + "I", 32473) + b"custom data!"
        )

    def dsb(self) -> PcapngBuilder:
        e = self.endian
        secret = b"CLIENT_RANDOM 00 11\n"
        return self.block(0x0000000A, struct.pack(e + "II", 0x544C534B, len(secret)) + secret)

    def data(self) -> bytes:
        return bytes(self.out)


def tshark_available() -> bool:
    return shutil.which("tshark") is not None


def tshark_frames(path: str) -> list[tuple[int, Decimal | None, int]]:
    """(number, epoch time or None, captured length) per frame, as tshark sees the file."""
    out = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            path,
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.cap_len",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    rows = []
    for line in out.splitlines():
        num, ts, caplen = line.split("\t")
        rows.append((int(num), Decimal(ts) if ts else None, int(caplen)))
    return rows
