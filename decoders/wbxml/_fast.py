"""fast_tree() / fast_element(): plain SyncML WBXML straight to the tree :func:`to_element` gives.

What DM stacks send is almost always the plain case: WBXML 1.1-1.3 with a numeric SyncML public
id, UTF-8, no string table, token tags only, no attributes, inline strings and OPAQUE values.
For that case :func:`fast_tree` reads the bytes in one pass into a light tree of
:class:`~decoders.wbxml._node.Node`, which is all the SyncML decoder needs, and
:func:`fast_element` writes that tree's XML text and lets libxml2 parse it, for an lxml element
(the full way builds the :class:`Element` tree and then an lxml tree node by node from Python:
about 450 µs a 100-element message).  Compiled, on the benchmark's OMA DM mix (about 100
elements a message): the tree 55 µs and the SyncML walk over it 52 µs, where writing the XML
for libxml2 cost 83 µs and the walk over the lxml element 90 µs; ``fast_element`` now costs
163 µs, and the decoder only asks for it when a ``<Data>`` holds elements.

It gives up (None) on anything else, and on anything the full decoder would report a problem
for, so the answer is always either None or exactly ``to_element(decode(data))`` of a document
without problems: header variants, string tables, LITERAL or unknown tags, attributes, ENTITY,
PI, extensions, code pages the language lacks, an OPAQUE in ``<Data>`` that the decoder would
try as an embedded document, any ``+wbxml`` text (the Meta/Type rewriting), text that is not
UTF-8 or not XML characters, truncation, bytes after the root, or the decoder's depth and node
limits.  ``tests/decoders/wbxml/test_fast.py`` compares both on generated, sample and mutated
messages.
"""

from __future__ import annotations

import base64
from typing import Final

from lxml import etree

from ._node import Node
from ._render import _C0_BYTES, _XML_ILLEGAL, _doctype, _parser, _qname, _xml_name
from ._tables import END, LANGUAGES, OPAQUE, PUBLIC_IDS, STR_I, SWITCH_PAGE, SYNCML_LANGUAGES, Language

__all__ = ["fast_element", "fast_tree", "to_xml_bytes", "tree_element"]

_MAX_DEPTH: Final = 64  # decode()'s default: deeper elements are a problem
# decode()'s default max_nodes; every node takes a byte at least, so within this size decode()
# can run out of neither nodes nor steps.
_MAX_SIZE: Final = 100_000
_UTF8: Final = 106
_NEXTNONCE: Final = (1, 0x10)  # MetInf <NextNonce>: an OPAQUE there is always base64
_PARSER: Final = _parser()


class _Tag:
    """One token tag of a language."""

    __slots__ = ("clark", "is_data", "is_nonce", "name")

    def __init__(self, name: str, page: int, token: int) -> None:
        self.name = name  # the XML name to_element gives it ("Reserved for ...")
        self.is_data = name == "Data"
        self.is_nonce = (page, token) == _NEXTNONCE
        #: Clark name by namespace: one str each (a str keeps its hash), so the decoder's dict
        #: lookups by tag do not hash a new string per element.
        self.clark: dict[str | None, str] = {}

    def tag_in(self, ns: str | None) -> str:
        clark = self.clark.get(ns)
        if clark is None:
            clark = self.clark[ns] = _qname(self.name, ns)
        return clark


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


