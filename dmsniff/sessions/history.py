"""Per-device parameter history, kept in a temporary file so memory stays flat.

A capture of an ACS's day holds millions of parameter values; keeping them as objects until the
report's end would make memory grow with the capture.  Each message's observations are appended
as one block (:func:`history_block`, which also says what a block holds), after a header: the
position and size of the same device's block before it, and the block's rows.  So a device's
blocks form a chain in the file, read from its newest back: all that stays in memory is where
each device's newest block is, one integer, and the blocks not yet written (up to ``_WRITE_AT``
bytes).  (An index of every block, even packed at 16 bytes a block, grew with the capture: 0.8 MB
more on a million-packet CWMP capture than on one of 200,000.)

A device's history comes back as a :class:`History`: its blocks as they are, made observations
only when looked at.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import IO, overload

import orjson

from dmsniff.sessions.model import ObservationRow, ParameterObservation


def observations_json(rows: Iterable[ObservationRow]) -> bytes | None:
    """Observations, from their rows, as the JSON array orjson makes of the ParameterObservations
    (an object of their fields in order: what a report writes); None if orjson refuses a value (a
    lone surrogate, an integer over 64 bits), for the caller to take the slow way."""
    try:
        return orjson.dumps([{"name": name, "value": value, "type": type_, "source": source, "frame": frame,
                              "time": time, "session": session}
                             for name, value, type_, source, frame, time, session in rows])
    except orjson.JSONEncodeError:
        return None


# A history block: one message's observations of one device, as ParameterLog keeps them.  Written
# by history_block and read by _block_rows and History.json, here and nowhere else.


def history_block(rows: list[ObservationRow], as_json: bool) -> bytes:
    """``rows`` as one block of a :class:`History`: for a log kept for a JSON report, the objects of
    :func:`observations_json`'s array without its brackets (blocks then join into the array by
    commas); else, or if orjson refuses a value, the rows pickled (pickle's PROTO byte, never ``{``)."""
    data = observations_json(rows) if as_json else None
    return data[1:-1] if data is not None else pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def _block_rows(block: bytes) -> list[ObservationRow]:
    if block[:1] == b"{":  # JSON: the objects of observations_json's array, without the brackets
        return [tuple(obs.values()) for obs in orjson.loads(b"[" + block + b"]")]
    return pickle.loads(block)  # type: ignore[no-any-return]


class History(Sequence[ParameterObservation]):
    """A device's parameter history as :class:`ParameterLog` gives it back:
    the log's blocks (:func:`history_block`), made observations only when looked at.

    A device can hold hundreds of thousands of values, and a JSON report writes them all at its
    end, when nothing else is left to run.  From a log kept as JSON it copies them (:meth:`json`);
    from pickled rows it encodes them (:func:`observations_json`): made observations, then
    dicts, they cost 1.3 µs a value against 0.9 (compiled).
    """

    __slots__ = ("_blocks", "_count", "_items")

    def __init__(self, blocks: list[bytes], count: int) -> None:
        self._blocks = blocks
        self._count = count
        self._items: list[ParameterObservation] | None = None

    def rows(self) -> Iterator[ObservationRow]:
        """The rows, oldest first, without making an observation of each."""
        # (chained in C: a generator here cost the JSON writer a tenth more, 650 -> 595 ns a row)
        return chain.from_iterable(map(_block_rows, self._blocks))

    def json(self) -> bytes | None:
        """The history as :func:`observations_json` has it, if every block was kept as JSON (else
        None: the caller encodes :meth:`rows`)."""
        blocks = self._blocks
        if not all(block[:1] == b"{" for block in blocks):
            return None
        if not blocks:
            return b"[]"
        # The brackets go on the end blocks, not around the whole: a device's history can be many
        # megabytes, and each ``+`` on it would copy all of it again.
        parts = list(blocks)
        parts[0] = b"[" + parts[0]
        parts[-1] = parts[-1] + b"]"
        return b",".join(parts)

    def _list(self) -> list[ParameterObservation]:
        if self._items is None:
            self._items = [ParameterObservation(*row) for row in self.rows()]
        return self._items

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> ParameterObservation: ...
    @overload
    def __getitem__(self, index: slice) -> list[ParameterObservation]: ...
    def __getitem__(self, index: int | slice) -> ParameterObservation | list[ParameterObservation]:
        return self._list()[index]

    def __iter__(self) -> Iterator[ParameterObservation]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self._list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # (mutable, like the list it stands for)

    def __repr__(self) -> str:
        return f"History({self._list()!r})"


_HEAD = struct.Struct("<qqq")  # a block's header: the offset of the device's previous block (-1: none),
# that block's size (header included), the rows of the block that follows.  The size is the previous
# block's, not this one's, so that a block is read back in one call: with a header of its own length, a
# history of 340 blocks took 680 reads (for the 750 devices of twenty 200k-packet CWMP benchmark
# captures, 511,000 calls: 0.6 s in pread alone, pure Python).
# In ParameterLog._last, a block's size takes the low bits: a block is one message's rows, far under 2**40
# bytes.
_SIZE_BITS = 40
_SIZE_MASK = (1 << _SIZE_BITS) - 1

# Blocks are gathered in memory and written this many bytes at a time.  A file object's own 8 KiB
# buffer wrote every three blocks or so: the 200k-packet CWMP benchmark capture's 90 MB of JSON
# blocks took 0.14 s to write that way, 0.04 s at 256 KiB a time (the same blocks, timed alone).
# (A bigger buffer in the file object would not do: each small read back would refill all of it.)
_WRITE_AT = 256 << 10
_PREAD: Callable[[int, int, int], bytes] | None = getattr(os, "pread", None)


class ParameterLog:
    def __init__(self, *, json: bool = False) -> None:
        self._json = json
        self._file: IO[bytes] | None = None  # unbuffered: this class does its own buffering
        self._pending: list[bytes] = []  # headers and blocks not written yet
        self._pending_size = 0
        self._end = 0  # where the next block goes (the pending ones counted)
        self._last: dict[str, int] = {}  # device -> its newest block: offset << _SIZE_BITS | size

    def add(self, device: str, rows: list[ObservationRow]) -> None:
        if not rows:
            return
        data = history_block(rows, self._json)
        pending = self._pending
        at = self._last.get(device, -1)
        pending.append(_HEAD.pack(at >> _SIZE_BITS, at & _SIZE_MASK, len(rows)) if at >= 0
                       else _HEAD.pack(-1, 0, len(rows)))
        pending.append(data)
        size = _HEAD.size + len(data)
        self._last[device] = self._end << _SIZE_BITS | size
        self._end += size
        self._pending_size += size
        if self._pending_size >= _WRITE_AT:
            self._write()

    def _write(self) -> None:
        """Write the pending blocks at their place, the end of the file."""
        if not self._pending:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 - closed by close()
        f = self._file
        data = memoryview(b"".join(self._pending))
        f.seek(self._end - self._pending_size)  # (a read may have moved the position)
        while data:
            written = f.write(data)  # (an unbuffered write may take part of it)
            if not written:
                raise OSError("the parameter history file takes no more data")
            data = data[written:]
        self._pending.clear()
        self._pending_size = 0

    def read(self, device: str) -> History:
        """Every observation for ``device``, in the order they were added (capture order)."""
        at = self._last.get(device, -1)
        if at < 0:
            return History([], 0)
        self._write()
        f = self._file
        assert f is not None
        blocks: list[bytes] = []
        count = 0
        head = _HEAD.size
        offset, size = at >> _SIZE_BITS, at & _SIZE_MASK
        while offset >= 0:
            data = _read_at(f, size, offset)
            offset, size, rows = _HEAD.unpack_from(data)
            blocks.append(data[head:])
            count += rows
        blocks.reverse()
        return History(blocks, count)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._pending.clear()
        self._pending_size = 0
        self._last.clear()


def _read_at(f: IO[bytes], size: int, offset: int) -> bytes:
    """``size`` bytes of ``f`` at ``offset`` (of a file this log wrote: they are all there)."""
    if _PREAD is not None:  # one call, and the file's position left alone
        data = _PREAD(f.fileno(), size, offset)
    else:  # (Windows)
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise OSError(f"parameter history file cut short at offset {offset}")
    return data
