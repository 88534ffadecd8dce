"""Recognising start lines: role sniffing and resynchronisation scans.

The scans never loop over bytes in Python.  A response line always begins with
``HTTP/1.`` and a request line always contains it, so candidates are found with
``bytes.find`` (C speed) and only those lines are matched against the full pattern.
"""

from __future__ import annotations

import re
from typing import Final

from ._abnf import (
    EMPTY_LINES,
    PREFIX_CHECK_LEN,
    REQUEST_LINE,
    REQUEST_LINE_PREFIX,
    STATUS_LINE,
    STATUS_LINE_PREFIX,
)
from ._events import Role

__all__ = ["find_resync_point", "find_start_line", "is_plausible_prefix", "scan_start_line", "sniff_role"]

_MARK: Final = b"HTTP/1."
_LF: Final = 10

# Evidence strong enough to call a stream's role from an unterminated first line.
_SNIFF_REQUEST: Final = re.compile(
    rb"(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE)[ \t]+[^\x00-\x20\x7f]"
)
_SNIFF_RESPONSE: Final = re.compile(rb"HTTP/1\.[0-9][ \t]+[0-9]{3}")

# A request line glued to the end of something else (a body without trailing newline):
# only well-known methods, so that the method is not confused with the bytes before it.
_GLUED_REQUEST: Final = re.compile(
    rb"(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE)"
    rb"[ \t]+[^\x00-\x20\x7f]+[ \t]+HTTP/1\.[0-9][ \t]*\r?\Z"
)


def is_plausible_prefix(data: bytes | bytearray, role: Role, start: int, end: int) -> bool:
    """Can ``data[start:end]`` (a line without its LF) still grow into a start line?"""
    prefix = REQUEST_LINE_PREFIX if role is Role.CLIENT else STATUS_LINE_PREFIX
    return prefix.fullmatch(data, start, min(end, start + PREFIX_CHECK_LEN)) is not None


def scan_start_line(data: bytes | bytearray, role: Role | None, pos: int) -> int:
    """First line start at or after ``pos`` that holds a start line (of either role when
    ``role`` is None), or -1.

    ``pos`` must itself be a line start; other line starts are the bytes after an LF.
    A complete line (LF-terminated) must match the full pattern; the unterminated last
    line only has to be a plausible prefix (non-empty).
    """
    size = len(data)
    if pos >= size:
        return -1
    i = data.find(_MARK, pos)
    if role is Role.SERVER:
        while i >= 0:
            if i == pos or data[i - 1] == _LF:
                eol = data.find(b"\n", i)
                if eol < 0:
                    break  # the tail check below decides
                if STATUS_LINE.fullmatch(data, i, eol):
                    return i
            i = data.find(_MARK, i + 1)
    else:
        # Either role in one pass, each line with a mark looked at once: the earliest of two
        # scans, one per role, costs one of them a scan to the end of the data when only the
        # other's lines follow (a dump whose responses are glued to the bodies before them).
        either = role is None
        while i >= 0:
            eol = data.find(b"\n", i)
            if eol < 0:
                break
            line = data.rfind(b"\n", pos, i) + 1 or pos
            if REQUEST_LINE.fullmatch(data, line, eol) or (
                    either and line == i and STATUS_LINE.fullmatch(data, i, eol)):
                return line
            i = data.find(_MARK, eol)
    tail = data.rfind(b"\n", pos) + 1 or pos
    if tail < size and any(is_plausible_prefix(data, r, tail, size)
                           for r in ((Role.CLIENT, Role.SERVER) if role is None else (role,))):
        return tail
    return -1


def find_start_line(data: bytes | bytearray, role: Role | None, pos: int = 0) -> int:
    """Index of the next plausible start line for ``role`` (None: either) at or after ``pos``, or -1.

    Candidates begin at the start of ``data`` or right after an LF.  A complete line must
    be a valid request line (CLIENT) or status line (SERVER); an unterminated last line
    counts if it can still become one (e.g. ``b"HTTP/1.1 2"``), so that a caller
    scanning a growing buffer keeps that tail.
    """
    if pos < 0:
        pos = 0
    if pos > 0 and (pos > len(data) or data[pos - 1] != _LF):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return -1
    return scan_start_line(data, role, pos)


def sniff_role(data: bytes | bytearray) -> Role | None:
    """Does ``data`` (the first bytes of a stream) begin with a request or a status line?

    Leading empty lines are ignored.  If the first line is complete it must match the
    full pattern; if it is not, the known prefix must already be convincing: a common
    method and the start of a target, or ``HTTP/1.x`` and a status code.  None means
    "not (yet) recognisable as HTTP/1.x".
    """
    m = EMPTY_LINES.match(data)
    start = m.end() if m else 0
    eol = data.find(b"\n", start)
    if eol >= 0:
        if REQUEST_LINE.fullmatch(data, start, eol):
            return Role.CLIENT
        if STATUS_LINE.fullmatch(data, start, eol):
            return Role.SERVER
        return None
    end = len(data)
    if _SNIFF_RESPONSE.match(data, start) and is_plausible_prefix(data, Role.SERVER, start, end):
        return Role.SERVER
    if _SNIFF_REQUEST.match(data, start) and is_plausible_prefix(data, Role.CLIENT, start, end):
        return Role.CLIENT
    return None


def find_resync_point(data: bytes | bytearray, role: Role, pos: int, end: int, line_start: bool,
                      max_len: int, glued: bool = True) -> int:
    """First message start in the complete lines of ``data[pos:end]`` (``data[end - 1]``
    must be LF), or -1.  Used by the parser while resynchronising.

    Wider than :func:`find_start_line`: message boundaries rarely fall on line starts
    after a gap or a capture that began mid-connection, because bodies seldom end with a
    newline.  So a status line may begin anywhere in a line, and a request line anywhere
    if its method is a well-known one (at a line start, any token will do).  ``pos`` is a
    line start if ``line_start``; a candidate line longer than ``max_len`` is ignored.
    With ``glued=False`` only line starts count.
    """
    i = data.find(_MARK, pos, end)
    if role is Role.SERVER:
        while i >= 0:
            eol = data.find(b"\n", i, end)
            if ((glued or (i == pos and line_start) or (i > pos and data[i - 1] == _LF))
                    and eol - i <= max_len and STATUS_LINE.fullmatch(data, i, eol)):
                return i
            i = data.find(_MARK, i + 1, end)
        return -1
    while i >= 0:
        eol = data.find(b"\n", i, end)
        lf = data.rfind(b"\n", pos, i)
        first = lf + 1 if lf >= 0 else pos
        if (lf >= 0 or line_start) and eol - first <= max_len and REQUEST_LINE.fullmatch(data, first, eol):
            return first
        m = _GLUED_REQUEST.search(data, first, eol) if glued else None
        while m is not None:
            if eol - m.start() <= max_len:
                return m.start()
            m = _GLUED_REQUEST.search(data, m.start() + 1, eol)
        i = data.find(_MARK, eol + 1, end)
    return -1
