"""to_element() / to_xml(): a decoded document as the XML that libwbxml's wbxml2xml writes.

What wbxml2xml does, and so what these do (verified by running wbxml2xml 0.11.8):

* ``xmlns`` on the root and on token elements whose token parent is on another code page
  (``<Format xmlns="syncml:metinf">`` inside ``<Meta>``); the decoder already stored that in
  ``Element.namespace``.  MetInf documents have no namespace at all.
* An OPAQUE holding a nested document appears as that document's root element (with its own
  xmlns, no XML declaration) inside ``<Data>``, and in SyncML the ``Meta/Type`` text
  ``application/vnd.syncml-devinf+wbxml`` becomes ``...+xml`` (``dmtnds`` only in SyncML 1.2),
  exactly as libwbxml's XML writer rewrites it.
* An OPAQUE ``NextNonce`` (MetInf 0x10) in SyncML is always shown base64-encoded.
* Other OPAQUE: libwbxml copies the bytes into the XML as they are, which is not XML when they
  are binary (e.g. an md5 ``Cred/Data``); here they are text when valid UTF-8 and XML-legal,
  else base64.
* Characters XML cannot carry are replaced by U+FFFD; attributes that are not XML names, and
  ``xmlns`` pseudo-attributes (the namespace is already on the element), are left out; a
  LITERAL name that is not an XML name becomes ``literal-<hex of its UTF-8>``.

The tree is built with an explicit work list, not recursion.  The root element belongs to a
tree that carries the language's DOCTYPE (``root.getroottree().docinfo``), so that
:func:`decoders.wbxml.encode` picks the same language back.
"""

from __future__ import annotations

import base64
import codecs
import re
import secrets
from collections.abc import Iterator
from typing import Final, cast

from lxml import etree

from ._records import Element, Opaque, WbxmlDocument
from ._tables import LANGUAGES, SYNCML_LANGUAGES

__all__ = ["to_element", "to_xml", "to_xml_chunks"]

_XML_ILLEGAL: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_C0_BYTES: Final = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_utf8_decoder: Final = codecs.getincrementaldecoder("utf-8")
#: OPAQUE data at least this long is written by :func:`to_xml_chunks` a slice at a time.
_LAZY: Final = 1 << 20
_SLICE: Final = 1 << 20
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
_TYPE_TOKEN: Final = (1, 0x13)  # MetInf <Type>
_NEXTNONCE_TOKEN: Final = (1, 0x10)  # MetInf <NextNonce>
_WBXML_TO_XML_TYPES: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "application/vnd.syncml-devinf+wbxml": ("application/vnd.syncml-devinf+xml", SYNCML_LANGUAGES),
    "application/vnd.syncml.dmtnds+wbxml": ("application/vnd.syncml.dmtnds+xml", frozenset({"SYNCML12"})),
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", text)


def _xml_name(name: str) -> str:
    if _NAME.match(name):
        return name
    return "literal-" + name.encode("utf-8", errors="replace")[:32].hex()


def _qname(name: str, namespace: str | None) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def _opaque_text(opaque: Opaque, always_base64: bool) -> str:
    if not always_base64 and _is_text(opaque.data):
        return opaque.data.decode("utf-8")
    return base64.b64encode(opaque.data).decode("ascii")


def _is_text(data: bytes) -> bool:
    """Whether OPAQUE bytes are shown as they are: UTF-8 of characters XML can hold.

    Checked a slice at a time (a 50 MB OPAQUE is not decoded whole to find out), and a C0
    control byte, which no UTF-8 sequence but the character itself contains, settles it at once.
    """
    if _C0_BYTES.search(data):
        return False
    decoder = _utf8_decoder()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _SLICE):
            if _XML_ILLEGAL.search(decoder.decode(view[start : start + _SLICE])):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _opaque_chunks(opaque: Opaque, always_base64: bool) -> Iterator[bytes]:
    """What :func:`_opaque_text` gives, as escaped UTF-8 written a slice at a time."""
    data = opaque.data
    if not always_base64 and _is_text(data):
        for start in range(0, len(data), _SLICE):  # escaped as libxml2 escapes text content
            piece = data[start : start + _SLICE]
            yield piece.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;").replace(
                b"\r", b"&#13;")
    else:
        step = _SLICE - _SLICE % 3  # whole base64 quanta: the pieces join into the whole encoding
        for start in range(0, len(data), step):
            yield base64.b64encode(data[start : start + step])


def _doctype(language: str) -> str | None:
    lang = LANGUAGES.get(language)
    if lang is None:
        return None
    return f'<!DOCTYPE {lang.root} PUBLIC "{lang.fpi}" "{lang.system_id}">'


def quoteattr(value: str) -> str:
    """``xml.sax.saxutils.quoteattr(value)``, written out: importing saxutils imports urllib.request,
    http.client and ssl, 5 MB more in every decoding process for this one call."""
    value = value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    value = value.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"{}"'.format(value.replace('"', "&quot;"))


def _make_root(doc: WbxmlDocument) -> etree._Element:
    name = _xml_name(doc.root.tag)
    namespace = doc.root.namespace
    doctype = _doctype(doc.language)
    if doctype is None:
        return etree.Element(_qname(name, namespace), nsmap=_default_ns(namespace) if namespace else None)
    xmlns = f" xmlns={quoteattr(namespace)}" if namespace else ""
    # Parsed rather than built so that the tree carries the DOCTYPE (lxml cannot add one later).
    return etree.fromstring(f"{doctype}<{name}{xmlns}/>".encode(), _parser())


