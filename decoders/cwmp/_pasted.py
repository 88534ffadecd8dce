"""decode_pasted(): a CWMP message as people paste it, not as a CPE sends it.

Messages copied from a log, a ticket or a web page are often not well-formed: an RPC element
without its SOAP Envelope and without the namespace declarations its prefixes need, a log
line's text before it, quotes turned typographic (“ ”) or HTML-escaped (``&quot;``, ``&#39;``)
around attribute values, or the whole document HTML-escaped (``&lt;cwmp:Inform&gt;``).

:func:`decode_pasted` first decodes the bytes as :func:`decode` does; only when that fails (the
XML is not well-formed, or its root is no Envelope) are the repairs tried, each one named in a
warning, and a bare RPC is decoded inside an Envelope made for it, with a note.  Nothing here is
used on captured traffic, whose report stays what :func:`decode` makes of it.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, replace
from typing import Final

from lxml import etree

from ._budget import MAX_MARKUP, cut_note, markup_cut
from ._decode import _HEADER_FIELDS, CWMP_NAMESPACES, SOAP_ENC, SOAP_ENV, decode, decode_envelope
from ._records import CwmpMessage
from ._rpcs import GENERIC_RPCS, RPC_PARSERS
from ._xml import _CHARSET_RE, Ctx, Element, _decode_document, child, children, local, namespace, parse_xml

__all__ = ["PastedMessage", "decode_pasted", "looks_like_cwmp"]


@dataclass(frozen=True, slots=True)
class PastedMessage:
    """What :func:`decode_pasted` made of a pasted message."""

    message: CwmpMessage  #: its problems start with the repairs made and the notes on a fragment
    #: The top-level elements read, each serialised with the namespace declarations it uses, when
    #: the input had to be repaired or was a fragment; () when it was read as it stands.
    elements: tuple[bytes, ...] = ()


_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
_XSD: Final = "http://www.w3.org/2001/XMLSchema"

#: Prefixes that articles and logs use without declaring them, and the namespace each one means.
_USUAL_PREFIXES: Final[dict[str, str]] = {
    **dict.fromkeys(("soap", "soapenv", "soap-env", "env", "s", "senv", "se"), SOAP_ENV),
    **dict.fromkeys(("soapenc", "soap-enc", "enc", "senc"), SOAP_ENC),
    "xsi": _XSI,
    **dict.fromkeys(("xsd", "xs"), _XSD),
}

#: Bound to an undeclared ``cwmp`` prefix when the text names no cwmp namespace; the record then
#: says no version (the prefix does not tell which one was meant).
_CWMP_UNKNOWN: Final = "urn:dslforum-org:cwmp-1-0"
_CWMP_URN = re.compile(r"urn:dslforum-org:cwmp-1-[0-9]+")
_WRAPPER: Final = "pasted-text"  # (named in parser messages: says what it is)
_EMPTY_BODY: Final = "info: SOAP Envelope with an empty Body"

_RPC_NAMES: Final = frozenset(RPC_PARSERS) | GENERIC_RPCS
_HEADER_NAMES: Final = frozenset(_HEADER_FIELDS)  # lower-case


def looks_like_cwmp(data: bytes) -> bool:
    """Whether ``data`` looks like a CWMP message or a fragment of one (its first 4 KB): a SOAP
    Envelope, a cwmp namespace, or a first element named like a CWMP RPC or header field."""
    head = data[:4096].decode("utf-8", "replace")
    if _escaped(head):
        head = html.unescape(head)
    if "urn:dslforum-org:cwmp" in head:
        return True
    m = _FIRST_ELEMENT.search(head)
    if m is None:
        return False
    prefix, name = m.group(1) or "", m.group(2)
    if name == "Envelope":
        return True
    if name in _RPC_NAMES or (name == "Fault" and "faultcode" in head.lower()):
        return True
    return prefix.lower() == "cwmp:" and (name.lower() in _HEADER_NAMES or name == "Fault")


_NCNAME = re.compile(r"[A-Za-z_][\w.-]*")
_FIRST_ELEMENT = re.compile(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?![\w.:-])")


def decode_pasted(data: bytes, content_type: str | None = None) -> PastedMessage:
    """Decode ``data`` as :func:`decode` does, repairing it first when it does not decode as sent.

    Never raises.  The repairs and the notes on a fragment come first in the message's problems.
    """
    msg = decode(data, content_type)
    if not _failed(msg):
        return PastedMessage(msg)
    try:
        pasted = _lenient(data, content_type)
    except Exception as exc:  # a bug in the repairs must cost only them
        problem = f"error: internal error while repairing the pasted message: {exc!r}"[:300]
        return PastedMessage(replace(msg, problems=(*msg.problems, problem)))
    if pasted is None or (pasted.message.kind == "unknown" and msg.kind != "unknown"):
        return PastedMessage(msg)
    return pasted


def _failed(msg: CwmpMessage) -> bool:
    """Whether ``msg`` is not a message as sent: nothing decoded, or XML read in recover mode."""
    return msg.kind == "unknown" or any(p.startswith("warning: XML not well-formed") for p in msg.problems)


def _lenient(data: bytes, content_type: str | None) -> PastedMessage | None:
    """The repaired decode; None when no repair applies and the root is an Envelope (then the
    plain decode, recovered or not, is as good as it gets)."""
    ctx = Ctx()
    encoding = None
    if content_type and (m := _CHARSET_RE.search(content_type)):
        encoding = m.group(1)
    text = _decode_document(data, encoding)
    repaired = False
    if _escaped(text):
        text = html.unescape(text)
        ctx.warning("the document was HTML-escaped (&lt;…&gt;, as shown on a web page): unescaped")
        repaired = True
    text, quotes = _fix_quotes(text)
    if quotes:
        ctx.warning(
            f"{quotes} attribute value(s) quoted with typographic or HTML-escaped quotes (“ ”, &quot;, "
            "&#39;, as copied from a web page): quotes repaired"
        )
        repaired = True
    # A declaration is text too: what follows a log line's prefix cannot hold one.
    text = _XML_DECLARATION.sub("", text.removeprefix("\ufeff"))
    bindings, made_up_cwmp = _undeclared(text)
    if bindings:
        ctx.warning(
            "namespace prefix(es) used without a declaration: "
            + ", ".join(f"{p} bound to {uri}" for p, uri in sorted(bindings.items()))
            + (" (the CWMP version is therefore unknown)" if made_up_cwmp else "")
        )
        repaired = True
    body = text.encode("utf-8", "replace")
    cut = markup_cut(body)
    if cut is not None:
        ctx.error(cut_note(MAX_MARKUP, cut, len(body)))
        body = body[:cut]
    declarations = "".join(f' xmlns:{p}="{uri}"' for p, uri in sorted(bindings.items()))
    wrapped = f"<{_WRAPPER}{declarations}>".encode() + body + f"</{_WRAPPER}>".encode()
    wrapper = parse_xml(wrapped, None, ctx)
    if wrapper is None:
        return PastedMessage(CwmpMessage(kind="unknown", problems=tuple(ctx.problems)))
    if local(wrapper.tag) != _WRAPPER:  # the text closed the wrapper itself: it is not what was pasted
        ctx.error("no element could be read")
        return PastedMessage(CwmpMessage(kind="unknown", problems=tuple(ctx.problems)))
    top = list(children(wrapper))
    if not top:
        ctx.error("no XML element found")
        return PastedMessage(CwmpMessage(kind="unknown", problems=tuple(ctx.problems)))
    if not repaired and len(top) == 1 and local(top[0].tag) == "Envelope":
        return None
    outside = " ".join((wrapper.text or "").split() + [w for el in top for w in (el.tail or "").split()])
    if outside:
        ctx.info(f"text outside the XML ignored: {outside[:60]!r}")
    elements = tuple(_serialise(el) for el in top)
    envelope = next((el for el in top if local(el.tag) == "Envelope"), None)
    made_up_rpc = False
    if envelope is not None:
        if len(top) > 1:
            ctx.warning(f"{len(top) - 1} element(s) besides the SOAP Envelope ignored")
        msg = decode_envelope(envelope, ctx)
    else:
        envelope, made_up_rpc = _envelope_for(top, ctx)
        msg = decode_envelope(envelope, ctx)
        if msg.kind == "empty":  # (the Envelope is ours: its empty Body is no news)
            msg = replace(msg, problems=tuple(p for p in msg.problems if p != _EMPTY_BODY))
    if made_up_cwmp or made_up_rpc:
        msg = replace(msg, cwmp_version=None, namespace=None)
    return PastedMessage(msg, elements)


_XML_DECLARATION = re.compile(r"<\?xml\s[^>]*\?>")


def _escaped(text: str) -> bool:
    """Whether the markup of ``text`` is HTML-escaped: "&lt;" before any "<", and more of them."""
    first = text.find("&lt;")
    return first >= 0 and "<" not in text[:first] and text.count("&lt;") > text.count("<")


_TAG = re.compile(r"<[A-Za-z_][^<>]*>")
_DOUBLE = r"(?:[“”„‟″]|&quot;|&#34;|&#[xX]22;)"
_SINGLE = r"(?:[‘’‚‛′]|&#39;|&#[xX]27;|&apos;)"
# An attribute value: quoted as XML wants (left alone), or with look-alikes (group 2 or 3).
_VALUE = re.compile(rf"""(=\s*)(?:"[^"]*"|'[^']*'|{_DOUBLE}(.*?){_DOUBLE}|{_SINGLE}(.*?){_SINGLE})""")