def _escape(text: str) -> str:
    """Text as XML text content that parses back to it (a literal CR would be read as LF)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def fast_tree(data: bytes) -> tuple[Node, int, bool] | None:
    """(root, public id, whether some ``<Data>`` holds elements) of a plain SyncML WBXML
    document, or None (use the full decoder).

    The tree is the one :func:`fast_element` gives as lxml elements, for readers that only
    walk it (what it saves: see the module docstring).
    """
    try:
        return _tree(data)
    except (IndexError, UnicodeDecodeError):  # truncated, or text not UTF-8: not the plain case
        return None


def fast_element(data: bytes) -> tuple[etree._Element, int] | None:
    """(root element, public id) of a plain SyncML WBXML document, or None (use the full decoder)."""
    tree = fast_tree(data)
    if tree is None:
        return None
    root, public_id, _ = tree
    return tree_element(root, public_id), public_id


def tree_element(root: Node, public_id: int) -> etree._Element:
    """The lxml element of a :func:`fast_tree` tree (in a tree with the language's DOCTYPE)."""
    return etree.fromstring(to_xml_bytes(root, public_id), _PARSER)


def to_xml_bytes(root: Node, public_id: int) -> bytes:
    """The XML text of a :func:`fast_tree` tree, with its language's DOCTYPE (as wbxml2xml writes it).

    ``xmlns`` where an element's namespace is not its parent's: on the root, and where the
    code page changes.
    """
    entry = PUBLIC_IDS[public_id]
    assert entry.language is not None
    doctype = _doctype(entry.language)
    out: list[str] = [doctype or ""]
    append = out.append
    # (node, its parent's namespace) to open; a str to write as it is.
    work: list[tuple[Node, str | None] | str] = [(root, None)]
    while work:
        top = work.pop()
        if isinstance(top, str):
            append(top)
            continue
        node, parent_ns = top
        ns, brace, name = node.tag[1:].partition("}") if node.tag.startswith("{") else ("", "", node.tag)
        ns_or_none = ns if brace else None
        decl = f' xmlns="{ns}"' if ns_or_none is not None and ns_or_none != parent_ns else ""
        if node.text is None and not len(node):
            append(f"<{name}{decl}/>")
        else:
            append(f"<{name}{decl}>")
            if node.text:
                append(_escape(node.text))
            work.append(f"</{name}>")
            for child in reversed(node):
                if child.tail:
                    work.append(_escape(child.tail))
                work.append((child, ns_or_none))
    return "".join(out).encode("utf-8")


def _text(raw: bytes) -> str:
    """A STR_I or OPAQUE value as text.

    UnicodeDecodeError when it is not UTF-8, _NotPlain when XML cannot carry it.
    """
    text = raw.decode("utf-8")
    # A printable text holds no C0 control, U+FFFE or U+FFFF: the regular expression is only
    # asked about the others (isprintable() is a third of its cost on a LocURI).
    if not text.isprintable() and _XML_ILLEGAL.search(text):
        raise _NotPlain
    return text


class _NotPlain(Exception):
    """Raised inside :func:`_tree` for what the full decoder must read."""


def _tree(data: bytes) -> tuple[Node, int, bool] | None:
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
    if _doctype(language.name) is None:
        return None
    table = _table(language)
    namespaces = language.namespaces
    page = 0
    while data[pos] == SWITCH_PAGE:
        page = data[pos + 1]
        pos += 2
    tokens = table.get(page)
    find = data.find
    # Open elements, and each one's tag, code page and namespace.
    stack: list[Node] = []
    info: list[tuple[_Tag, int, str | None]] = []
    root: Node | None = None
    markup_data = False
    b = data[pos]
    if b & 0x80 or b & 0x3F <= 4:  # the root is not a token tag
        return None
    try:
        while True:
            if b == END:
                pos += 1
                stack.pop()
                info.pop()
                if not stack:
                    break
            elif b in (STR_I, OPAQUE):
                if b == STR_I:
                    end = find(b"\x00", pos + 1)
                    if end < 0:
                        return None
                    raw = data[pos + 1 : end]
                    pos = end + 1
                    text = _text(raw) if raw else ""
                else:
                    length, pos = _mb_u_int32(data, pos + 1)
                    if length < 0 or length > n - pos:
                        return None
                    raw = data[pos : pos + length]
                    pos += length
                    top = info[-1][0]
                    if top.is_data and length >= 4 and raw[0] <= 3:
                        return None  # decode() would try it as an embedded WBXML document
                    if top.is_nonce or _C0_BYTES.search(raw):
                        text = base64.b64encode(raw).decode("ascii")
                    else:  # text if UTF-8 of XML characters, as to_element shows it
                        text = _text(raw) if raw else ""
                if text:
                    # Text after a child element is that child's tail, as lxml keeps it.
                    el = stack[-1]
                    if len(el):
                        last = el[-1]
                        last.tail = text if last.tail is None else last.tail + text
                    else:
                        el.text = text if el.text is None else el.text + text
            elif b < 0x80 and b & 0x3F > 4:  # a token tag without attributes
                tag = tokens[b & 0x3F] if tokens is not None else None
                if tag is None or len(stack) >= _MAX_DEPTH:
                    return None
                pos += 1
                # wbxml2xml's xmlns: on the root, and where the code page changes (see decode()).
                if stack:
                    parent_tag, parent_page, parent_ns = info[-1]
                    ns = namespaces.get(page, parent_ns) if parent_page != page else parent_ns
                    if parent_tag.is_data:
                        markup_data = True
                else:
                    ns = namespaces.get(page)
                node = Node()
                node.tag = tag.tag_in(ns)
                node.text = node.tail = None
                if stack:
                    stack[-1].append(node)
                else:
                    root = node
                if b & 0x40:
                    stack.append(node)
                    info.append((tag, page, ns))
                elif not stack:
                    break
            elif b == SWITCH_PAGE:
                page = data[pos + 1]
                tokens = table.get(page)
                if tokens is None:
                    return None
                pos += 2
            else:
                return None
            b = data[pos]  # past the end: IndexError, truncated
    except _NotPlain:
        return None
    if pos != n or root is None:
        return None
    return root, public_id, markup_data