def _default_ns(namespace: str) -> dict[str, str]:
    # lxml takes None as the default-namespace prefix; its stubs only know str keys.
    return cast("dict[str, str]", {None: namespace})


def _child(
    parent: etree._Element, record: Element, parent_ns: str | None
) -> tuple[etree._Element, str | None]:
    namespace = record.namespace if record.namespace is not None else parent_ns
    nsmap = _default_ns(namespace) if namespace and namespace != parent_ns else None
    return etree.SubElement(parent, _qname(_xml_name(record.tag), namespace), nsmap=nsmap), namespace


def _append_text(target: etree._Element, last: etree._Element | None, text: str) -> None:
    if not text:
        return
    if last is None:
        target.text = (target.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _set_attributes(target: etree._Element, record: Element) -> None:
    for name, value in record.attributes:
        if name.startswith("xml:") and _NAME.match(name[4:]):
            target.set(_qname(name[4:], _XML_NS), _xml_text(value))
        elif name != "xmlns" and _NAME.match(name):  # xmlns is already the element's namespace
            target.set(name, _xml_text(value))


def _flush(
    target: etree._Element, last: etree._Element | None, pending: list[str], rewrite_type: bool, language: str
) -> None:
    """Write the pending text pieces as one text node, rewriting a +wbxml Meta/Type like libwbxml
    (which joins adjacent text and OPAQUE into one node before comparing)."""
    text = "".join(pending)
    pending.clear()
    if rewrite_type and text in _WBXML_TO_XML_TYPES:
        replacement, languages = _WBXML_TO_XML_TYPES[text]
        if language in languages:
            text = replacement
    _append_text(target, last, _xml_text(text))


def to_element(doc: WbxmlDocument) -> etree._Element:
    """The document's root as an lxml element, namespaced and rendered like wbxml2xml's output."""
    return _build(doc, None)


def _build(doc: WbxmlDocument, lazy: dict[str, tuple[Opaque, bool]] | None) -> etree._Element:
    """:func:`to_element`; with ``lazy``, each OPAQUE of ``_LAZY`` bytes or more is left as a
    placeholder token, recorded there, for :func:`to_xml_chunks` to write in its place."""
    root = _make_root(doc)
    work: list[tuple[etree._Element, Element, str, str | None]] = [
        (root, doc.root, doc.language, doc.root.namespace)
    ]
    # Every proxy stays referenced until the end: lxml frees a proxy by walking up to the
    # nearest ancestor that still has one, which is quadratic in deep trees otherwise.  The
    # list is released last-in first-out, i.e. deepest first, where each walk stops at once.
    keep_alive: list[etree._Element] = []
    while work:
        target, record, language, namespace = work.pop()
        _set_attributes(target, record)
        in_syncml = language in SYNCML_LANGUAGES
        rewrite_type = in_syncml and (record.page, record.token) == _TYPE_TOKEN
        nonce = in_syncml and (record.page, record.token) == _NEXTNONCE_TOKEN
        pending: list[str] = []
        last: etree._Element | None = None
        later: list[tuple[etree._Element, Element, str, str | None]] = []
        for child in record.children:
            if isinstance(child, str):
                pending.append(child)
                continue
            if isinstance(child, Opaque):
                if child.nested is None:
                    if lazy is not None and len(child.data) >= _LAZY:
                        token = f"opaque-{secrets.token_hex(16)}-{len(lazy)}"
                        lazy[token] = (child, nonce)
                        pending.append(token)
                    else:
                        pending.append(_opaque_text(child, nonce))
                    continue
                sub_record, sub_language = child.nested.root, child.nested.language
            else:
                sub_record, sub_language = child, language
            _flush(target, last, pending, rewrite_type, language)
            last, sub_ns = _child(target, sub_record, namespace)
            keep_alive.append(last)
            later.append((last, sub_record, sub_language, sub_ns))
        _flush(target, last, pending, rewrite_type, language)
        work.extend(reversed(later))
    return root


def to_xml(doc: WbxmlDocument, *, pretty: bool = True) -> bytes:
    """XML text with the ``<?xml?>`` declaration and DOCTYPE that wbxml2xml writes."""
    return b"".join(to_xml_chunks(doc, pretty=pretty))


def to_xml_chunks(doc: WbxmlDocument, *, pretty: bool = True) -> Iterator[bytes]:
    """:func:`to_xml` in pieces, to be written one after the other.

    A large OPAQUE is never in memory as text: the tree holds a placeholder, and its base64 (or
    escaped text) is made a slice at a time as the pieces are written.  A 50 MB binary OPAQUE
    otherwise took four copies of its 67 MB of base64 (bytes, text, libxml2's node, the
    serialised document) besides its own bytes.
    """
    newline = "\n" if pretty else ""
    head = '<?xml version="1.0"?>' + newline
    doctype = _doctype(doc.language)
    if doctype is not None:
        head += doctype + newline
    yield head.encode("ascii")
    lazy: dict[str, tuple[Opaque, bool]] = {}
    body = etree.tostring(_build(doc, lazy), encoding="utf-8", xml_declaration=False, pretty_print=pretty)
    spots = sorted((body.find(token.encode("ascii")), token) for token in lazy)
    if any(at < 0 or body.count(token.encode("ascii")) != 1 for at, token in spots):
        # (a random token that the document happens to hold: never in practice)
        yield etree.tostring(to_element(doc), encoding="utf-8", xml_declaration=False, pretty_print=pretty)
        return
    pos = 0
    for at, token in spots:
        yield body[pos:at]
        yield from _opaque_chunks(*lazy[token])
        pos = at + len(token)
    yield body[pos:] if pos else body