def _fix_quotes(text: str) -> tuple[str, int]:
    """``text`` with attribute values in start tags requoted with '"', and how many were."""
    fixed = 0

    def value(m: re.Match[str]) -> str:
        nonlocal fixed
        inner = m.group(2) if m.group(2) is not None else m.group(3)
        if inner is None:
            return m.group(0)
        fixed += 1
        return m.group(1) + '"' + inner.replace('"', "&quot;") + '"'

    def tag(m: re.Match[str]) -> str:
        return _VALUE.sub(value, m.group(0))

    if not any(q in text for q in ("“", "”", "„", "″", "‘", "’", "′", "&quot;", "&#", "&apos;")):
        return text, 0  # (the common case: no look-alike anywhere)
    out = _TAG.sub(tag, text)
    return out, fixed


_NAMES = re.compile(r"</?([^\s<>/!?]+)([^<>]*)>")
_ATTR_NAME = re.compile(r"([^\s=<>/\"']+)\s*=")
_DECLARED = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")


def _undeclared(text: str) -> tuple[dict[str, str], bool]:
    """The prefixes used in tags and attribute names but declared nowhere, each with the
    namespace to bind it to, and whether ``cwmp`` got a namespace the text does not name."""
    used: set[str] = set()
    for m in _NAMES.finditer(text):
        prefix = m.group(1).partition(":")
        if prefix[1]:
            used.add(prefix[0])
        for a in _ATTR_NAME.finditer(m.group(2)):
            prefix = a.group(1).partition(":")
            if prefix[1]:
                used.add(prefix[0])
    used -= {"xml", "xmlns", *_DECLARED.findall(text)}
    bindings: dict[str, str] = {}
    made_up = False
    for p in used:
        if not _NCNAME.fullmatch(p):
            continue  # not a name: recover mode will have its say
        uri = _USUAL_PREFIXES.get(p.lower())
        if uri is None and p.lower() == "cwmp":
            urn = _CWMP_URN.search(text)
            uri = urn.group(0) if urn else _CWMP_UNKNOWN
            made_up = urn is None
        bindings[p] = uri or f"urn:dmsniff:undeclared:{p}"
    return bindings, made_up


