"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one block (:func:`~dmsniff.sessions.model.history_block`, which
also says what a block holds), after a header: the position of the same device's block before
it, the block's length and its rows.  So a device's blocks form a chain in the file,
read from its newest back: all that stays in memory is where each device's newest block is, one
integer.  (An index of every block, even packed at 16 bytes a block, grew with the capture:
0.8 MB more on a million-packet CWMP capture than on one of 200,000.)

A device's history comes back as a :class:`~dmsniff.sessions.model.History`: its blocks as they
are, made observations only when looked at.

A log kept for a JSON report (``json=True``) writes each block as the JSON the report will hold,
not as a pickle, so the report's end copies every device's history instead of unpickling and
encoding it while nothing else runs.  The work moves to where each message is read, which a
cluster's or ``-j`` workers overlap; in one process it replaces the pickling and is no more.
A block orjson refuses (a lone surrogate) is pickled: the report takes the slow way for that
device alone.
"""

from __future__ import annotations

import struct
import tempfile
from typing import IO

from dmsniff.sessions.model import History, ObservationRow, history_block

_HEAD = struct.Struct("<qqq")  # a block's header: the offset of the device's previous block (-1:
# none), the length of the block that follows, its rows


class ParameterLog:
    def __init__(self, *, json: bool = False) -> None:
        self._json = json
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
        data = history_block(rows, self._json)
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
