"""Fast pcap / pcapng file readers.

The formats are parsed with ``struct.unpack_from`` over ~1 MiB chunks read with
plain ``read()`` calls: no scapy dissection (far too slow) and no mmap (mapped
pages count in peak RSS, which must stay flat however large the capture is).
A record straddling a chunk boundary is carried over to the next chunk.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final

if TYPE_CHECKING:
    from dmsniff.net.packet import Dissector

Frame = tuple[int, float, int, bytes]
"""(number, timestamp_seconds, linktype, data); number is 1-based like Wireshark."""

CHUNK: Final = 1 << 20
MAX_PCAP_RECORD: Final = 256 * 1024
# A pcap record may exceed snaplen a little (some writers do that); this much more is corruption.
SNAPLEN_SLACK: Final = 64 * 1024
# Upper bound for a pcapng block; guards against buffering gigabytes on a corrupt length.
MAX_BLOCK: Final = 16 * 1024 * 1024
# Keeps memory flat on a file full of damaged blocks.
MAX_ERRORS: Final = 100


# pcap magic as it appears in the file -> (struct byte order, ticks per second)
_PCAP_MAGICS: Final = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e6),
    b"\xa1\xb2\xc3\xd4": (">", 1e6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e9),
    b"\xa1\xb2\x3c\x4d": (">", 1e9),
}
_PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
_GZIP_MAGIC: Final = b"\x1f\x8b"
_BOM_LE: Final = b"\x4d\x3c\x2b\x1a"
_BOM_BE: Final = b"\x1a\x2b\x3c\x4d"

# Recognised but unsupported inputs, to say something more useful than "not a capture".
_OTHER_MAGICS: Final = (
    (b"\x34\xcd\xb2\xa1", "a modified (Kuznetzov) pcap file, which is not supported"),
    (b"\xa1\xb2\xcd\x34", "a modified (Kuznetzov) pcap file, which is not supported"),
    (b"snoop\x00\x00\x00", "a Solaris snoop capture; convert it with: editcap -F pcapng IN OUT"),
    (b"RTSS", "a Microsoft Network Monitor 1.x capture; convert it with: editcap -F pcapng IN OUT"),
    (b"GMBU", "a Microsoft Network Monitor 2.x capture; convert it with: editcap -F pcapng IN OUT"),
    (b"BZh", "bzip2-compressed; only gzip compression is supported"),
    (b"\xfd7zXZ\x00", "xz-compressed; only gzip compression is supported"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed; only gzip compression is supported"),
    (b"\x04\x22\x4d\x18", "lz4-compressed; only gzip compression is supported"),
    (b"PK\x03\x04", "a zip archive; extract the capture first"),
)

_PACKET_BLOCKS: Final = (2, 3, 6)  # PB, SPB, EPB


class CaptureError(Exception):
    """The whole input is unusable (not a capture, unreadable, unsupported). str(e) is one clear line."""


@dataclass(slots=True)
class CaptureInfo:
    """What is known about a capture; counters grow as frames are yielded."""

    path: str
    format: str  # "pcap" | "pcapng"; logs: "http-dump", "genieacs-log", "curl", "har", "folder"
    compressed: bool  # gzip
    packets: int = 0  # frames yielded so far
    link_types: list[int] = field(default_factory=list)  # distinct, in order of first use
    first_time: float | None = None
    last_time: float | None = None
    errors: list[str] = field(default_factory=list)  # faults met while reading, one line each
    # TLS key logs from pcapng Decryption Secrets Blocks, in file order (read so far)
    tls_keylogs: list[bytes] = field(default_factory=list)
    # Several files read as one (a rotated capture): (path, first frame, frames) of each, in order
    parts: list[tuple[str, int, int]] = field(default_factory=list)
    # What a "frame" number names: a packet; in a log read as a capture (dmsniff.logs) a line of the
    # file, a file of a folder or an entry of a HAR, and ``packets`` counts those.
    frame_unit: str = "packet"
    # What a log cannot tell (no TCP, no times ...), said once per input (dmsniff.logs).
    notes: list[str] = field(default_factory=list)


def _add_error(info: CaptureInfo, msg: str) -> None:
    if len(info.errors) < MAX_ERRORS:
        info.errors.append(msg)
    elif len(info.errors) == MAX_ERRORS:
        info.errors.append("further errors not recorded")


def _describe_bytes(head: bytes) -> str:
    """Hex and printable rendering of the first bytes, for error messages."""
    first = head[:8]
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in first)
    return f"{first.hex(' ')} {text!r}"


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to look for a gzip magic)."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            out, self._prefix = self._prefix, b""
            if size < 0:
                return out + (self._stream.read() or b"")
            if size <= len(out):
                out, self._prefix = out[:size], out[size:]
                return out
            return out + (self._stream.read(size - len(out)) or b"")
        return self._stream.read(size) or b""

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)


class _Source:
    """Plain or gzip-compressed file (or stream) read in ~CHUNK pieces; read() never raises."""

    def __init__(self, path: str, compressed: bool, stream: BinaryIO | None = None,
                 prefix: bytes = b"") -> None:
        self.path = path
        self.compressed = compressed
        self.error: str | None = None
        self.stream = stream is not None  # read once, from a pipe or an open file object
        # Raw FileIO: a 1 MiB read goes straight to the kernel, no extra buffer copy.
        self._plain: BinaryIO | io.RawIOBase | None = None
        self._gzip: gzip.GzipFile | None = None
        if stream is not None:
            raw = _Prefixed(prefix, stream)
            if compressed:
                self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
            else:
                self._plain = raw
        elif compressed:
            self._gzip = gzip.open(path, "rb")  # noqa: SIM115 - lives as long as the reader
        else:
            self._plain = io.FileIO(path, "rb")

    def read(self) -> bytes:
        """Next chunk; b"" at end of data or after a read error (recorded in .error)."""
        if self.error is not None:
            return b""
        if self._plain is not None:
            try:
                return self._plain.read(CHUNK) or b""
            except (OSError, ValueError) as exc:
                self.error = f"read error: {_exc_text(exc)}"
                return b""
        assert self._gzip is not None
        # read1() rather than read(): a truncated or corrupt gzip stream raises, and
        # read() would discard everything it had decompressed in that call.
        parts: list[bytes] = []
        size = 0
        try:
            while size < CHUNK:
                piece = self._gzip.read1(CHUNK - size)
                if not piece:
                    break
                parts.append(piece)
                size += len(piece)
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            self.error = f"gzip stream damaged: {_exc_text(exc)}"
        return b"".join(parts)

    def position(self) -> int:
        """Bytes of the file (compressed, for gzip) read so far; 0 when that cannot be known."""
        try:
            if self._gzip is not None:
                raw = self._gzip.fileobj  # typeshed: a read-or-write file object; here always read
                return int(raw.tell()) if isinstance(raw, io.IOBase) else 0
            if self._plain is not None and not self.stream:
                return int(self._plain.tell())
        except (OSError, ValueError, AttributeError):
            pass
        return 0

    def close(self) -> None:
        if self._plain is not None:
            self._plain.close()
        if self._gzip is not None:
            self._gzip.close()


def _exc_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _open_stream(stream: BinaryIO, name: str) -> tuple[_Source, bytes]:
    """A pcap/pcapng stream (a pipe, standard input, an open file): gzip detected by magic."""
    try:
        magic = stream.read(2) or b""
    except (OSError, ValueError) as exc:
        raise CaptureError(f"cannot read {name}: {_exc_text(exc)}") from None
    src = _Source(name, magic == _GZIP_MAGIC, stream, magic)
    head = src.read()
    while head and len(head) < 64 and src.error is None:  # a pipe hands over what it has
        more = src.read()
        if not more:
            break
        head += more
    if src.error is not None and len(head) < 64:
        src.close()
        raise CaptureError(f"cannot read {name}: {src.error}")
    return src, head


def _open_source(path: str) -> tuple[_Source, bytes]:
    """Open path (gzip detected by magic) and return the source with its first chunk."""
    where = f"cannot open {path!r}"
    try:
        with io.FileIO(path, "rb") as probe:
            magic = probe.read(2) or b""
        src = _Source(path, magic == _GZIP_MAGIC)
    except FileNotFoundError:
        raise CaptureError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise CaptureError(f"{where}: it is a directory") from None
    except PermissionError:
        raise CaptureError(f"{where}: permission denied") from None
    except OSError as exc:
        raise CaptureError(f"{where}: {_exc_text(exc)}") from None
    head = src.read()
    if src.compressed and src.error is not None and len(head) < 64:
        src.close()
        raise CaptureError(f"cannot read {path!r}: gzip-compressed but the data is damaged ({src.error})")
    if not src.compressed and src.error is not None and not head:
        src.close()
        raise CaptureError(f"cannot read {path!r}: {src.error}")
    return src, head


@dataclass(frozen=True, slots=True)
class _PcapHeader:
    endian: str
    divisor: float
    linktype: int
    snaplen: int


def _parse_header(path: str, head: bytes, compressed: bool) -> tuple[str, _PcapHeader | None]:
    """Identify the format from the first bytes; raise CaptureError when unusable."""
    what = f"{path!r}" + (" (gzip-compressed)" if compressed else "")
    if not head:
        raise CaptureError(f"{what} is empty" if not compressed else f"{what} contains no data")
    magic = head[:4]
    if magic in _PCAP_MAGICS:
        endian, divisor = _PCAP_MAGICS[magic]
        if len(head) < 24:
            raise CaptureError(f"{what} is truncated: pcap file header has {len(head)} of 24 bytes")
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack_from(endian + "HHiIII", head, 4)
        if major != 2:
            raise CaptureError(f"{what}: unsupported pcap version {major}.{minor} (only 2.x is supported)")
        # Upper bits carry FCS length / reserved flags; libpcap's LT_LINKTYPE() keeps the low 16.
        return "pcap", _PcapHeader(endian, divisor, network & 0xFFFF, snaplen)
    if magic == _PCAPNG_MAGIC:
        if len(head) < 16:
            raise CaptureError(f"{what} is truncated: pcapng section header has {len(head)} bytes")
        bom = head[8:12]
        if bom not in (_BOM_LE, _BOM_BE):
            raise CaptureError(f"{what}: pcapng section header has a bad byte-order magic ({bom.hex()})")
        endian = "<" if bom == _BOM_LE else ">"
        blen, _bom, major, minor = struct.unpack_from(endian + "IIHH", head, 4)
        if blen < 28 or blen % 4 or blen > MAX_BLOCK:
            raise CaptureError(f"{what}: pcapng section header has an invalid block length {blen}")
        if major != 1:
            raise CaptureError(f"{what}: unsupported pcapng version {major}.{minor} (only 1.x is supported)")
        return "pcapng", None
    if len(head) < 4 and any(m.startswith(head) for m in (*_PCAP_MAGICS, _PCAPNG_MAGIC)):
        raise CaptureError(f"{what} is truncated: only {len(head)} bytes of file header")
    for prefix, desc in _OTHER_MAGICS:
        if head.startswith(prefix):
            raise CaptureError(f"{what} is {desc}")
    raise CaptureError(f"{what} is not a pcap or pcapng capture (first bytes: {_describe_bytes(head)})")


def open_capture(path: str | BinaryIO, name: str | None = None) -> CaptureFile:
    """Open a pcap or pcapng file (optionally gzip-compressed); raise CaptureError if unusable.

    ``path`` may also be a binary stream (a pipe, an open file, a BytesIO), read once; ``name``
    is what messages call it.
    """
    if isinstance(path, str):
        src, head = _open_source(path)
    else:
        name = name or getattr(path, "name", None) or "<stream>"
        src, head = _open_stream(path, str(name))
        path = src.path
    try:
        fmt, pcap_header = _parse_header(path, head, src.compressed)
    except CaptureError:
        src.close()
        raise
    return CaptureFile(path, src, head, fmt, pcap_header)


class CaptureFile:
    """An open capture; iterate for frames. Iterating again restarts from the first frame."""

    def __init__(self, path: str, src: _Source, head: bytes, fmt: str, pcap_header: _PcapHeader | None):
        self.info = CaptureInfo(path=path, format=fmt, compressed=src.compressed)
        self._src: _Source | None = src
        self._head: bytes | None = head
        self._pcap_header = pcap_header
        #: The dissector of a shard's worker, asked about each packet record before it becomes a
        #: frame (``Dissector.passes_over``): the records it takes are counted (frame numbers,
        #: packets, times) but not yielded.  A ``-j`` worker reads every frame and follows one
        #: connection in N: the others' frames were copied, made tuples, handed over and their
        #: headers unpacked again, only to be passed over.  (Typed as the class, not as a callable:
        #: the compiled build then calls it natively, with no argument made an object.)
        self.pass_over: Dissector | None = None

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file; safe to call twice."""
        if self._src is not None:
            self._src.close()
            self._src = None
        self._head = None

    @property
    def position(self) -> int:
        """Bytes of the file read so far (for progress; 0 for a stream)."""
        return self._src.position() if self._src is not None else 0

    @property
    def size(self) -> int | None:
        """The file's size in bytes (None for a stream)."""
        if self._src is None or self._src.stream:
            return None
        try:
            return os.path.getsize(self.info.path)
        except OSError:
            return None

    def __iter__(self) -> Iterator[Frame]:
        src, head = self._src, self._head
        if src is None:
            raise CaptureError(f"{self.info.path!r}: capture file is closed")
        if head is None:
            if src.stream:
                raise CaptureError(f"{self.info.path}: a stream can be read only once")
            # Second pass: start over on a fresh stream (works for gzip too).
            src.close()
            src, head = _open_source(self.info.path)
            self._src = src
            info = self.info
            info.packets = 0
            info.link_types.clear()
            info.first_time = info.last_time = None
            info.errors.clear()
        self._head = None
        if self._pcap_header is not None:
            return self._iter_pcap(src, head, self._pcap_header)
        return self._iter_pcapng(src, head)

    def _iter_pcap(self, src: _Source, buf: bytes, hdr: _PcapHeader) -> Iterator[Frame]:
        info = self.info
        # The record header's fields are read byte by byte: indexing bytes is native code in the
        # compiled build, where struct's unpack_from made a tuple and four ints of every record.
        little = hdr.endian == "<"
        divisor = hdr.divisor
        linktype = hdr.linktype
        limit = MAX_PCAP_RECORD
        pass_over = self.pass_over
        if hdr.snaplen > 0:
            limit = min(limit, hdr.snaplen + SNAPLEN_SLACK)
        num = 0
        pos = 24
        base = 0  # file offset of buf[0]
        while True:
            n = len(buf)
            # Hot loop: keep it to one slice and one tuple per record.
            while pos + 16 <= n:
                if little:
                    incl = buf[pos + 8] | buf[pos + 9] << 8 | buf[pos + 10] << 16 | buf[pos + 11] << 24
                else:
                    incl = buf[pos + 8] << 24 | buf[pos + 9] << 16 | buf[pos + 10] << 8 | buf[pos + 11]
                if incl > limit:
                    _add_error(info, f"corrupt packet record at offset {base + pos} (after frame {num})")
                    return
                end = pos + 16 + incl
                if end > n:
                    break
                num += 1
                if little:
                    sec = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16 | buf[pos + 3] << 24
                    frac = buf[pos + 4] | buf[pos + 5] << 8 | buf[pos + 6] << 16 | buf[pos + 7] << 24
                else:
                    sec = buf[pos] << 24 | buf[pos + 1] << 16 | buf[pos + 2] << 8 | buf[pos + 3]
                    frac = buf[pos + 4] << 24 | buf[pos + 5] << 16 | buf[pos + 6] << 8 | buf[pos + 7]
                ts = sec + frac / divisor
                info.packets = num
                info.last_time = ts
                if num == 1:
                    info.first_time = ts
                    info.link_types.append(linktype)
                if pass_over is None or not pass_over.passes_over(buf, pos + 16, incl, linktype, num, ts):
                    yield (num, ts, linktype, buf[pos + 16 : end])
                pos = end
            more = src.read()
            if not more:
                if src.error is not None:
                    _add_error(info, src.error)
                if pos < n:
                    _add_error(info, f"truncated: capture ends inside frame {num + 1} at offset {base + pos}")
                return
            base += pos
            buf = buf[pos:] + more if pos < n else more
            pos = 0

    def _iter_pcapng(self, src: _Source, buf: bytes) -> Iterator[Frame]:
        info = self.info
        lts = info.link_types
        endian = "<"
        blk = struct.Struct("<II").unpack_from
        u32 = struct.Struct("<I").unpack_from
        # Block header and EPB fields in one call: EPBs dominate, one unpack per block matters.
        epb = struct.Struct("<IIIIIII").unpack_from
        pb = struct.Struct("<HHIIII").unpack_from
        # Per interface: (linktype, ticks per second, offset seconds, snaplen)
        max_block = MAX_BLOCK
        pass_over = self.pass_over
        # Block types are literals below (SHB 0x0A0D0D0A, IDB 1, PB 2, SPB 3, EPB 6): cheaper than globals.
        ifaces: list[tuple[int, int, int, int] | None] = []
        num = 0
        last_ts = 0.0
        last_lt = -1
        pos = 0
        base = 0  # file offset of buf[0]
        while True:
            n = len(buf)
            while pos + 12 <= n:
                if pos + 28 <= n:
                    btype, blen, ifid, hi, lo, caplen, _orig = epb(buf, pos)
                else:
                    btype, blen = blk(buf, pos)
                    ifid = hi = lo = caplen = 0  # too short for a packet block; caught below
                if btype == 0x0A0D0D0A:
                    bom = buf[pos + 8 : pos + 12]
                    new_endian = "<" if bom == _BOM_LE else ">" if bom == _BOM_BE else ""
                    if not new_endian:
                        _add_error(
                            info,
                            f"corrupt section header block at offset {base + pos} (after frame {num}): "
                            f"bad byte-order magic {bom.hex()}",
                        )
                        return
                    if new_endian != endian:
                        endian = new_endian
                        blk = struct.Struct(endian + "II").unpack_from
                        u32 = struct.Struct(endian + "I").unpack_from
                        epb = struct.Struct(endian + "IIIIIII").unpack_from
                        pb = struct.Struct(endian + "HHIIII").unpack_from
                        btype, blen = blk(buf, pos)
                if blen < 12 or blen & 3 or blen > max_block:
                    _add_error(
                        info,
                        f"corrupt block at offset {base + pos} (after frame {num}): "
                        f"invalid block length {blen}",
                    )
                    return
                end = pos + blen
                if end > n:
                    break
                if u32(buf, end - 4)[0] != blen:
                    _add_error(
                        info,
                        f"corrupt block at offset {base + pos} (after frame {num}): "
                        f"trailing length {u32(buf, end - 4)[0]} differs from leading length {blen}",
                    )
                    return

                data_at = -1  # set by the packet blocks: where the frame's bytes start
                if btype == 6 or btype == 2:
                    if blen < 32:
                        _add_error(info, f"corrupt packet block at offset {base + pos} (after frame {num})")
                        pos = end
                        continue
                    if btype == 2:
                        ifid, _drops, hi, lo, caplen, _orig = pb(buf, pos + 8)
                    if caplen > blen - 32:
                        _add_error(
                            info,
                            f"corrupt packet block at offset {base + pos} (after frame {num}): "
                            f"captured length {caplen} exceeds the block",
                        )
                        pos = end
                        continue
                    try:
                        lt, tps, off, _snap = ifaces[ifid]
                    except (IndexError, TypeError):  # TypeError: a malformed IDB left None
                        _add_error(
                            info,
                            f"packet block at offset {base + pos} (after frame {num}) "
                            f"refers to undefined interface {ifid}",
                        )
                        pos = end
                        continue
                    last_ts = ((hi << 32) | lo) / tps + off
                    data_at = pos + 28
                elif btype == 3:
                    if blen < 16 or not ifaces or ifaces[0] is None:
                        why = "block too short" if blen < 16 else "no usable interface 0"
                        _add_error(
                            info, f"simple packet block at offset {base + pos} (after frame {num}): {why}"
                        )
                        pos = end
                        continue
                    lt, _tps, _off, snap = ifaces[0]
                    caplen = min(u32(buf, pos + 8)[0], blen - 16)
                    if snap:
                        caplen = min(caplen, snap)
                    data_at = pos + 12  # no timestamp of its own: last_ts carries over
                elif btype == 1:
                    iface = _parse_idb(buf, pos, blen, endian)
                    if iface is None:
                        _add_error(info, f"corrupt interface description block at offset {base + pos}")
                    # Appended even when None so that later interface ids stay right.
                    ifaces.append(iface)
                elif btype == 0x0A0D0D0A:
                    major = struct.unpack_from(endian + "H", buf, pos + 12)[0] if blen >= 16 else -1
                    if blen < 28 or major != 1:
                        _add_error(
                            info,
                            f"unsupported or corrupt section header block at offset {base + pos} "
                            f"(after frame {num})",
                        )
                        return
                    ifaces = []  # interface ids are per section
                elif btype == 10:
                    _read_dsb(info, buf, pos, blen, endian, base)
                # Anything else (NRB, ISB, custom, unknown) is skipped by its length.
                if data_at >= 0:
                    num += 1
                    if lt != last_lt:
                        if lt not in lts:
                            lts.append(lt)
                        last_lt = lt
                    info.packets = num
                    info.last_time = last_ts
                    if num == 1:
                        info.first_time = last_ts
                    if pass_over is None or not pass_over.passes_over(buf, data_at, caplen, lt, num, last_ts):
                        yield (num, last_ts, lt, buf[data_at : data_at + caplen])
                pos = end
            more = src.read()
            if not more:
                if src.error is not None:
                    _add_error(info, src.error)
                if pos < n:
                    if pos + 4 <= n and u32(buf, pos)[0] in _PACKET_BLOCKS:
                        msg = f"truncated: capture ends inside frame {num + 1} at offset {base + pos}"
                    else:
                        msg = (
                            f"truncated: capture ends inside a block at offset {base + pos} "
                            f"(after frame {num})"
                        )
                    _add_error(info, msg)
                return
            base += pos
            buf = buf[pos:] + more if pos < n else more
            pos = 0


