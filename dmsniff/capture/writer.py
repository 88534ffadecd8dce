"""Minimal pcapng writer used to save live captures as they arrive."""

from __future__ import annotations

import struct
from types import TracebackType
from typing import BinaryIO

_BOM = 0x1A2B3C4D


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(btype: int, body: bytes) -> bytes:
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


class PcapngWriter:
    """One section, one interface, nanosecond timestamps; every frame is flushed at once.

    Flushing per frame keeps the file readable up to the last frame if the process is
    killed; the cost is irrelevant at live-capture rates.
    """

    def __init__(self, path: str, linktype: int, snaplen: int = 262144, if_name: str | None = None) -> None:
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.path = path
        shb_opts = _option(4, b"dmsniff") + _option(0, b"")  # shb_userappl
        shb = struct.pack("<IHHq", _BOM, 1, 0, -1) + shb_opts  # section length unknown (-1)
        idb_opts = b""
        if if_name:
            idb_opts += _option(2, if_name.encode("utf-8", "replace"))  # if_name
        idb_opts += _option(9, b"\x09") + _option(0, b"")  # if_tsresol: 10^-9
        idb = struct.pack("<HHI", linktype, 0, snaplen) + idb_opts
        self._fh.write(_block(0x0A0D0D0A, shb) + _block(1, idb))
        self._fh.flush()

    def write(self, ts: float, data: bytes, orig_len: int | None = None) -> None:
        """Append one frame (Enhanced Packet Block on interface 0)."""
        sec = int(ts)
        # Split before scaling: ts * 1e9 as a float would lose ~100 ns at today's epoch.
        units = sec * 1_000_000_000 + round((ts - sec) * 1e9)
        caplen = len(data)
        body = struct.pack(
            "<IIIII", 0, units >> 32, units & 0xFFFFFFFF, caplen, caplen if orig_len is None else orig_len
        )
        self._fh.write(_block(6, body + data + b"\0" * (-caplen % 4)))
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
