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
import re
from typing import Final, cast
from xml.sax.saxutils import quoteattr

from lxml import etree

from ._records import Element, Opaque, WbxmlDocument
from ._tables import LANGUAGES, SYNCML_LANGUAGES

__all__ = ["to_element", "to_xml"]

_XML_ILLEGAL: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
    if not always_base64:
        try:
            text = opaque.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not _XML_ILLEGAL.search(text):
                return text
    return base64.b64encode(opaque.data).decode("ascii")


def _doctype(language: str) -> str | None:
    lang = LANGUAGES.get(language)
    if lang is None:
        return None
    return f'<!DOCTYPE {lang.root} PUBLIC "{lang.fpi}" "{lang.system_id}">'


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
    newline = "\n" if pretty else ""
    head = '<?xml version="1.0"?>' + newline
    doctype = _doctype(doc.language)
    if doctype is not None:
        head += doctype + newline
    body = etree.tostring(to_element(doc), encoding="utf-8", xml_declaration=False, pretty_print=pretty)
    return head.encode("ascii") + body