_DSB_TLS_KEYLOG: Final = 0x544C534B  # "TLSK": an NSS key log
MAX_DSB_TOTAL: Final = 64 << 20


def _read_dsb(info: CaptureInfo, buf: bytes, pos: int, blen: int, endian: str, base: int) -> None:
    """A Decryption Secrets Block (pcapng §4.7): keep the TLS key logs, say what else it was."""
    if blen < 20:
        _add_error(info, f"corrupt decryption secrets block at offset {base + pos}")
        return
    kind, length = struct.unpack_from(endian + "II", buf, pos + 8)
    if length > blen - 20:
        _add_error(info, f"corrupt decryption secrets block at offset {base + pos}: secrets length {length} "
                         "exceeds the block")
        return
    if kind != _DSB_TLS_KEYLOG:
        return  # WireGuard, ZigBee ... keys: nothing here needs them
    if sum(map(len, info.tls_keylogs)) + length > MAX_DSB_TOTAL:
        _add_error(info, f"decryption secrets block at offset {base + pos} skipped: over "
                         f"{MAX_DSB_TOTAL >> 20} MiB of TLS keys in this capture")
        return
    info.tls_keylogs.append(bytes(buf[pos + 16:pos + 16 + length]))


def _parse_idb(buf: bytes, pos: int, blen: int, endian: str) -> tuple[int, int, int, int] | None:
    """(linktype, ticks per second, offset seconds, snaplen) of an IDB, or None if malformed."""
    if blen < 20:
        return None
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
    tps = 10**6
    offset = 0
    opt = struct.Struct(endian + "HH").unpack_from
    o = pos + 16
    oend = pos + blen - 4
    while o + 4 <= oend:
        code, olen = opt(buf, o)
        if code == 0:
            break
        vstart = o + 4
        if vstart + olen > oend:
            break  # malformed options: keep what was parsed
        if code == 9 and olen >= 1:  # if_tsresol
            v = buf[vstart]
            tps = 2 ** (v & 0x7F) if v & 0x80 else 10**v
        elif code == 14 and olen >= 8:  # if_tsoffset, seconds added to every timestamp
            offset = struct.unpack_from(endian + "q", buf, vstart)[0]
        o = vstart + ((olen + 3) & ~3)
    return linktype, tps, offset, snaplen
