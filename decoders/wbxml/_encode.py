"""encode(): XML (bytes or an lxml element) to WBXML, the way libwbxml's xml2wbxml chooses.

Language, as xml2wbxml picks it: DOCTYPE public id (case-insensitive), else DOCTYPE system id,
else the root's namespace (first language whose first code page namespace matches), else the
root's name (first language in libwbxml's table order, so a bare ``<SyncML>`` is SyncML 1.2).
xml2wbxml gives up on an unknown language; here every tag then becomes a LITERAL under public
id 0x01.  ``public_id`` overrides what the header says (and, when known, the token tables).

Body, as xml2wbxml writes it, with these deliberate differences:

* text is always STR_I (xml2wbxml also builds a string table of repeated words and turns
  vCard-like ``<Data>`` into OPAQUE, converting LF to CRLF on the way);
* attributes other than namespace declarations are kept as LITERAL attributes (xml2wbxml
  drops every attribute of a SyncML document);
* the ``Meta/Type`` rewrite ``...+xml`` -> ``...+wbxml`` is done only in ``<Type>`` and only
  when that command really carries an embedded document (xml2wbxml rewrites any such text).

Kept from xml2wbxml: whitespace-only text is dropped (its default, without ``-k``); a
non-root ``<DevInf xmlns="syncml:devinf">`` or ``<MgmtTree xmlns="syncml:dmddf1.2">`` in a
SyncML document is encoded as a complete nested WBXML document (DevInf 1.0/1.1/1.2 after the
SyncML version, DM DDF 1.2) inside an OPAQUE; SWITCH_PAGE is written only when the code page
changes (it persists across END); the FPI goes into the string table when the language has no
numeric public id (DM DDF) or when ``public_id`` is a string.

XML input is parsed without entities, network or DTD, in recover mode: real DM test files
contain a raw ``&`` in alert options.  The walk uses an explicit stack, not recursion.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from lxml import etree

from ._records import WbxmlError
from ._tables import (
    END,
    LANGUAGES,
    LITERAL,
    OPAQUE,
    PUBLIC_ID_UNKNOWN,
    PUBLIC_IDS,
    STR_I,
    SWITCH_PAGE,
    SYNCML_LANGUAGES,
    TAG_HAS_ATTRIBUTES,
    TAG_HAS_CONTENT,
    Language,
    language_for_fpi,
    language_for_namespace,
    language_for_root,
)

__all__ = ["encode"]

_MAX_NESTING: Final = 8  # nested documents inside nested documents
_UTF8_MIBENUM: Final = 106
_XML_WHITESPACE: Final = " \t\r\n"
_XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
_EMBEDDED: Final[dict[tuple[str, str], str]] = {
    ("syncml:devinf", "DevInf"): "DEVINF",
    ("syncml:dmddf1.2", "MgmtTree"): "DMDDF12",
}
_XML_TO_WBXML_TYPES: Final[dict[str, str]] = {
    "application/vnd.syncml-devinf+xml": "application/vnd.syncml-devinf+wbxml",
    "application/vnd.syncml.dmtnds+xml": "application/vnd.syncml.dmtnds+wbxml",
}

#: Header public id: a number, or an FPI to put into the string table.
_PublicSpec = int | str
#: One step of the body walk: an element, a text, a nested document's bytes, or None for END.
_Action = etree._Element | str | bytes | None


def _mb_uint32(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


@cache
def _reverse_tags(language: str) -> dict[str, dict[int, int]]:
    """Tag name -> {code page: token} for one language."""
    result: dict[str, dict[int, int]] = {}
    for page, tokens in LANGUAGES[language].tags.items():
        for token, name in tokens.items():
            result.setdefault(name, {})[page] = token
    return result


def _local(element: etree._Element) -> tuple[str | None, str]:
    q = etree.QName(element)
    return q.namespace, q.localname


def _ignorable(text: str | None) -> bool:
    return not text or not text.strip(_XML_WHITESPACE)


def _embedded_kind(element: etree._Element) -> str | None:
    if not isinstance(element.tag, str):
        return None
    namespace, local = _local(element)
    return _EMBEDDED.get((namespace, local)) if namespace else None


def _carries_embedded(meta: etree._Element | None) -> bool:
    """Does the command owning this ``<Meta>`` hold an embedded document in a ``<Data>``?

    Mirrors the decoder's look-up: ``<Data>`` beside the Meta, or one level down in an Item."""
    scope = meta.getparent() if meta is not None else None
    if scope is None:
        return False
    candidates = [c for c in scope if isinstance(c.tag, str) and _local(c)[1] == "Data"]
    for item in scope:
        if isinstance(item.tag, str):
            candidates.extend(c for c in item if isinstance(c.tag, str) and _local(c)[1] == "Data")
    return any(_embedded_kind(child) for data in candidates for child in data)


