"""Small lxml helpers: safe parsing, namespace-agnostic child lookup, value conversion.

Everything here works on local names, so prefixes never matter, and reports malformed
values to a :class:`Ctx` instead of raising.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Protocol, TypeAlias, cast

from lxml import etree

from .._strings import share

__all__ = ["Ctx", "children", "clean_document", "local", "parse_datetime", "parse_xml", "safe_tostring"]

Element: TypeAlias = etree._Element  # explicit: the compiled build reads lxml as Any (setup.py)


class TextNode(Protocol):
    """What :func:`text_of` reads: an lxml element, or a light tree node (``decoders.wbxml.fast_tree``)."""

    @property
    def text(self) -> str | None: ...
    @property
    def tail(self) -> str | None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[TextNode]: ...


class Ctx:
    """Collects the problems of one decode."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[str] = []

    def error(self, text: str) -> None:
        self.problems.append("error: " + _one_line(text))

    def warning(self, text: str) -> None:
        self.problems.append("warning: " + _one_line(text))

    def info(self, text: str) -> None:
        self.problems.append("info: " + _one_line(text))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


# ---------------------------------------------------------------- parsing

#: Charsets (codecs.lookup names) that read ASCII bytes as ASCII.
_ASCII_SUPERSETS: Final = frozenset({"utf-8", "ascii", "iso8859-1", "cp1252"})
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def _parser(recover: bool, encoding: str | None) -> etree.XMLParser:
    """The safe parser for these settings: made once, then reused (a parse with a parser made for it
    cost 3-4 µs more, a tenth of parsing a CWMP body).  lxml locks a parser while it parses, so
    threads may share it (its docs: harmless, if slower than a parser each)."""
    key = (recover, encoding)
    parser = _PARSERS.get(key)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            recover=recover,
            encoding=encoding,
        )
        if len(_PARSERS) < 8:  # (encoding is None or "utf-8": four at most)
            _PARSERS[key] = parser
    return parser


_PARSERS: dict[tuple[bool, str | None], etree.XMLParser] = {}


#: A repair tried on a document that is not well-formed before recover mode: the fixed bytes
#: and a note saying what was fixed ("" when nothing was).
Repair = Callable[[bytes], tuple[bytes, str]]


def parse_xml(
    body: bytes,
    content_type: str | None,
    ctx: Ctx,
    *,
    repair: Repair | None = None,
    recovered_as: str = "warning",
) -> Element | None:
    """Parse ``body`` safely: strict first, then ``repair``ed (if given), then in recover mode.

    A Content-Type charset overrides the XML declaration, as in HTTP.  Any fallback adds
    ``<recovered_as>: XML not well-formed, recovered: <first parser error>``; None (with an
    error) when nothing could be recovered.
    """
    data = body
    encoding: str | None = None
    if content_type:
        m = _CHARSET_RE.search(content_type)
        if m:
            charset = m.group(1)
            try:
                codec = codecs.lookup(charset)
                # Nearly every body is ASCII under an ASCII-compatible charset: it is its own UTF-8
                # (no copy decoded and encoded again: 2% of a CWMP report's CPU).
                text = None if codec.name in _ASCII_SUPERSETS and body.isascii() else body.decode(
                    charset, errors="replace")
            except (LookupError, ValueError, TypeError):  # also non-text codecs such as "hex"
                ctx.warning(f"unknown charset {charset!r} in Content-Type, using the XML declaration")
            else:
                if text is not None:
                    if "\ufffd" in text and b"\xef\xbf\xbd" not in body:
                        ctx.warning(f"body is not valid {charset}; undecodable bytes replaced")
                    # (A decoder such as UTF-7 can hand back a lone surrogate, which UTF-8 cannot hold.)
                    data = text.encode("utf-8", "replace")
                encoding = "utf-8"  # overrides the XML declaration
    try:
        return etree.fromstring(data, _parser(False, encoding))
    except etree.XMLSyntaxError as exc:
        first = str(exc)
    recovered = getattr(ctx, recovered_as)
    # Characters XML cannot hold (a reference to a surrogate, a control character) make
    # libxml2 fail, or hand back text Python cannot decode: replace them before going on, so
    # one bad character costs a note, never the message.
    cleaned = clean_document(data, encoding)
    if cleaned is not None:
        data, replaced = cleaned
        encoding = "utf-8"
        ctx.warning(f"{replaced} character(s) XML cannot hold replaced by U+FFFD")
        try:
            root = etree.fromstring(data, _parser(False, encoding))
        except etree.XMLSyntaxError:
            pass
        else:
            return root
    if repair is not None:
        fixed, note = repair(data)
        if note:
            try:
                root = etree.fromstring(fixed, _parser(False, encoding))
            except etree.XMLSyntaxError:
                data = fixed  # still broken: let recover mode work on the better text
            else:
                recovered(f"XML not well-formed, recovered: {first} ({note})")
                return root
    try:
        root = cast("Element | None", etree.fromstring(data, _parser(True, encoding)))
    except etree.XMLSyntaxError as exc:
        ctx.error(f"XML not parseable: {first}; recovery failed: {exc}")
        return None
    if root is None:
        ctx.error(f"XML not parseable: {first}")
        return None
    recovered(f"XML not well-formed, recovered: {first}")
    return root


