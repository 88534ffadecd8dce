"""Standard input as an input (``-``): a capture stream or a log, told apart by its first bytes.

Its first bytes are read ahead and kept, so that what it holds can be recognised before the
reader that wants it reads it: the capture reader or a log reader then gets the whole of it,
those bytes included.  Standard input is read once; this module is the one place that reads it.

A command that reads its input twice (``report -Y``, the wordlist audit's pass, ``--export-pcapng``)
calls :func:`keep_copy` first: what the first reader reads is then also written to an anonymous
temporary file, and after :func:`rewind` the next reader reads that copy.  Disk, not memory, holds
it: a capture piped from ``ssh host tcpdump -w -`` can be as long as a file.
"""

from __future__ import annotations

import sys
import tempfile
from typing import BinaryIO

__all__ = ["StdinCopyError", "keep_copy", "kept", "rewind", "stdin_head", "stdin_stream"]


class StdinCopyError(OSError):
    """The copy of standard input could not be written (a full disk ...): no second reading."""


class _Stdin:
    """Standard input with the bytes read ahead in front (a binary stream for one reader)."""

    def __init__(self, origin: BinaryIO, source: BinaryIO | None = None) -> None:
        self.origin = origin  # the standard input this stands for
        #: What is read: standard input, or the copy of it read again (rewind).
        self.stream = source if source is not None else origin
        self.name = "<stdin>"
        self.head = b""
        self._pos = 0  # how much of ``head`` was read through ``read``
        self._eof = False
        #: Where what ``read`` hands out is also written (keep_copy), and why that stopped, if it did.
        self.copy: BinaryIO | None = None
        self.copy_error: str | None = None
        self.started = False  # whether read() handed out anything yet

    @property
    def replay(self) -> bool:
        """Whether this reads the copy again (rewind), not standard input."""
        return self.stream is not self.origin

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
        data = self._read(size)
        self.started = self.started or bool(data)
        if self.copy is not None and data and not self.replay:
            try:
                self.copy.write(data)
            except OSError as exc:  # this reading goes on; a second one is refused (rewind)
                self.copy_error = exc.strerror or str(exc)
                self.copy.close()
                self.copy = None
        return data

    def _read(self, size: int) -> bytes:
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
    if _current is None or _current.origin is not buffer:  # (a test may have replaced sys.stdin)
        _current = _Stdin(buffer)
    return _current


def keep_copy() -> None:
    """Keep what standard input's reader reads, for :func:`rewind` (call before it is read);
    StdinCopyError, before anything is read, when no temporary file can be made."""
    current = _stdin()
    if current.copy is None and current.copy_error is None and not current.started and not current.replay:
        try:
            # (lives as long as the run; the system deletes it when it is closed, or at exit)
            current.copy = tempfile.TemporaryFile(prefix="dmsniff-stdin-")  # noqa: SIM115
        except OSError as exc:
            raise StdinCopyError(f"standard input is read twice here, and no temporary file can hold it "
                                 f"({exc.strerror or exc}; TMPDIR chooses the folder)") from None


def kept() -> bool:
    """Whether standard input is being kept for a second reading (keep_copy)."""
    return _current is not None and _current.copy is not None


def rewind() -> None:
    """Have the next reader of standard input read again what the first one read, from the copy
    :func:`keep_copy` kept; StdinCopyError if it could not be kept."""
    global _current
    current = _stdin()
    copy = current.copy
    if copy is None:
        raise _not_again(current.copy_error or "it was not kept")
    try:
        if not current.replay:
            # What was read ahead but never taken (a reader that gave up on the first bytes) was
            # read from standard input all the same: the next reader sees it too.
            copy.write(current.head[current._pos:])
        copy.flush()
        copy.seek(0)
    except OSError as exc:
        raise _not_again(exc.strerror or str(exc)) from None
    again = _Stdin(current.origin, source=copy)
    again.copy = copy  # (not written to: a replay only reads; kept for the next rewind)
    _current = again


def _not_again(why: str) -> StdinCopyError:
    return StdinCopyError(f"standard input cannot be read a second time: its copy failed ({why})")


def stdin_head(n: int) -> bytes:
    """The first ``n`` bytes of standard input (fewer if it ends first), still to be read by its reader."""
    return _stdin().ahead(n)


def stdin_stream() -> BinaryIO:
    """Standard input from its first byte, for the one reader that takes it."""
    return _stdin()  # type: ignore[return-value]  # (read() is all the readers use)