class _Encoder:
    """State of one document being written: output, string table, tag code page."""

    def __init__(self, version: int, language: Language | None, level: int) -> None:
        self.version = version
        self.language = language
        self.level = level
        self.out = bytearray()
        self.strtbl = bytearray()
        self.strings: dict[str, int] = {}
        self.page = 0
        self.tokens = _reverse_tags(language.name) if language else {}
        self.ns_pages = {ns: page for page, ns in language.namespaces.items()} if language else {}

    def string_index(self, text: str) -> int:
        index = self.strings.get(text)
        if index is None:
            index = self.strings[text] = len(self.strtbl)
            self.strtbl += text.encode("utf-8") + b"\x00"
        return index

    def document(self, root: etree._Element, public: _PublicSpec | None) -> bytes:
        self.body(root)
        header = bytearray([self.version])
        if public is None:
            if self.language is not None and self.language.public_id is not None:
                public = self.language.public_id
            elif self.language is not None:
                public = self.language.fpi
            else:
                public = PUBLIC_ID_UNKNOWN
        if isinstance(public, str):
            header += b"\x00" + _mb_uint32(self.string_index(public))
        else:
            header += _mb_uint32(public)
        if self.version != 0:  # WBXML 1.0 has no charset field
            header += _mb_uint32(_UTF8_MIBENUM)
        header += _mb_uint32(len(self.strtbl)) + self.strtbl
        return bytes(header + self.out)

    # ------------------------------------------------------------ body

    def body(self, root: etree._Element) -> None:
        """Write the element tree.  An explicit stack of pending actions replaces recursion:
        an element, a text (STR_I), an OPAQUE (a nested document) or None (END)."""
        work: list[_Action] = [root]
        # Proxies stay referenced until the end (released deepest first): lxml frees a proxy by
        # walking up to the nearest ancestor that still has one, quadratic in deep trees.
        keep_alive: list[_Action] = []
        while work:
            item = work.pop()
            keep_alive.append(item)
            if item is None:
                self.out.append(END)
            elif isinstance(item, str):
                self.out.append(STR_I)
                self.out += item.encode("utf-8") + b"\x00"
            elif isinstance(item, bytes):
                self.out.append(OPAQUE)
                self.out += _mb_uint32(len(item)) + item
            else:
                content = self.content(item)
                self.start_tag(item, bool(content))
                if content:
                    work.append(None)
                    work.extend(reversed(content))

    def content(self, element: etree._Element) -> list[_Action]:
        """The actions for an element's content: texts, child elements, nested documents."""
        items: list[_Action] = []
        text = element.text
        if text and not _ignorable(text):
            items.append(self.rewrite_type(element, text))
        for child in element:
            if isinstance(child.tag, str):  # comments, PIs and entity references are left out
                nested = self.nested(child)
                items.append(child if nested is None else nested)
            tail = child.tail
            if tail and not _ignorable(tail):
                items.append(tail)
        return items

    def rewrite_type(self, element: etree._Element, text: str) -> str:
        """``<Type>application/vnd.syncml-devinf+xml</Type>`` -> ``+wbxml`` when the data it
        describes is written as an embedded WBXML document."""
        if self.language is None or self.language.name not in SYNCML_LANGUAGES:
            return text
        if _local(element)[1] != "Type" or self.token_for(element) != (1, 0x13):
            return text
        wbxml_type = _XML_TO_WBXML_TYPES.get(text.strip(_XML_WHITESPACE).lower())
        if wbxml_type is not None and _carries_embedded(element.getparent()):
            return wbxml_type
        return text

    def nested(self, element: etree._Element) -> bytes | None:
        """A DevInf / MgmtTree inside SyncML, as a complete WBXML document; else None."""
        kind = _embedded_kind(element)
        if kind is None or self.level >= _MAX_NESTING:
            return None
        if self.language is None or self.language.name not in SYNCML_LANGUAGES:
            return None
        if kind == "DEVINF":
            kind = {"SYNCML10": "DEVINF10", "SYNCML11": "DEVINF11"}.get(self.language.name, "DEVINF12")
        return _Encoder(self.version, LANGUAGES[kind], self.level + 1).document(element, None)

    def token_for(self, element: etree._Element) -> tuple[int, int] | None:
        """(code page, token) for the element, or None for a LITERAL.  The page of the
        element's namespace is tried first, then the current page, then any page."""
        namespace, local = _local(element)
        pages = self.tokens.get(local)
        if not pages:
            return None
        for page in (self.ns_pages.get(namespace) if namespace else None, self.page):
            if page is not None and page in pages:
                return page, pages[page]
        page = next(iter(pages))
        return page, pages[page]

    def start_tag(self, element: etree._Element, has_content: bool) -> None:
        attributes = self.attributes(element)
        flags = (TAG_HAS_CONTENT if has_content else 0) | (TAG_HAS_ATTRIBUTES if attributes else 0)
        found = self.token_for(element)
        if found is None:
            self.out.append(LITERAL | flags)
            self.out += _mb_uint32(self.string_index(_local(element)[1]))
        else:
            page, token = found
            if page != self.page:
                self.out += bytes([SWITCH_PAGE, page])
                self.page = page
            self.out.append(token | flags)
        if attributes:
            for name, value in attributes:
                self.out.append(LITERAL)
                self.out += _mb_uint32(self.string_index(name))
                if value:
                    self.out.append(STR_I)
                    self.out += value.encode("utf-8") + b"\x00"
            self.out.append(END)

    @staticmethod
    def attributes(element: etree._Element) -> list[tuple[str, str]]:
        result: list[tuple[str, str]] = []
        for key, value in element.attrib.items():
            q = etree.QName(key)
            name = f"xml:{q.localname}" if q.namespace == _XML_NS else q.localname
            result.append((name, str(value)))
        return result