#: Characters XML 1.0 cannot hold (§2.2): C0 controls but tab, LF and CR; lone surrogates; U+FFFE/F.
# Escapes for the regex engine, not the string: mypyc cannot compile lone surrogates in a literal.
_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _xml_char(cp: int) -> bool:
    return cp in (9, 10, 13) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def _decode_document(data: bytes, encoding: str | None) -> str:
    """The document as text: ``encoding``, else its BOM or declaration, else UTF-8; never raises."""
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            encoding, data = "utf-8", data[3:]
        elif data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            encoding = "utf-16"
        else:
            m = _DECLARED.match(data[:256])
            encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return data.decode(encoding, "replace")
    except (LookupError, ValueError, TypeError):
        return data.decode("utf-8", "replace")


def clean_document(data: bytes, encoding: str | None) -> tuple[bytes, int] | None:
    """``data`` as UTF-8 with every character, or character reference, that XML cannot hold
    replaced by U+FFFD, and how many were; None when there was none.

    Linear in the size of the document, in time and memory (no per-match objects are kept).
    """
    text = _decode_document(data, encoding)
    replaced = 0
    if "&#" in text:
        out = io.StringIO()  # written as it goes: memory is the output, whatever the matches
        pos = 0
        for m in _CHAR_REF.finditer(text):
            hex_digits, dec_digits = m.group(1), m.group(2)
            digits = hex_digits or dec_digits
            cp = int(digits, 16 if hex_digits else 10) if len(digits) <= 8 else -1
            if cp < 0 or not _xml_char(cp):
                out.write(text[pos:m.start()])
                out.write("\ufffd")
                pos = m.end()
                replaced += 1
        if replaced:
            out.write(text[pos:])
            text = out.getvalue()
    text, n = _INVALID_CHARS.subn("\ufffd", text)
    replaced += n
    if not replaced:
        return None
    return text.encode("utf-8"), replaced


def safe_tostring(el: Element, pretty: bool = False) -> str:
    """An element serialised as text, whatever its content (bytes XML cannot hold are replaced)."""
    raw = etree.tostring(el, encoding="utf-8", pretty_print=pretty, with_tail=False)
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------------- element access


def local(tag: object) -> str:
    """Local name of an element tag ("" for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return share(tag.rpartition("}")[2])  # (one str per name, for every record that keeps it)


def namespace(tag: object) -> str | None:
    if isinstance(tag, str) and tag.startswith("{"):
        return share(tag[1:].partition("}")[0])
    return None


def children(el: Element) -> Iterator[Element]:
    """Element children only (no comments or PIs)."""
    return el.iterchildren(etree.Element)


def child(el: Element, name: str) -> Element | None:
    """First element child with local name ``name``, whatever its namespace."""
    suffix = "}" + name
    for c in el.iterchildren(etree.Element):
        tag = c.tag
        if tag == name or tag.endswith(suffix):
            return c
    return None


def text_of(el: TextNode | None) -> str:
    """The element's own text nodes joined (XPath ``text()``), without its children's text."""
    if el is None:
        return ""
    text = el.text or ""
    if len(el):  # text after a child element or comment is that child's tail
        text += "".join(c.tail or "" for c in el)
    return text


def child_text(el: Element, name: str) -> str:
    return text_of(child(el, name))


def opt_text(el: Element, name: str) -> str | None:
    c = child(el, name)
    return None if c is None else text_of(c)


def attr_local(el: Element, name: str) -> str | None:
    """Value of the attribute with local name ``name``, whatever its namespace."""
    for key, value in el.attrib.items():
        if local(key) == name:
            return str(value)
    return None


def strip_prefix(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip().rpartition(":")[2]


# ---------------------------------------------------------------- values


def to_int(raw: str | None, what: str, ctx: Ctx) -> int | None:
    if raw is None:
        return None
    s = raw.strip()
    digits = s[1:] if s[:1] in "+-" else s
    if digits.isascii() and digits.isdigit() and len(digits) <= 20:
        return int(s)
    ctx.warning(f"{what}: not an integer: {raw[:60]!r}")
    return None


def to_bool(raw: str | None, what: str, ctx: Ctx) -> bool | None:
    if raw is None:
        return None
    s = raw.strip().lower()
    if s in ("1", "true"):
        return True
    if s in ("0", "false"):
        return False
    ctx.warning(f"{what}: not a boolean: {raw[:60]!r}")
    return None


_DT_RE = re.compile(
    r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?",
    re.ASCII,
)


def parse_datetime(raw: str) -> datetime | None:
    """xsd:dateTime to datetime (naive without a zone; fractions cut to microseconds)."""
    m = _DT_RE.fullmatch(raw.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    tz: timezone | None = None
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        hh, mm = int(zone[1:3]), int(zone[4:6])
        if hh > 23 or mm > 59:
            return None
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except (ValueError, OverflowError):
        return None


def check_time(raw: str | None, what: str, ctx: Ctx) -> datetime | None:
    if raw is None:
        return None
    dt = parse_datetime(raw)
    if dt is None:
        ctx.warning(f"{what}: not an xsd:dateTime: {raw[:60]!r}")
    elif dt.tzinfo is None:
        ctx.info(f"{what} has no time zone: {raw.strip()!r}")
    return dt
