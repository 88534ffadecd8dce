"""Standard input as an input (``-``): a capture stream or a log, told apart by its first bytes.

Its first bytes are read ahead and kept, so that what it holds can be recognised before the
reader that wants it reads it: the capture reader or a log reader then gets the whole of it,
those bytes included.  Standard input is read once; this module is the one place that reads it.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

__all__ = ["stdin_head", "stdin_stream"]


class _Stdin:
    """Standard input with the bytes read ahead in front (a binary stream for one reader)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.name = "<stdin>"
        self.head = b""
        self._pos = 0  # how much of ``head`` was read through ``read``
        self._eof = False

    def ahead(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer at the end of the stream), read ahead if need be.

        A pipe hands over what it has: this waits for ``n`` bytes or the end of the stream."""
        while len(self.head) < n and not self._eof:
            read1 = getattr(self.stream, "read1", None)
            chunk = read1(n - len(self.head)) if read1 is not None else self.stream.read(n - len(self.head))
            if not chunk:
                self._eof = True
            self.head += chunk
        return self.head[:n]

    def read(self, size: int = -1) -> bytes:
        if self._pos < len(self.head):
            if size < 0:
                data = self.head[self._pos:] + (b"" if self._eof else self.stream.read())
                self._pos = len(self.head)
                return data
            data = self.head[self._pos:self._pos + size]
            self._pos += len(data)
            if len(data) < size and not self._eof:  # (as a file's read: all of ``size`` unless it ends)
                data += self.stream.read(size - len(data))
            return data
        if self._eof:
            return b""
        return self.stream.read(size)


_current: _Stdin | None = None


def _stdin() -> _Stdin:
    global _current
    buffer: BinaryIO = sys.stdin.buffer
    if _current is None or _current.stream is not buffer:  # (a test may have replaced sys.stdin)
        _current = _Stdin(buffer)
    return _current


def stdin_head(n: int) -> bytes:
    """The first ``n`` bytes of standard input (fewer if it ends first), still to be read by its reader."""
    return _stdin().ahead(n)


def stdin_stream() -> BinaryIO:
    """Standard input from its first byte, for the one reader that takes it."""
    return _stdin()  # type: ignore[return-value]  # (read() is all the readers use)