def _parse(xml: bytes | etree._Element) -> tuple[etree._Element, str | None, str | None] | WbxmlError:
    """The root element and its DOCTYPE public and system ids."""
    if isinstance(xml, bytes | bytearray | memoryview):
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
        )
        try:
            root = etree.fromstring(bytes(xml), parser)
        except (etree.XMLSyntaxError, ValueError) as exc:
            return WbxmlError(f"XML not readable: {exc}", 0)
        if root is None:
            return WbxmlError("XML not readable: no root element", 0)
    elif isinstance(xml, etree._Element):
        root = xml
    else:
        return WbxmlError(f"expected XML bytes or an lxml element, not {type(xml).__name__}", 0)
    if not isinstance(root.tag, str):
        return WbxmlError("the XML root is not an element", 0)
    tree = root.getroottree()
    if tree.getroot() is not root:
        return root, None, None  # a sub-element: its document's DOCTYPE is not about it
    docinfo: Any = tree.docinfo  # lxml-stubs lack DocInfo.system_url
    return root, docinfo.public_id, docinfo.system_url


def _language_of(root: etree._Element, public: str | None, system: str | None) -> Language | None:
    if public:
        name, _ = language_for_fpi(public)
        if name is not None:
            return LANGUAGES[name]
    if system:
        for lang in LANGUAGES.values():
            if lang.system_id == system:
                return lang
    namespace, local = _local(root)
    name = language_for_namespace(namespace) if namespace else None
    if name is None:
        name = language_for_root(local)
    return LANGUAGES[name] if name is not None else None


def encode(
    xml: bytes | etree._Element, *, version: int = 0x03, public_id: int | str | None = None
) -> bytes | WbxmlError:
    """XML to WBXML.  ``version`` is the header byte (0 = WBXML 1.0 ... 3 = 1.3); ``public_id``
    overrides the header's public id (a number, or an FPI written into the string table).
    Never raises: unusable input gives a :class:`WbxmlError`."""
    if not isinstance(version, int) or not 0 <= version <= 3:
        return WbxmlError(f"unsupported WBXML version {version!r}", 0)
    if isinstance(public_id, bool) or not (public_id is None or isinstance(public_id, int | str)):
        return WbxmlError(f"public_id must be an int, a str or None, not {type(public_id).__name__}", 0)
    if isinstance(public_id, int) and not 0 < public_id <= 0xFFFFFFFF:
        return WbxmlError(f"public id {public_id} is not a non-zero mb_u_int32", 0)
    parsed = _parse(xml)
    if isinstance(parsed, WbxmlError):
        return parsed
    root, doctype_public, doctype_system = parsed
    language: Language | None = None
    if isinstance(public_id, int) and public_id in PUBLIC_IDS:
        known = PUBLIC_IDS[public_id].language
        language = LANGUAGES[known] if known else None
    elif isinstance(public_id, str):
        known, _ = language_for_fpi(public_id)
        language = LANGUAGES[known] if known else None
    if language is None:
        language = _language_of(root, doctype_public, doctype_system)
    try:
        return _Encoder(version, language, 0).document(root, public_id)
    except ValueError as exc:  # lxml refusing something odd in a caller-built tree
        return WbxmlError(f"cannot encode: {exc}", 0)
