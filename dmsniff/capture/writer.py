"""Every capture file dmsniff writes: pcapng blocks, the live writer, the export writer.

The block functions are the one place dmsniff lays out pcapng (draft-ietf-opsawg-pcapng):
:class:`PcapngWriter` saves live captures as they arrive, :class:`FrameWriter` the frames of a
session (:mod:`dmsniff.export`); classic pcap is scapy's (the project's pcap writer).  Every
block is little-endian, as the Section Header Block's byte-order magic says.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

from dmsniff.capture.reader import Frame, open_capture

if TYPE_CHECKING:
    from scapy.utils import PcapWriter

__all__ = [
    "BLOCK_DSB",
    "BLOCK_EPB",
    "BLOCK_IDB",
    "BLOCK_SHB",
    "SECRETS_TLS_KEYLOG",
    "FrameWriter",
    "PcapngWriter",
    "block",
    "decryption_secrets_block",
    "enhanced_packet_block",
    "insert_tls_keylog",
    "interface_description_block",
    "option",
    "section_header_block",
    "tls_keylog_block",
]

BLOCK_SHB = 0x0A0D0D0A  # Section Header Block
BLOCK_IDB = 0x00000001  # Interface Description Block
BLOCK_EPB = 0x00000006  # Enhanced Packet Block
BLOCK_DSB = 0x0000000A  # Decryption Secrets Block
SECRETS_TLS_KEYLOG = 0x544C534B  # "TLSK": an NSS key log (SSLKEYLOGFILE), pcapng §4.7
_BOM = 0x1A2B3C4D


def _pad(data: bytes) -> bytes:
    """``data`` padded with zeros to a multiple of 4 bytes."""
    return data + b"\0" * (-len(data) % 4)


def option(code: int, value: bytes) -> bytes:
    """One option (code, length, value padded to 32 bits); code 0 with no value ends a list."""
    return struct.pack("<HH", code, len(value)) + _pad(value)


def block(btype: int, body: bytes) -> bytes:
    """A whole block: type, total length, ``body`` (a multiple of 4 bytes), total length again."""
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


def section_header_block(application: str = "dmsniff") -> bytes:
    """A Section Header Block of unknown length (-1), naming the writing application."""
    opts = option(4, application.encode()) + option(0, b"")  # shb_userappl
    return block(BLOCK_SHB, struct.pack("<IHHq", _BOM, 1, 0, -1) + opts)


def interface_description_block(linktype: int, snaplen: int, *, name: str | None = None,
                                tsresol: int | None = None) -> bytes:
    """An interface; ``tsresol`` is the if_tsresol exponent (9: nanoseconds; none: microseconds)."""
    opts = b""
    if name:
        opts += option(2, name.encode("utf-8", "replace"))  # if_name
    if tsresol is not None:
        opts += option(9, bytes([tsresol]))  # if_tsresol: 10^-tsresol
    if opts:
        opts += option(0, b"")
    return block(BLOCK_IDB, struct.pack("<HHI", linktype, 0, snaplen) + (opts or option(0, b"")))


def enhanced_packet_block(interface: int, units: int, data: bytes, orig_len: int | None = None) -> bytes:
    """One packet on ``interface``; ``units`` is its time in the interface's resolution."""
    caplen = len(data)
    head = struct.pack("<IIIII", interface, units >> 32, units & 0xFFFFFFFF, caplen,
                       caplen if orig_len is None else orig_len)
    return block(BLOCK_EPB, head + _pad(data))


def decryption_secrets_block(secrets_type: int, data: bytes) -> bytes:
    """A Decryption Secrets Block: the secrets of the packets that follow it (pcapng §4.7)."""
    return block(BLOCK_DSB, struct.pack("<II", secrets_type, len(data)) + _pad(data))


def tls_keylog_block(lines: Sequence[str]) -> bytes:
    """A Decryption Secrets Block holding NSS key log lines (Wireshark decrypts TLS with them).

    The secrets are the lines joined by newlines, with a final newline, as in a key log file.
    """
    text = "".join(f"{line}\n" for line in lines)
    return decryption_secrets_block(SECRETS_TLS_KEYLOG, text.encode("ascii", "replace"))


def insert_tls_keylog(path: str | Path, lines: Sequence[str]) -> None:
    """Put key log ``lines`` into the pcapng file dmsniff wrote at ``path``, in a Decryption Secrets
    Block after its section and interface blocks, before the first packet.

    Wireshark takes secrets only for the packets after their block (a block at the end decrypts
    nothing, even with two passes), and a live capture's key log lines arrive as its connections
    open: so the file is copied once at the end with the block in front.  The copy is written
    beside the file and takes its place whole; an OSError leaves the file as it was.
    """
    path = Path(path)
    part = path.with_name(path.name + ".part")
    try:
        with open(path, "rb") as src:
            head = bytearray()
            while True:
                start = src.read(8)
                if len(start) < 8:
                    break
                btype, blen = struct.unpack("<II", start)
                if btype == BLOCK_SHB and not head:
                    rest = src.read(blen - 8)
                    if len(rest) < 4 or struct.unpack_from("<I", rest)[0] != _BOM:
                        raise OSError(f"{path} is not a little-endian pcapng file as dmsniff writes")
                    head += start + rest
                elif btype == BLOCK_IDB and head:
                    head += start + src.read(blen - 8)
                else:
                    break
            if not head:
                raise OSError(f"{path} is not a pcapng file")
            src.seek(len(head))
            with open(part, "wb") as dst:
                dst.write(head)
                dst.write(tls_keylog_block(lines))
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        os.replace(part, path)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink()
        raise


