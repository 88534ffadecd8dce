"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one pickled block.  A block starts with the position and length
of the same device's block before it, so a device's blocks form a chain in the file, read from
its newest back: all that stays in memory is where each device's newest block is.  (An index of
every block, even packed at 16 bytes a block, grew with the capture: 0.8 MB more on a
million-packet CWMP capture than on one of 200,000.)
"""

from __future__ import annotations

import pickle
import struct
import tempfile
from typing import IO

from dmsniff.sessions.model import ParameterObservation

Row = tuple[str, str, str | None, str, int, float, str]  # the fields of ParameterObservation, in order

_LINK = struct.Struct("<qq")  # a block's header: offset and length of the device's previous block
_NONE = (-1, 0)  # the header of a device's first block


class ParameterLog:
    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        # Whether the file's position is at its end.  A seek flushes the file's buffer (a write
        # and an lseek call for every block added): seek only after a read has moved it.
        self._at_end = True
        self._last: dict[str, tuple[int, int]] = {}  # device -> offset, length of its newest block

    def add(self, device: str, rows: list[Row]) -> None:
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        prev_offset, prev_length = self._last.get(device, _NONE)
        data = _LINK.pack(prev_offset, prev_length) + pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._at_end:
            self._file.seek(self._end)
            self._at_end = True
        self._file.write(data)
        self._last[device] = (self._end, len(data))
        self._end += len(data)

    def read(self, device: str) -> list[ParameterObservation]:
        """Every observation for ``device``, in the order they were added (capture order)."""
        out: list[ParameterObservation] = []
        f = self._file
        last = self._last.get(device)
        if f is None or last is None:
            return out
        self._at_end = False
        blocks: list[bytes] = []
        offset, length = last
        while offset >= 0:
            f.seek(offset)
            block = f.read(length)
            blocks.append(block)
            offset, length = _LINK.unpack_from(block)
        for block in reversed(blocks):
            out.extend(ParameterObservation(*row) for row in pickle.loads(memoryview(block)[_LINK.size:]))
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._last.clear()
