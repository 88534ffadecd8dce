"""Safe XML parsing for SyncML bodies and a problem collector with per-kind limits.

The element helpers (``local``, ``text_of``, ...) and the safe parser are the generic ones
of the CWMP decoder.  SyncML adds one repair step: OMA DM UI alerts carry their options as
``MINDT=10&DR=1`` with a raw ``&`` (the Motorola/Android dmlib test messages do), which
libxml2's recover mode would silently drop together with the name after it.  So a document
that is not well-formed is first retried with bare ampersands escaped, and only then handed
to recover mode.
"""

from __future__ import annotations

import re
from typing import Final

from decoders.cwmp._xml import Ctx, Element, local, namespace, safe_tostring, text_of
from decoders.cwmp._xml import parse_xml as _parse_xml

__all__ = ["Element", "Problems", "local", "namespace", "parse_xml", "safe_tostring", "text_of"]

#: Repeated per-command/per-item problems of one kind are listed this many times, then counted.
PROBLEM_REPEAT_LIMIT: Final = 10


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
# comments are matched first and kept as they are: a "&" inside them is legal.
_BARE_AMP_RE: Final = re.compile(
    rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][A-Za-z0-9_.-]*;)", re.DOTALL
)


def _escape_bare_amps(data: bytes) -> tuple[bytes, int]:
    count = 0

    def repl(m: re.Match[bytes]) -> bytes:
        nonlocal count
        if m.group(1) is not None:
            return m.group(1)
        count += 1
        return b"&amp;"

    return _BARE_AMP_RE.sub(repl, data), count


def _repair_amps(data: bytes) -> tuple[bytes, str]:
    if b"&" not in data:
        return data, ""
    fixed, count = _escape_bare_amps(data)
    return fixed, f"{count} bare '&' read as '&amp;'" if count else ""


def parse_xml(body: bytes, content_type: str | None, ctx: Ctx) -> Element | None:
    """Parse ``body`` safely: strict, then with bare ``&`` escaped, then in recover mode.

    Any fallback adds ``info: XML not well-formed, recovered: <first parser error>``;
    None (with an error) when nothing could be recovered.
    """
    return _parse_xml(body, content_type, ctx, repair=_repair_amps, recovered_as="info")