class PcapngWriter:
    """One section, nanosecond timestamps; every frame is flushed at once.

    An interface per link type: the one given at the start (a capture on an interface), or, with
    ``linktype=None``, each one as the first frame of it comes (a stream a command writes).
    Flushing per frame keeps the file readable up to the last frame if the process is
    killed; the cost is irrelevant at live-capture rates.
    """

    def __init__(self, path: str, linktype: int | None, snaplen: int = 262144,
                 if_name: str | None = None) -> None:
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.path = path
        self._snaplen, self._if_name = snaplen, if_name
        self._ifaces: dict[int, int] = {}  # link type -> interface id
        head = section_header_block()
        if linktype is not None:
            head += self._interface(linktype)
        self._fh.write(head)
        self._fh.flush()

    def _interface(self, linktype: int) -> bytes:
        self._ifaces[linktype] = len(self._ifaces)
        return interface_description_block(linktype, self._snaplen, name=self._if_name, tsresol=9)

    def write_tls_keylog(self, lines: Sequence[str]) -> None:
        """Append a Decryption Secrets Block with key log lines (before the packets they open)."""
        self._fh.write(tls_keylog_block(lines))
        self._fh.flush()

    def write(self, ts: float, data: bytes, orig_len: int | None = None, linktype: int | None = None) -> None:
        """Append one frame (an Enhanced Packet Block on the interface of ``linktype``; none: the
        interface given at the start)."""
        iface = 0
        if linktype is not None:
            known = self._ifaces.get(linktype)
            if known is None:
                self._fh.write(self._interface(linktype))
                known = self._ifaces[linktype]
            iface = known
        elif not self._ifaces:
            raise ValueError("PcapngWriter: a frame without its link type, and no interface given")
        sec = int(ts)
        # Split before scaling: ts * 1e9 as a float would lose ~100 ns at today's epoch.
        units = sec * 1_000_000_000 + round((ts - sec) * 1e9)
        self._fh.write(enhanced_packet_block(iface, units, data, orig_len))
        self._fh.flush()

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self._fh.close()

    def __enter__(self) -> PcapngWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# Exports: a session's frames written again (dmsniff.export).
SNAPLEN = 262144


def _micros(ts: float) -> tuple[int, int]:
    """(seconds, microseconds) of a timestamp.

    Microseconds, not nanoseconds: a float near today's epoch is exact only to ~0.2 µs,
    so a microsecond capture's timestamps come back exactly, and a nanosecond one's are
    rounded to the microsecond rather than given noise digits.
    """
    sec = int(ts)
    usec = round((ts - sec) * 1e6)
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


class FrameWriter:
    """Frames of a capture written again (a session's export): classic pcap while every frame has the
    same link type, pcapng once another one appears.

    Classic pcap is what every tool reads; it has one link type per file, so a frame of a
    second link type (possible in a pcapng input) turns what was written into pcapng, with
    one interface per link type.  With TLS key log lines (or ``pcapng``) the file is pcapng
    from the start, and the lines go in a Decryption Secrets Block after the first
    interface, before the first packet (where Wireshark needs them).
    """

    def __init__(self, path: Path, keylog: Sequence[str] = (), *, pcapng: bool = False) -> None:
        self.path = path
        self.fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.linktype: int | None = None
        self.ifaces: dict[int, int] | None = None  # pcapng: link type -> interface id
        self.scapy: PcapWriter | None = None
        self.secrets = tls_keylog_block(keylog) if keylog else None  # written before the first packet
        self.count = 0
        if pcapng or keylog:
            self.ifaces = {}
            self.fh.write(section_header_block())

    def write(self, frame: Frame) -> None:
        """Append one frame."""
        if self.ifaces is None:
            if self.linktype is None:
                from scapy.utils import PcapWriter  # here: importing scapy takes a while

                self.linktype = frame[2]
                # Classic pcap is written by scapy (the project's pcap writer), on our open file.
                self.scapy = PcapWriter(self.fh, linktype=self.linktype, sync=False, snaplen=SNAPLEN)
                self.scapy.write_header(None)  # write_packet() alone, for raw bytes, does not
            elif frame[2] != self.linktype:
                self._to_pcapng()
        self._record(frame)
        self.count += 1

    def _record(self, frame: Frame) -> None:
        _number, ts, linktype, data = frame
        sec, usec = _micros(ts)
        n = len(data)
        # The original length is not known here; the captured bytes are all there is.
        if self.ifaces is None:
            assert self.scapy is not None
            self.scapy.write_packet(data, sec=sec, usec=usec, caplen=n, wirelen=n)
        else:
            iface = self._iface(linktype)
            if self.secrets is not None:
                self.fh.write(self.secrets)
                self.secrets = None
            # No if_tsresol option: microseconds.
            self.fh.write(enhanced_packet_block(iface, sec * 1_000_000 + usec, data))

    def _iface(self, linktype: int) -> int:
        assert self.ifaces is not None
        iface = self.ifaces.get(linktype)
        if iface is None:
            iface = self.ifaces[linktype] = len(self.ifaces)
            # pcapng allows an interface to be described anywhere before its first packet.
            self.fh.write(interface_description_block(linktype, SNAPLEN))
        return iface

    def _to_pcapng(self) -> None:
        """Rewrite the classic pcap written so far as pcapng and go on in that format."""
        if self.scapy is not None:
            self.scapy.flush()
            self.scapy = None
        self.fh.close()
        tmp = self.path.with_name(self.path.name + ".ng")
        try:
            # Read back rather than kept in memory: a session can be large.
            with open_capture(str(self.path)) as cap, open(tmp, "wb") as fh:
                self.fh = fh
                self.ifaces = {}
                fh.write(section_header_block())
                for frame in cap:
                    self._record(frame)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.fh = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def close(self) -> None:
        if self.scapy is not None:
            self.scapy.flush()
        self.fh.close()
