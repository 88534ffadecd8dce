"""fast_element(): plain SyncML WBXML straight to the lxml element :func:`to_element` gives.

What DM stacks send is almost always the plain case: WBXML 1.1-1.3 with a numeric SyncML public
id, UTF-8, no string table, token tags only, no attributes, inline strings and OPAQUE values.
For that case this reader writes the XML text of :func:`decoders.wbxml.to_element` in one pass
over the bytes and lets libxml2 parse it, instead of building the :class:`Element` tree and
then an lxml tree node by node from Python (about 450 µs a 100-element message, against 60).

It gives up (None) on anything else, and on anything the full decoder would report a problem
for, so the answer is always either None or exactly ``to_element(decode(data))`` of a document
without problems: header variants, string tables, LITERAL or unknown tags, attributes, ENTITY,
PI, extensions, code pages the language lacks, an OPAQUE in ``<Data>`` that the decoder would
try as an embedded document, any ``+wbxml`` text (the Meta/Type rewriting), text that is not
UTF-8, truncation, bytes after the root, or the decoder's depth and node limits.
``tests/decoders/wbxml/test_fast.py`` compares both on generated, sample and mutated messages.
"""

from __future__ import annotations

import base64
from typing import Final

from lxml import etree

from ._render import _C0_BYTES, _XML_ILLEGAL, _doctype, _parser, _xml_name
from ._tables import END, LANGUAGES, OPAQUE, PUBLIC_IDS, STR_I, SWITCH_PAGE, SYNCML_LANGUAGES, Language

__all__ = ["fast_element"]

_MAX_DEPTH: Final = 64  # decode()'s default: deeper elements are a problem
# decode()'s default max_nodes; every node takes a byte at least, so within this size decode()
# can run out of neither nodes nor steps.
_MAX_SIZE: Final = 100_000
_UTF8: Final = 106
_NEXTNONCE: Final = (1, 0x10)  # MetInf <NextNonce>: an OPAQUE there is always base64
_SPECIAL: Final = (b"&", b"<", b">", b"\r")
_PARSER: Final = _parser()


class _Tag:
    """One token tag of a language, with its XML pieces."""

    __slots__ = ("close", "empty", "is_data", "is_nonce", "name", "open")

    def __init__(self, name: str, page: int, token: int) -> None:
        self.name = name.encode("utf-8")  # the XML name to_element gives it ("Reserved for ...")
        self.open = b"<" + self.name + b">"
        self.empty = b"<" + self.name + b"/>"
        self.close = b"</" + self.name + b">"
        self.is_data = name == "Data"
        self.is_nonce = (page, token) == _NEXTNONCE


#: Per language: per code page, the 64 tag tokens (None where the page has no such token).
_TABLES: dict[str, dict[int, list[_Tag | None]]] = {}


def _table(language: Language) -> dict[int, list[_Tag | None]]:
    table = _TABLES.get(language.name)
    if table is None:
        table = _TABLES[language.name] = {
            page: [_Tag(_xml_name(names[t]), page, t) if t in names else None for t in range(64)]
            for page, names in language.tags.items()
        }
    return table


def _mb_u_int32(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); (-1, pos) when malformed or over 32 bits."""
    value = 0
    for i in range(pos, min(pos + 5, len(data))):
        b = data[i]
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return (value, i + 1) if value <= 0xFFFFFFFF else (-1, pos)
    return -1, pos


def _escape(raw: bytes) -> bytes:
    """UTF-8 text as XML text content that parses back to it (a literal CR would be read as LF)."""
    return raw.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;").replace(b"\r", b"&#13;")


def fast_element(data: bytes) -> tuple[etree._Element, int] | None:
    """(root element, public id) of a plain SyncML WBXML document, or None (use the full decoder)."""
    try:
        return _fast(data)
    except (IndexError, UnicodeDecodeError):  # truncated, or text not UTF-8: not the plain case
        return None


def _fast(data: bytes) -> tuple[etree._Element, int] | None:
    n = len(data)
    if n < 5 or n > _MAX_SIZE or not 1 <= data[0] <= 3 or data[1] == 0 or b"wbxml" in data:
        return None
    public_id, pos = _mb_u_int32(data, 1)
    entry = PUBLIC_IDS.get(public_id)
    if entry is None or entry.language is None or entry.language not in SYNCML_LANGUAGES:
        return None
    charset, pos = _mb_u_int32(data, pos)
    if charset != _UTF8 or data[pos] != 0:  # UTF-8 and an empty string table
        return None
    pos += 1
    language = LANGUAGES[entry.language]
    doctype = _doctype(language.name)
    if doctype is None:
        return None
    table = _table(language)
    namespaces = {page: ns.encode("utf-8") for page, ns in language.namespaces.items()}
    page = 0
    while data[pos] == SWITCH_PAGE:
        page = data[pos + 1]
        pos += 2
    tokens = table.get(page)
    escape = any(c in data for c in _SPECIAL)  # else no text needs escaping (most messages)
    out: list[bytes] = [doctype.encode("ascii")]
    append = out.append
    find = data.find
    # Open elements: (tag, its code page, its namespace).
    stack: list[tuple[_Tag, int, bytes | None]] = []
    b = data[pos]
    if b & 0x80 or b & 0x3F <= 4:  # the root is not a token tag
        return None
    while True:
        if b == END:
            pos += 1
            append(stack.pop()[0].close)
            if not stack:
                break
        elif b == STR_I:
            end = find(b"\x00", pos + 1)
            if end < 0:
                return None
            append(_escape(data[pos + 1 : end]) if escape else data[pos + 1 : end])
            pos = end + 1
        elif b < 0x80 and b & 0x3F > 4:  # a token tag without attributes
            tag = tokens[b & 0x3F] if tokens is not None else None
            if tag is None or len(stack) >= _MAX_DEPTH:
                return None
            pos += 1
            # wbxml2xml's xmlns: on the root, and where the code page changes (see decode()).
            if stack:
                _, parent_page, parent_ns = stack[-1]
                ns = namespaces.get(page, parent_ns) if parent_page != page else parent_ns
            else:
                ns, parent_ns = namespaces.get(page), None
            if ns is not None and ns != parent_ns:
                append(b"<" + tag.name + b' xmlns="' + ns + (b'">' if b & 0x40 else b'"/>'))
            else:
                append(tag.open if b & 0x40 else tag.empty)
            if b & 0x40:
                stack.append((tag, page, ns))
            elif not stack:
                break
        elif b == SWITCH_PAGE:
            page = data[pos + 1]
            tokens = table.get(page)
            if tokens is None:
                return None
            pos += 2
        elif b == OPAQUE:
            length, pos = _mb_u_int32(data, pos + 1)
            if length < 0 or length > n - pos:
                return None
            raw = data[pos : pos + length]
            pos += length
            top = stack[-1][0]
            if top.is_data and length >= 4 and raw[0] <= 3:
                return None  # decode() would try it as an embedded WBXML document
            if top.is_nonce or _C0_BYTES.search(raw):
                append(base64.b64encode(raw))
            else:  # text if UTF-8 of XML characters, as to_element shows it; checked below
                append(_escape(raw) if escape else raw)
        else:
            return None
        b = data[pos]  # past the end: IndexError, truncated
    if pos != n:
        return None
    xml = b"".join(out)
    if _XML_ILLEGAL.search(xml.decode("utf-8")):  # (invalid UTF-8 raises: decode() replaces it)
        return None
    return etree.fromstring(xml, _PARSER), public_id