def _serialise(el: Element) -> bytes:
    """``el`` alone, declaring only the namespaces it uses (not every one the wrapper holds)."""
    alone = copy.deepcopy(el)
    alone.tail = None
    etree.cleanup_namespaces(alone)
    return etree.tostring(alone, encoding="utf-8")


def _envelope_for(top: list[Element], ctx: Ctx) -> tuple[Element, bool]:
    """A SOAP Envelope holding the pasted elements: header fields in its Header, the rest in its
    Body; and whether the RPC got a cwmp namespace it was pasted without."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope")
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    for el in top:
        name = local(el.tag)
        if name in ("Header", "Body"):
            for c in list(children(el)):
                (header if name == "Header" else body).append(c)
        elif name.lower() in _HEADER_NAMES:
            header.append(el)
        else:
            body.append(el)
    rpcs = list(children(body))
    made_up = False
    if not rpcs:
        ctx.info("no SOAP envelope and no RPC: only header fields were pasted")
        return envelope, made_up
    rpc = rpcs[0]
    name = local(rpc.tag).rpartition(":")[2]  # recover mode leaves a name such as "a:b" whole
    if name == "Fault" and child(rpc, "FaultCode") is not None:
        # The detail of a SOAP Fault (a cwmp:Fault) alone: put the SOAP Fault around it.
        fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
        body.replace(rpc, fault)
        etree.SubElement(fault, "detail").append(rpc)
        ctx.info("no SOAP envelope: decoded as a bare cwmp:Fault (the detail of a SOAP Fault)")
        return envelope, made_up
    if name == "Fault":
        ctx.info("no SOAP envelope: decoded as a bare SOAP Fault")
        return envelope, made_up
    if namespace(rpc.tag) is None and _NCNAME.fullmatch(name):
        # Unqualified as in an article: the name says the RPC; say so once, not as a namespace warning.
        rpc.tag = f"{{{_CWMP_UNKNOWN}}}{name}"
        made_up = True
        ctx.info(f"no SOAP envelope and no namespace: decoded as a bare cwmp:{name}")
    elif namespace(rpc.tag) in CWMP_NAMESPACES:
        ctx.info(f"no SOAP envelope: decoded as a bare cwmp:{name}")
    else:
        ctx.info(f"no SOAP envelope: decoded as a bare <{name}>")
    return envelope, made_up  # (a name that is no CWMP RPC gets decode's "unknown RPC" warning)
