"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one pickled block.  A block starts with the position of the same
device's block before it (and its own length), so a device's blocks form a chain in the file,
read from its newest back: all that stays in memory is where each device's newest block is, one
integer.  (An index of every block, even packed at 16 bytes a block, grew with the capture:
0.8 MB more on a million-packet CWMP capture than on one of 200,000.)
"""

from __future__ import annotations

import pickle
import struct
import tempfile
from typing import IO

from dmsniff.sessions.model import ParameterObservation

Row = tuple[str, str, str | None, str, int, float, str]  # the fields of ParameterObservation, in order

_HEAD = struct.Struct("<qq")  # a block's header: the offset of the device's previous block (-1:
# none), the length of the pickle that follows


class ParameterLog:
    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        # Whether the file's position is at its end.  A seek flushes the file's buffer (a write
        # and an lseek call for every block added): seek only after a read has moved it.
        self._at_end = True
        self._last: dict[str, int] = {}  # device -> offset of its newest block

    def add(self, device: str, rows: list[Row]) -> None:
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._at_end:
            self._file.seek(self._end)
            self._at_end = True
        self._file.write(_HEAD.pack(self._last.get(device, -1), len(data)))
        self._file.write(data)
        self._last[device] = self._end
        self._end += _HEAD.size + len(data)

    def read(self, device: str) -> list[ParameterObservation]:
        """Every observation for ``device``, in the order they were added (capture order)."""
        out: list[ParameterObservation] = []
        f = self._file
        offset = self._last.get(device, -1)
        if f is None or offset < 0:
            return out
        self._at_end = False
        blocks: list[bytes] = []
        while offset >= 0:
            f.seek(offset)
            offset, length = _HEAD.unpack(f.read(_HEAD.size))
            blocks.append(f.read(length))
        for block in reversed(blocks):
            out.extend(ParameterObservation(*row) for row in pickle.loads(block))
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._last.clear()
