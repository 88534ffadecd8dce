"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one pickled block.  A block starts with where the same device's
block before it is and its size (then its own row count), so a device's blocks form a chain in the
file, read from its newest back, one ``pread`` a block: all that stays in memory is where each
device's newest block is and its size.  (An index of every block, even packed at 16 bytes a
block, grew with the capture: 0.8 MB more on a million-packet CWMP capture than on one of
200,000.)

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

import os
import pickle
import struct
import tempfile
from typing import IO

from dmsniff.sessions.model import History, ObservationRow, observations_json

_HEAD = struct.Struct("<qqq")  # a block's header: where the device's previous block starts (-1:
# none) and its size (header included), then this block's rows.  The data follows.

_HAS_PREAD = hasattr(os, "pread")  # (not on Windows)


def _pread(f: IO[bytes], size: int, offset: int) -> bytes:
    """``size`` bytes of ``f`` at ``offset``, in one system call where there is pread (a seek,
    then reading the header and the data, took 3.4-3.7 µs a block against 1.9-2.2)."""
    if _HAS_PREAD:
        return os.pread(f.fileno(), size, offset)
    f.seek(offset)
    data = f.read(size)
    f.seek(0, os.SEEK_END)  # (where the next block goes)
    return data


class ParameterLog:
    def __init__(self, *, json: bool = False) -> None:
        self._json = json
        self._file: IO[bytes] | None = None
        self._end = 0
        self._unflushed = False  # blocks in the file's buffer, not yet where a read finds them
        self._last: dict[str, tuple[int, int]] = {}  # device -> where its newest block is, its size

    def add(self, device: str, rows: list[ObservationRow]) -> None:
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        data = observations_json(rows) if self._json else None
        # (as JSON, the array's objects alone: a history joins its blocks into one array)
        data = data[1:-1] if data is not None else pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        before, before_size = self._last.get(device, (-1, 0))
        # (appended, always: reads do not move the file's position)
        self._file.write(_HEAD.pack(before, before_size, len(rows)))
        self._file.write(data)
        size = _HEAD.size + len(data)
        self._last[device] = (self._end, size)
        self._end += size
        self._unflushed = True

    def read(self, device: str) -> History:
        """Every observation for ``device``, in the order they were added (capture order)."""
        f = self._file
        offset, size = self._last.get(device, (-1, 0))
        if f is None or offset < 0:
            return History([], 0)
        if self._unflushed:
            f.flush()
            self._unflushed = False
        blocks: list[bytes] = []
        count = 0
        head = _HEAD.size
        while offset >= 0:
            block = _pread(f, size, offset)
            offset, size, rows = _HEAD.unpack_from(block)
            blocks.append(block[head:])
            count += rows
        blocks.reverse()
        return History(blocks, count)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._last.clear()
