"""Byte-level grammar of HTTP/1.x start lines and chunk lines (RFC 9112), as compiled regexes.

The patterns are lenient where real devices are sloppy (several spaces or tabs between
fields, LF without CR, trailing whitespace, raw non-ASCII in the target), and strict
where being strict is what lets the parser find message boundaries again (the version
must be ``HTTP/1.<digit>``, the status exactly three digits).

Every "full" pattern comes with a *prefix* pattern that accepts exactly the strings that
can still be extended into a match.  The parser applies it to a start line that has not
seen its LF yet, so that garbage is rejected at once instead of after ``max_head`` bytes.
Prefix patterns are only applied to the first :data:`PREFIX_CHECK_LEN` bytes of a line,
which keeps every check O(1) whatever the line length.

No pattern can backtrack more than linearly: adjacent repeats never share characters.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CHUNK_LINE",
    "CHUNK_LINE_PREFIX",
    "EMPTY_LINES",
    "HEAD_END",
    "PREFIX_CHECK_LEN",
    "REQUEST_LINE",
    "REQUEST_LINE_PREFIX",
    "STATUS_LINE",
    "STATUS_LINE_PREFIX",
]

PREFIX_CHECK_LEN: Final = 256

_TCHAR: Final = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
_WS: Final = rb"[ \t]"
_TARGET_CHAR: Final = rb"[^\x00-\x20\x7f]"


def _chain(*atoms: bytes) -> bytes:
    """Pattern for any prefix of ``atoms[0] atoms[1] ...``: each atom whole or not at all.

    Valid only if any non-empty prefix of an atom's match is itself a match of the atom
    (single characters and ``X+`` satisfy this), or for the last atom if its language is
    prefix-closed.
    """
    out = b""
    for atom in reversed(atoms):
        out = b"(?:" + atom + out + b")?"
    return out


_VERSION_ATOMS: Final = (b"H", b"T", b"T", b"P", b"/", b"1", rb"\.")

#: ``method SP target SP HTTP/1.x``, without the LF (match with ``fullmatch(buf, start, eol)``).
REQUEST_LINE: Final = re.compile(
    b"(" + _TCHAR + b"+)" + _WS + b"+(" + _TARGET_CHAR + b"+)" + _WS + rb"+(HTTP/1\.[0-9])[ \t]*\r?"
)
REQUEST_LINE_PREFIX: Final = re.compile(
    _chain(_TCHAR + b"+", _WS + b"+", _TARGET_CHAR + b"+", _WS + b"+", *_VERSION_ATOMS, rb"[0-9][ \t]*\r?")
)

#: ``HTTP/1.x SP 3DIGIT [SP reason]``, without the LF.  The reason keeps trailing whitespace
#: (strip it in Python: a lazy group would make the match quadratic on runs of spaces).
STATUS_LINE: Final = re.compile(rb"(HTTP/1\.[0-9])[ \t]+([0-9]{3})(?:[ \t]([^\r\n]*))?\r?")
STATUS_LINE_PREFIX: Final = re.compile(
    _chain(*_VERSION_ATOMS, b"[0-9]", _WS + b"+", b"[0-9]", b"[0-9]", rb"[0-9](?:[ \t][^\r\n]*)?\r?")
)

#: ``chunk-size [ext] CRLF`` (chunk extensions are ignored), without the LF.
CHUNK_LINE: Final = re.compile(rb"[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?")
CHUNK_LINE_PREFIX: Final = re.compile(rb"[ \t]*(?:[0-9A-Fa-f]+(?:[ \t]*(?:;[^\r\n]*)?\r?)?)?")

#: The empty line that ends a head or a trailer section: search from the LF of the last line.
HEAD_END: Final = re.compile(rb"\n\r?\n")

#: Empty lines tolerated before a start line (RFC 9112 section 2.2).
EMPTY_LINES: Final = re.compile(rb"[\r\n]+")
