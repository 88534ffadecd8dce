"""decode(), decode_element() and looks_like_syncml(): the entry points of the SyncML decoder.

Elements are matched by local name only.  SyncML 1.x documents use three namespaces at once
(SYNCML:SYNCML1.x, syncml:metinf, syncml:devinf) and many DS stacks send none at all, so a
namespace never changes how an element is read; an unexpected root namespace is reported.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from decoders._errors import internal_error
from decoders._strings import share
from decoders.cwmp._budget import MAX_MARKUP, cut_note, markup_cut

from ._commands import Walker, loc, parse_cred, parse_meta
from ._records import Command, Cred, Meta, SyncHdr, SyncMLError, SyncMLMessage
from ._xml import Element, Problems, kids, local, namespace, parse_xml, text_of

__all__ = ["SYNCML_CONTENT_TYPES", "SYNCML_WBXML_PUBLIC_IDS", "decode", "decode_element", "looks_like_syncml"]

#: Media types of SyncML messages (DM and DS); the embedded DevInf/DDF/TNDS types are not messages.
SYNCML_CONTENT_TYPES: Final = frozenset(
    {
        "application/vnd.syncml.dm+xml",
        "application/vnd.syncml.dm+wbxml",
        "application/vnd.syncml+xml",
        "application/vnd.syncml+wbxml",
    }
)
#: WBXML public ids of the SyncML DTDs 1.0, 1.1 and 1.2.
SYNCML_WBXML_PUBLIC_IDS: Final = frozenset({0x0FD1, 0x0FD3, 0x1201})
# The same ids as WBXML mb_u_int32 bytes, for the cheap recogniser: 9F 51, 9F 53, A4 01.
_PUBLIC_ID_BYTES: Final = (b"\x9f\x51", b"\x9f\x53", b"\xa4\x01")
_NAMESPACE_RE: Final = re.compile(r"SYNCML:SYNCML1\.[0-9]", re.IGNORECASE)
_SNIFF: Final = 1024  # how far looks_like_syncml looks into a body


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def looks_like_syncml(body: bytes, content_type: str | None = None) -> bool:
    """Cheap test whether an HTTP body is a SyncML message (substring tests on the first 1 KB)."""
    if _media_type(content_type) in SYNCML_CONTENT_TYPES:
        return True
    head = body[:_SNIFF]
    if b"<SyncML" in head or b"SYNCML:SYNCML1." in head:
        return True
    if len(head) >= 3 and head[0] <= 3:  # WBXML version byte 1.0 .. 1.3
        if head[1:3] in _PUBLIC_ID_BYTES:
            return True
        # Public id 0: the FPI is in the string table (Motorola/Android dmlib does this).
        return head[1] == 0 and b"SyncML" in head
    return False


def _mb_u_int32(data: bytes, pos: int) -> tuple[int, int] | None:
    """WBXML multi-byte integer at ``pos``: (value, next position), None if malformed."""
    value = 0
    for i in range(pos, min(pos + 5, len(data))):
        b = data[i]
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, i + 1
    return None


def _is_wbxml(body: bytes, content_type: str | None) -> bool:
    """WBXML by Content-Type, or by a version byte followed by a plausible public id."""
    if _media_type(content_type).endswith("+wbxml"):
        return True
    if len(body) < 4 or body[0] > 3 or body[1:2] == b"<":  # 00 3C is UTF-16BE "<" without a BOM
        return False
    parsed = _mb_u_int32(body, 1)
    return parsed is not None and parsed[0] <= 0xFFFF


def _looks_like_xml(body: bytes) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or body[:2] in (b"\xff\xfe", b"\xfe\xff")


def decode(body: bytes, content_type: str | None = None) -> SyncMLMessage | SyncMLError:
    """Decode one SyncML body, XML or WBXML.  Never raises."""
    try:
        return _decode(body, content_type)
    except Exception as exc:  # a decoder bug must not take the analyser down
        return SyncMLError(internal_error(exc))


def _decode(body: bytes, content_type: str | None) -> SyncMLMessage | SyncMLError:
    if not body.strip():
        return SyncMLError("empty body")
    ctx = Problems()
    if _is_wbxml(body, content_type):
        if not _looks_like_xml(body):
            return _decode_wbxml(body)
        ctx.warning(f"Content-Type {_media_type(content_type)} says WBXML but the body is XML")
    cut = markup_cut(body)
    if cut is not None:  # its tree would not fit in memory: decode what fits
        ctx.error(cut_note(MAX_MARKUP, cut, len(body)))
        body = body[:cut]
    root = parse_xml(body, content_type, ctx)
    if root is None:
        return SyncMLError("; ".join(p.partition(": ")[2] for p in ctx.problems) or "XML not parseable")
    return _message(root, "xml", ctx)


def _decode_wbxml(body: bytes) -> SyncMLMessage | SyncMLError:
    # Imported here: the WBXML codec is only needed for WBXML bodies.
    try:
        from decoders import wbxml
    except ImportError as exc:
        return SyncMLError(f"WBXML decoder not available: {exc}")

    fast = wbxml.fast_tree(body)
    if fast is not None:  # the plain case, without the WBXML tree (the same elements, no problems)
        tree, public_id, markup_data = fast
        # A <Data> holding elements (DevInf, MgmtTree) is kept as lxml writes it: parse it then.
        element: Element = wbxml.tree_element(tree, public_id) if markup_data else tree
        return decode_element(element, "wbxml", wbxml_public_id=public_id)
    doc = wbxml.decode(body)
    if isinstance(doc, wbxml.WbxmlError):
        return SyncMLError(f"WBXML: {doc.reason}")
    root = wbxml.to_element(doc)
    msg = decode_element(root, "wbxml")
    if isinstance(msg, SyncMLError):
        return msg
    # The codec's problems come first, marked as such: "warning: WBXML: ...".
    wbxml_problems = tuple(
        "{}: WBXML: {}".format(*p.split(": ", 1)) if ": " in p else p for p in doc.problems
    )
    return replace(msg, wbxml_public_id=doc.public_id, problems=(*wbxml_problems, *msg.problems))


def decode_element(root: Element, encoding: str = "xml", *,
                   wbxml_public_id: int | None = None) -> SyncMLMessage | SyncMLError:
    """Decode an already parsed SyncML element tree (e.g. from the WBXML codec).  Never raises."""
    try:
        return _message(root, encoding, Problems(), wbxml_public_id)
    except Exception as exc:  # a decoder bug must not take the analyser down
        return SyncMLError(internal_error(exc))


def _message(root: Element, encoding: str, ctx: Problems,
             wbxml_public_id: int | None = None) -> SyncMLMessage:
    ns = namespace(root.tag)
    children = kids(root)
    parts = {name for name, _ in children}
    if local(root.tag) != "SyncML":
        ctx.error(f"root element is <{local(root.tag) or '?'}>, not <SyncML>")
        if not parts & {"SyncHdr", "SyncBody"}:  # another document (DevInf, MgmtTree, HTML): stop here
            return SyncMLMessage(encoding=encoding, namespace=ns, wbxml_public_id=wbxml_public_id,
                                 problems=ctx.finish())
    elif ns is not None and not _NAMESPACE_RE.fullmatch(ns):
        ctx.warning(f"SyncML namespace is {ns!r}, not SYNCML:SYNCML1.x")

    hdr_els: list[Element] = []
    body_els: list[Element] = []
    for name, c in children:
        if name == "SyncHdr":
            hdr_els.append(c)
        elif name == "SyncBody":
            body_els.append(c)
        else:
            ctx.limited("warning", "unexpected element", f"unexpected element <{name}> in SyncML")
    for name, els in (("SyncHdr", hdr_els), ("SyncBody", body_els)):
        if not els:
            ctx.error(f"SyncML without {name}")
        elif len(els) > 1:
            ctx.error(f"SyncML has {len(els)} {name} elements; only the first is used")

    header = _header(hdr_els[0], ctx) if hdr_els else SyncHdr()
    if header.ver_dtd and ns and _NAMESPACE_RE.fullmatch(ns) and not ns.upper().endswith(header.ver_dtd):
        ctx.info(f"VerDTD {header.ver_dtd} but namespace {ns}")
    commands: tuple[Command, ...] = ()
    final = False
    if body_els:
        commands, final = _body(body_els[0], ctx)
    _check_cmd_ids(commands, ctx)
    return SyncMLMessage(
        encoding=encoding,
        namespace=ns,
        wbxml_public_id=wbxml_public_id,
        header=header,
        commands=commands,
        final=final,
        problems=ctx.finish(),
    )


_HDR_TEXT: Final = frozenset({"VerDTD", "VerProto", "SessionID", "MsgID", "RespURI"})
_HDR_REQUIRED: Final = ("VerDTD", "VerProto", "SessionID", "MsgID", "Target", "Source")


def _header(el: Element, ctx: Problems) -> SyncHdr:
    text: dict[str, str] = {}
    locs: dict[str, tuple[str | None, str | None]] = {}
    no_resp = False
    cred: Cred | None = None
    meta: Meta | None = None
    for name, c in kids(el):
        if name in _HDR_TEXT:
            text.setdefault(name, share(text_of(c).strip()))  # VerDTD, VerProto, ...: one str each
        elif name in ("Target", "Source"):
            if name not in locs:
                locs[name] = loc(c)
        elif name == "NoResp":
            no_resp = True
        elif name == "Cred":
            cred = cred or parse_cred(c, ctx)
        elif name == "Meta":
            meta = meta or parse_meta(c, ctx)
        else:
            ctx.limited("warning", "unknown element", f"unknown element <{name}> in SyncHdr")
    for req in _HDR_REQUIRED:
        if req not in text and req not in locs:
            ctx.error(f"SyncHdr without {req}")
    proto = text.get("VerProto")
    if proto and not proto.startswith(("DM/1.", "SyncML/1.")):
        ctx.warning(f"unknown VerProto {proto[:40]!r}")
    target, target_name = locs.get("Target", (None, None))
    source, source_name = locs.get("Source", (None, None))
    return SyncHdr(
        ver_dtd=text.get("VerDTD"),
        ver_proto=proto,
        session_id=text.get("SessionID"),
        msg_id=text.get("MsgID"),
        target=target,
        target_name=target_name,
        source=source,
        source_name=source_name,
        resp_uri=text.get("RespURI"),
        no_resp=no_resp,
        cred=cred,
        meta=meta,
    )


def _body(el: Element, ctx: Problems) -> tuple[tuple[Command, ...], bool]:
    walker = Walker(ctx)
    commands: list[Command] = []
    final = False
    for name, c in kids(el):
        if name == "Final":
            if final:
                ctx.limited("warning", "repeated Final", "more than one Final in SyncBody")
            final = True
            continue
        if final:
            ctx.limited("warning", "command after Final", f"{name} after Final")
        if walker.over_limit():
            break
        commands.append(walker.command(c, ()))
    if not commands and not final:
        ctx.warning("SyncBody is empty")
    return tuple(commands), final


def _check_cmd_ids(commands: tuple[Command, ...], ctx: Problems) -> None:
    """CmdIDs must be unique within a message (RepPro §5.1.3); Status/Results refer to them."""
    seen: set[str] = set()
    stack = list(reversed(commands))
    while stack:
        cmd = stack.pop()
        stack.extend(reversed(cmd.children))
        if cmd.cmd_id is None:
            continue
        if cmd.cmd_id in seen:
            ctx.limited("warning", "duplicate CmdID", f"duplicate CmdID {cmd.cmd_id[:20]!r} ({cmd.name})")
        seen.add(cmd.cmd_id)
