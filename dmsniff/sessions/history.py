"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects
until the report's end would make memory grow with the capture.  Each message's
observations are appended as one pickled block; an index of block positions per
device is all that stays in memory, packed in an array (16 bytes a block, not the ~120 of a
tuple of two ints in a list: on a capture of a million packets that was most of the
report's memory growth).
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from typing import IO

from dmsniff.sessions.model import ParameterObservation

Row = tuple[str, str, str | None, str, int, float, str]  # the fields of ParameterObservation, in order


class ParameterLog:
    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        # Whether the file's position is at its end.  A seek flushes the file's buffer (a write
        # and an lseek call for every block added): seek only after a read has moved it.
        self._at_end = True
        self._blocks: dict[str, array[int]] = {}  # device -> offset, length, offset, length ...

    def add(self, device: str, rows: list[Row]) -> None:
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._at_end:
            self._file.seek(self._end)
            self._at_end = True
        self._file.write(data)
        blocks = self._blocks.get(device)
        if blocks is None:
            blocks = self._blocks[device] = array("q")
        blocks.append(self._end)
        blocks.append(len(data))
        self._end += len(data)

    def read(self, device: str) -> list[ParameterObservation]:
        """Every observation for ``device``, in the order they were added (capture order)."""
        out: list[ParameterObservation] = []
        f = self._file
        if f is None:
            return out
        blocks = self._blocks.get(device, array("q"))
        if blocks:
            self._at_end = False
        for i in range(0, len(blocks), 2):
            f.seek(blocks[i])
            out.extend(ParameterObservation(*row) for row in pickle.loads(f.read(blocks[i + 1])))
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._blocks.clear()
