"""Safe XML parsing for SyncML bodies and a problem collector with per-kind limits.

The element helpers (``local``, ``text_of``, ...) and the safe parser are the generic ones
of the CWMP decoder.  SyncML adds one repair step: OMA DM UI alerts carry their options as
``MINDT=10&DR=1`` with a raw ``&`` (the Motorola/Android dmlib test messages do), which
libxml2's recover mode would silently drop together with the name after it.  So a document
that is not well-formed is first retried with bare ampersands escaped, and only then handed
to recover mode.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Final, TypeAlias

from decoders.cwmp._xml import Ctx, local, namespace, safe_tostring, text_of
from decoders.cwmp._xml import Element as LxmlElement
from decoders.cwmp._xml import parse_xml as _parse_xml

__all__ = [
    "LOCAL_NAMES",
    "Element",
    "LxmlElement",
    "Problems",
    "kids",
    "local",
    "local_name",
    "namespace",
    "parse_xml",
    "safe_tostring",
    "text_of",
]

if TYPE_CHECKING:
    from decoders.wbxml._node import Node

#: What the decoder walks: an lxml element, or the light tree of plain WBXML (``fast_tree``).
Element: TypeAlias = "LxmlElement | Node"

#: Repeated per-command/per-item problems of one kind are listed this many times, then counted.
PROBLEM_REPEAT_LIMIT: Final = 10


# Local names by tag: a message repeats a few dozen tags thousands of times.  Bounded, so that
# a hostile stream of made-up tags cannot grow it.
LOCAL_NAMES: dict[object, str] = {}
_MAX_LOCAL_NAMES: Final = 4096


def local_name(tag: object) -> str:
    """:func:`local` of an element's tag, cached ("" for comments and PIs, whose tag is a function).

    The hot loops ask ``LOCAL_NAMES.get(tag) or local_name(tag)``: a dict hit for a tag seen before.
    """
    name = LOCAL_NAMES.get(tag)
    if name is None:
        name = local(tag)
        if len(LOCAL_NAMES) < _MAX_LOCAL_NAMES:
            LOCAL_NAMES[tag] = name
    return name


def kids(el: Element) -> list[tuple[str, Element]]:
    """(local name, element) of each element child in order (comments and PIs left out).

    One pass, each tag read once: the walk dispatches on the names instead of asking each
    child for its tag again.
    """
    out: list[tuple[str, Element]] = []
    get = LOCAL_NAMES.get
    for c in el:
        tag = c.tag
        name = get(tag) or local_name(tag)
        if name:
            out.append((name, c))
    return out


class Problems(Ctx):
    """A :class:`Ctx` that lists a repeated kind of problem only ``PROBLEM_REPEAT_LIMIT`` times.

    A hostile or generated message with 100k commands lacking a CmdID must not produce 100k
    problem strings; the rest are summarised by :meth:`finish`.
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[tuple[str, str], int] = {}

    def limited(self, severity: str, kind: str, text: str) -> None:
        """Report ``text`` unless ``kind`` was already reported often enough."""
        key = (severity, kind)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= PROBLEM_REPEAT_LIMIT:
            getattr(self, severity)(text)

    def finish(self) -> tuple[str, ...]:
        """All problems, with one summary line per kind that went over the limit."""
        for (severity, kind), n in self._counts.items():
            if n > PROBLEM_REPEAT_LIMIT:
                getattr(self, severity)(f"{n - PROBLEM_REPEAT_LIMIT} more {kind} problems not listed")
        return tuple(self.problems)


# A bare "&" is one not starting an entity or character reference.  CDATA sections and
# comments are kept as they are: a "&" inside them is legal.
_BARE_AMP_RE: Final = re.compile(rb"&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][A-Za-z0-9_.-]*;)")
_CDATA_OPEN: Final = b"<![CDATA["
_COMMENT_OPEN: Final = b"<!--"
#: Text is escaped this many bytes at a time (cut before a "&", which no reference contains).
_BLOCK: Final = 1 << 16
#: Each bare "&" grows the text by 4 bytes; past this many per byte of body the repaired copy
#: would be more than 3x the body, and such a "document" is left to recover mode.
_MAX_AMP_SHARE: Final = 0.5


def _escape_text(data: bytes, view: memoryview, start: int, end: int, out: io.BytesIO) -> int:
    """Write ``view[start:end]`` to ``out`` with its bare ``&`` escaped; return how many were.

    One block at a time, so the work memory is a block whatever the text: ``re.sub`` over the
    whole text built a list of two objects per match, about 100 bytes per byte of a body full
    of "&" (issue 15).
    """
    count = 0
    while start < end:
        cut = data.find(b"&", start + _BLOCK, end) if end - start > _BLOCK else -1
        if cut < 0:
            cut = end
        if data.find(b"&", start, cut) < 0:
            out.write(view[start:cut])
        else:
            piece, n = _BARE_AMP_RE.subn(b"&amp;", view[start:cut])
            out.write(piece)
            count += n
        start = cut
    return count


def _escape_bare_amps(data: bytes) -> tuple[bytes, int]:
    """``data`` with every bare ``&`` outside CDATA sections and comments escaped, and how many.

    A streaming pass: text is copied (escaped) block by block into one output buffer, CDATA
    sections and comments as they are.  Time and memory are linear in the size of the body and
    the output is the only copy made.  An opener without its closer protects nothing, as
    before; once one kind has no closer left, later openers of that kind cannot have one either,
    so no closer is looked for twice over the same bytes.
    """
    out = io.BytesIO()
    view = memoryview(data)
    count = pos = 0
    n = len(data)
    cdata = data.find(_CDATA_OPEN)
    comment = data.find(_COMMENT_OPEN)
    while True:
        if cdata >= 0 and (comment < 0 or cdata < comment):
            opener, closer, at = _CDATA_OPEN, b"]]>", cdata
        elif comment >= 0:
            opener, closer, at = _COMMENT_OPEN, b"-->", comment
        else:
            break
        close = data.find(closer, at + len(opener))
        if close < 0:  # no closer after this opener, nor after any later one of its kind
            if opener is _CDATA_OPEN:
                cdata = -1
            else:
                comment = -1
            continue
        count += _escape_text(data, view, pos, at, out)
        pos = close + len(closer)
        out.write(view[at:pos])
        if 0 <= cdata < pos:
            cdata = data.find(_CDATA_OPEN, pos)
        if 0 <= comment < pos:
            comment = data.find(_COMMENT_OPEN, pos)
    count += _escape_text(data, view, pos, n, out)
    view.release()
    return out.getvalue(), count  # getvalue() hands over the buffer, without a copy


def _repair_amps(data: bytes) -> tuple[bytes, str]:
    amps = data.count(b"&")
    if not amps or amps > _MAX_AMP_SHARE * len(data):
        return data, ""
    fixed, count = _escape_bare_amps(data)
    return (fixed, f"{count} bare '&' read as '&amp;'") if count else (data, "")


def parse_xml(body: bytes, content_type: str | None, ctx: Ctx) -> Element | None:
    """Parse ``body`` safely: strict, then with bare ``&`` escaped, then in recover mode.

    Any fallback adds ``info: XML not well-formed, recovered: <first parser error>``;
    None (with an error) when nothing could be recovered.
    """
    return _parse_xml(body, content_type, ctx, repair=_repair_amps, recovered_as="info")
