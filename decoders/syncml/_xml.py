"""Safe XML parsing for SyncML bodies and a problem collector with per-kind limits.

The element helpers (``local``, ``text_of``, ...) are the generic ones of the CWMP decoder.
Parsing is our own because SyncML needs one more step than CWMP: OMA DM UI alerts carry
their options as ``MINDT=10&DR=1`` with a raw ``&`` (the Motorola/Android dmlib test
messages do), which libxml2's recover mode would silently drop together with the name
after it.  So a document that is not well-formed is first retried with bare ampersands
escaped, and only then handed to recover mode.
"""

from __future__ import annotations

import codecs
import re
from typing import Final, cast

from lxml import etree

from decoders.cwmp._xml import Ctx, Element, local, namespace, text_of

__all__ = ["Element", "Problems", "local", "namespace", "parse_xml", "text_of"]

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


_CHARSET_RE: Final = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
# A bare "&" is one not starting an entity or character reference.  CDATA sections and
# comments are matched first and kept as they are: a "&" inside them is legal.
_BARE_AMP_RE: Final = re.compile(
    rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][A-Za-z0-9_.-]*;)", re.DOTALL
)


def _parser(recover: bool, encoding: str | None) -> etree.XMLParser:
    # No entities, no DTD, no network: a SyncML body is untrusted input (XXE, billion laughs).
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=recover,
        encoding=encoding,
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


def _transcode(body: bytes, content_type: str | None, ctx: Ctx) -> tuple[bytes, str | None]:
    """Apply a Content-Type charset (it overrides the XML declaration, as in HTTP)."""
    if not content_type:
        return body, None
    m = _CHARSET_RE.search(content_type)
    if m is None:
        return body, None
    charset = m.group(1)
    try:
        codecs.lookup(charset)
        text = body.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):  # also non-text codecs such as "hex"
        ctx.warning(f"unknown charset {charset!r} in Content-Type, using the XML declaration")
        return body, None
    if "\ufffd" in text and b"\xef\xbf\xbd" not in body:
        ctx.warning(f"body is not valid {charset}; undecodable bytes replaced")
    return text.encode("utf-8"), "utf-8"


def parse_xml(body: bytes, content_type: str | None, ctx: Ctx) -> Element | None:
    """Parse ``body`` safely: strict, then with bare ``&`` escaped, then in recover mode.

    Any fallback adds ``info: XML not well-formed, recovered: <first parser error>``;
    None (with an error) when nothing could be recovered.
    """
    data, encoding = _transcode(body, content_type, ctx)
    try:
        return etree.fromstring(data, _parser(False, encoding))
    except etree.XMLSyntaxError as exc:
        first = str(exc)
    if b"&" in data:
        fixed, count = _escape_bare_amps(data)
        if count:
            try:
                root = etree.fromstring(fixed, _parser(False, encoding))
            except etree.XMLSyntaxError:
                data = fixed  # still broken: let recover mode work on the better text
            else:
                ctx.info(f"XML not well-formed, recovered: {first} ({count} bare '&' read as '&amp;')")
                return root
    try:
        root = cast("Element | None", etree.fromstring(data, _parser(True, encoding)))
    except etree.XMLSyntaxError as exc:
        ctx.error(f"XML not parseable: {first}; recovery failed: {exc}")
        return None
    if root is None:
        ctx.error(f"XML not parseable: {first}")
        return None
    ctx.info(f"XML not well-formed, recovered: {first}")
    return root
