"""How much of an XML body may become an lxml tree: the markup budget.

libxml2 spends about 120 bytes on every node, so the tree of a body is not proportional to
its size but to its markup: 16 MiB of ``<a/>x`` is four million elements and four million
text nodes, 1 GB; a million ``<string>x</string>`` take 230 MB; even a reference to an
undeclared entity (``&a;``, 3 bytes) becomes a node in recover mode.  A SOAP or SyncML body
holding more markup than any real message is cut before it is parsed, at the start of the
item that exceeds the budget, and the decoders say so; everything before the cut is decoded
as usual (recover mode closes what the cut left open).

The count is cheap: a few ``bytes.count`` when the body is within the budget (every real
message), else one regular-expression pass that counts only markup that makes nodes: start
tags, comments and processing instructions (``<`` not followed by ``/``), attributes
(``name="``) and entity references (``&name;``).  A bare ``&`` or ``a=b`` in text makes no
node and is not counted.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_MARKUP", "cut_note", "markup_cut"]

#: Start tags, attributes and entity references one body may hold.  Each costs 200-270 bytes
#: of tree at worst (measured with libxml2 2.14: an element and the text after it, an attribute
#: and its value, an undeclared reference), so at most ~85 MB of tree: with a 16 MiB body and
#: the records made from the tree, a decoding process stays under 200 MB.  Enough for the
#: SyncML decoder's 100,000 commands of the smallest kind (three elements each) and for a
#: 75,000-parameter GetParameterValuesResponse; real messages stay far below.
MAX_MARKUP: Final = 320_000

_MARKUP_RE: Final = re.compile(rb"""<[^/]|\s[^\s<>=/"']++\s*+=\s*+["']|&[A-Za-z_:][-A-Za-z0-9._:]*+;""")
_BLOCK: Final = 1 << 16  # counted this many bytes at a time: findall's list stays small


def markup_cut(body: bytes, limit: int = MAX_MARKUP) -> int | None:
    """The offset of the markup item that exceeds ``limit`` in ``body``, or None when there is
    no such item.  (A match that straddles two counting blocks may go uncounted: the budget is
    a bound on memory, not a measure of the document.)"""
    if len(body) <= limit:  # (every real message ends here: each item takes two bytes at least)
        return None
    count = body.count
    if count(b"<") + count(b"=") + count(b"&") <= limit or _upper_bound(body) <= limit:
        return None
    seen = 0
    view = memoryview(body)
    try:
        for start in range(0, len(body), _BLOCK):
            block = view[start : start + _BLOCK]
            n = len(_MARKUP_RE.findall(block))
            if seen + n > limit:
                for m in _MARKUP_RE.finditer(block):
                    seen += 1
                    if seen > limit:
                        return start + m.start()
            seen += n
    finally:
        view.release()
    return None


def _upper_bound(body: bytes) -> int:
    """At least the markup of ``body``, from byte counts alone (0.1 s for 16 MiB): a start
    tag is a "<" not followed by "/", an attribute needs "=" and a quote, a reference "&" and
    ";".  Text full of "&" or "=" (a bare "&" is not a reference) stays under it."""
    find = body.count
    tags = find(b"<") - find(b"</")
    attributes = min(find(b"="), find(b'"') + find(b"'"))
    references = min(find(b"&"), find(b";"))
    return tags + attributes + references


def cut_note(limit: int, cut: int, size: int) -> str:
    """The problem text for a body cut at ``cut``."""
    return (
        f"more than {limit} elements, attributes and entity references: only the first {cut} of"
        f" {size} bytes decoded"
    )
