"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one pickled block.  A block starts with the position of the same
device's block before it (and its own length and rows), so a device's blocks form a chain in the file,
read from its newest back: all that stays in memory is where each device's newest block is, one
integer.  (An index of every block, even packed at 16 bytes a block, grew with the capture:
0.8 MB more on a million-packet CWMP capture than on one of 200,000.)

A device's history comes back as a :class:`~dmsniff.sessions.model.History`: its blocks as they
are, made observations only when looked at; the JSON report writes it straight from the rows.
"""

from __future__ import annotations

import pickle
import struct
import tempfile
from typing import IO

from dmsniff.sessions.model import History, ObservationRow

_HEAD = struct.Struct("<qqq")  # a block's header: the offset of the device's previous block (-1:
# none), the length of the pickle that follows, its rows


class ParameterLog:
    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        # Whether the file's position is at its end.  A seek flushes the file's buffer (a write
        # and an lseek call for every block added): seek only after a read has moved it.
        self._at_end = True
        self._last: dict[str, int] = {}  # device -> offset of its newest block

    def add(self, device: str, rows: list[ObservationRow]) -> None:
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._at_end:
            self._file.seek(self._end)
            self._at_end = True
        self._file.write(_HEAD.pack(self._last.get(device, -1), len(data), len(rows)))
        self._file.write(data)
        self._last[device] = self._end
        self._end += _HEAD.size + len(data)

    def read(self, device: str) -> History:
        """Every observation for ``device``, in the order they were added (capture order)."""
        f = self._file
        offset = self._last.get(device, -1)
        if f is None or offset < 0:
            return History([], 0)
        self._at_end = False
        blocks: list[bytes] = []
        count = 0
        while offset >= 0:
            f.seek(offset)
            offset, length, rows = _HEAD.unpack(f.read(_HEAD.size))
            blocks.append(f.read(length))
            count += rows
        blocks.reverse()
        return History(blocks, count)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._last.clear()
