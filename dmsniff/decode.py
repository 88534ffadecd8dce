"""``dmsniff decode``: one standalone message (WBXML, SyncML XML, Pkg#0, WAP Push) made readable.

The counterpart of libwbxml's ``wbxml2xml`` for the messages engineers pull out of logs
and captures: WBXML comes out as indented XML (nested DevInf/DDF documents included),
SyncML XML as its commands with status and alert codes explained, a Package #0 or a
WAP Push as its fields.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from lxml import etree

from decoders import notification, syncml, wbxml
from decoders.cwmp._budget import MAX_MARKUP, cut_note, markup_cut
from decoders.cwmp._xml import clean_document, local
from dmsniff.report.records import plain

KINDS = ("auto", "wbxml", "xml", "pkg0", "wap-push")


class DecodeError(Exception):
    """The input is none of the message kinds asked for; the text says why, in one line."""


def detect(data: bytes) -> str:
    """Which kind of message ``data`` looks like."""
    return _detect(data)[0]


def _detect(data: bytes) -> tuple[str, wbxml.WbxmlDocument | wbxml.WbxmlError | None]:
    """The kind, and the WBXML decode made to find it (so that it is not made twice)."""
    head = data[:512].lstrip()
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return "xml", None
    if notification.looks_like_wap_push(data):
        return "wap-push", None
    # A Pkg#0 starts with 16 digest bytes that may look like a WBXML header: a clean WBXML
    # decode wins, then a plausible notification, then WBXML with errors.
    doc = wbxml.decode(data) if data[:1] in (b"\x00", b"\x01", b"\x02", b"\x03") else None
    clean = isinstance(doc, wbxml.WbxmlDocument) and doc.language != "UNKNOWN" and not any(
        p.startswith("error:") for p in doc.problems
    )
    if clean:
        return "wbxml", doc
    if notification.looks_like_notification(data):
        return "pkg0", None
    if isinstance(doc, wbxml.WbxmlDocument):
        return "wbxml", doc
    raise DecodeError("not WBXML, XML, a Package #0 notification or a WAP Push (use --as to force one)")


def decode_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False
) -> tuple[str, list[str]]:
    """The message as text, and the problems found on the way (for stderr)."""
    pieces, problems = stream_message(data, kind, summary, as_json)
    decoder = codecs.getincrementaldecoder("utf-8")()  # (a piece may end inside a character)
    return "".join(decoder.decode(piece) for piece in pieces) + decoder.decode(b"", final=True), problems


def render_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False
) -> tuple[list[bytes], list[str]]:
    """What :func:`decode_message` prints, as UTF-8 pieces to write one after the other."""
    pieces, problems = stream_message(data, kind, summary, as_json)
    return list(pieces), problems


def stream_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False
) -> tuple[Iterator[bytes], list[str]]:
    """:func:`render_message`, with the pieces made as they are taken.

    Everything that can fail has run when this returns (a :class:`DecodeError` is raised
    here); the pieces only serialise.  Bytes, not text, and in pieces: the XML of a 50 MB
    message is never copied into one string, nor encoded again on its way out, and a large
    WBXML OPAQUE is written a slice at a time (``wbxml.to_xml_chunks``).  Writing them to
    ``sys.stdout.buffer`` as they come is what keeps ``dmsniff decode`` of a 50 MB message
    under 200 MB.
    """
    if not data:
        raise DecodeError("empty input")
    if kind == "auto":  # a message with its HTTP head (from a log or a ticket): head, then the body
        from dmsniff.logs.httpdump import render_http

        http = render_http(data, summary, as_json,
                           lambda body: render_message(body, "auto", summary, as_json), DecodeError)
        if http is not None:
            return iter(http[0]), http[1]
    doc: wbxml.WbxmlDocument | wbxml.WbxmlError | None = None
    if kind == "auto":
        kind, doc = _detect(data)
    if kind in ("pkg0", "wap-push"):
        text, problems = _notification(data, kind, as_json)
        return iter([text.encode("utf-8")]), problems
    # Only a SyncML document has a summary; DevInf, DDF and the rest are printed as XML.
    not_syncml = "info: not a SyncML message (root <{}>): printed as XML"
    if kind == "wbxml":
        if doc is None:
            doc = wbxml.decode(data)
        if isinstance(doc, wbxml.WbxmlError):
            raise DecodeError(f"WBXML: {doc.reason} (at byte {doc.offset})")
        problems = list(doc.problems)
        if not (summary or as_json) or doc.root.tag != "SyncML":
            if summary or as_json:
                problems.append(not_syncml.format(doc.root.tag))
            return wbxml.to_xml_chunks(doc), problems
        del doc  # (a large OPAQUE is not kept twice)
        rec = syncml.decode(data, "application/vnd.syncml.dm+wbxml")
        problems = []  # the SyncML decode repeats the WBXML layer's problems
    else:
        if not (summary or as_json):
            # The SyncML decode runs first when the message looks like one, keeping only its
            # problems, so that its peak and the printed XML's never add up (50 MB of raw '&').
            early: list[str] | None = None
            if syncml.looks_like_syncml(data):
                early = _syncml_problems(data)
            xml, root, cleaned = _pretty_xml(data)
            problems = list(cleaned)
            if root == "SyncML":
                problems.extend(early if early is not None else _syncml_problems(data))
            return iter([_XML_DECLARATION, xml]), problems
        xml, root, cleaned = _pretty_xml(data)
        if root != "SyncML":
            return iter([_XML_DECLARATION, xml]), [not_syncml.format(root), *cleaned]
        del xml
        rec = syncml.decode(data, "application/vnd.syncml.dm+xml")
        problems = []
    if isinstance(rec, syncml.SyncMLError):
        raise DecodeError(f"SyncML: {rec.reason}")
    problems.extend(rec.problems)
    if as_json:
        return iter(_json_pieces(rec)), problems
    return iter([syncml_summary(rec).encode("utf-8")]), problems


def _syncml_problems(data: bytes) -> list[str]:
    rec = syncml.decode(data, "application/vnd.syncml.dm+xml")
    return list(rec.problems) if isinstance(rec, syncml.SyncMLMessage) else []


def _json_pieces(rec: syncml.SyncMLMessage) -> list[bytes]:
    """``json.dumps(plain(rec), indent=2, ensure_ascii=False) + "\\n"``, made one command at a time.

    With an indent, json.dumps runs its pure-Python encoder and joins a list of every token of
    the document: for 60,000 Status commands, the dicts and that list took 110 MB besides the
    record.  Each command is encoded alone and indented one level deeper (JSON text holds no raw
    newline inside a string, so every newline starts a line of the layout).
    """
    if not rec.commands:
        return [(json.dumps(plain(rec), indent=2, ensure_ascii=False) + "\n").encode("utf-8")]
    outline = json.dumps(plain(replace(rec, commands=())), indent=2, ensure_ascii=False)
    before, marker, after = outline.partition(_EMPTY_COMMANDS)
    assert marker, outline  # the top-level key, at its indentation: no string can hold it unescaped
    pieces = [(before + '\n  "commands": [\n').encode("utf-8")]
    batch: list[str] = []
    for cmd in rec.commands:
        batch.append("    " + json.dumps(plain(cmd), indent=2, ensure_ascii=False).replace("\n", "\n    "))
        if len(batch) == 1000:
            pieces.append((",\n".join(batch) + ",\n").encode("utf-8"))
            batch.clear()
    tail = ",\n".join(batch) if batch else ""
    if not batch:  # the last batch was full: take back its trailing separator
        pieces[-1] = pieces[-1][:-2]
    pieces.append((tail + "\n  ]" + after + "\n").encode("utf-8"))
    return pieces


_EMPTY_COMMANDS = '\n  "commands": []'


_XML_DECLARATION = b'<?xml version="1.0"?>\n'


def pretty_xml(data: bytes) -> tuple[str, str, list[str]]:
    """Re-indented XML, the root's local name, and what had to be replaced to read it.

    Characters XML cannot hold are replaced first (a surrogate reference, a control
    character), then the document is read in recover mode; the text comes back through the
    same safe serialisation as everywhere else, so no input ends in an internal error.
    """
    xml, name, problems = _pretty_xml(data)
    return (_XML_DECLARATION + xml).decode("utf-8", "replace"), name, problems


def _pretty_xml(data: bytes) -> tuple[bytes, str, list[str]]:
    """:func:`pretty_xml` without the declaration line, as UTF-8 bytes.

    Only as much of the document as the markup budget allows becomes a tree (the rest is cut,
    with a warning): in recover mode libxml2 makes a node even of an undeclared ``&a;``, and a
    64 MiB message of them would take 3 GB.
    """
    problems: list[str] = []
    encoding = None
    cut = markup_cut(data)
    if cut is not None:
        problems.append("warning: " + cut_note(MAX_MARKUP, cut, len(data)))
        data = data[:cut]
    cleaned = clean_document(data, None)
    if cleaned is not None:
        data, replaced = cleaned
        encoding = "utf-8"
        problems.append(f"warning: {replaced} character(s) XML cannot hold replaced by U+FFFD")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True,
                             remove_blank_text=True, encoding=encoding)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DecodeError(f"XML: {exc}") from None
    if root is None:
        raise DecodeError("XML: no element could be read")
    name = local(root.tag).rpartition(":")[2]  # an unbound prefix stays in the tag in recover mode
    return _safe_tobytes(root), name, problems


def _safe_tobytes(el: etree._Element) -> bytes:
    """``safe_tostring(el, pretty=True)`` as UTF-8: bytes lxml hands back that are not UTF-8 are
    replaced as there; checked without a copy when they are ASCII, as most documents are."""
    raw = etree.tostring(el, encoding="utf-8", pretty_print=True, with_tail=False)
    return raw if raw.isascii() else raw.decode("utf-8", "replace").encode("utf-8")


def syncml_summary(rec: syncml.SyncMLMessage) -> str:
    """Header fields, then one line per command with codes explained (Status/Alert) and items."""
    h = rec.header
    lines = [
        f"SyncML {h.ver_proto or '?'} (VerDTD {h.ver_dtd or '?'}), {rec.encoding}"
        + (f", WBXML public id 0x{rec.wbxml_public_id:04X}" if rec.wbxml_public_id is not None else ""),
        f"  SessionID {h.session_id}  MsgID {h.msg_id}" + ("  NoResp" if h.no_resp else ""),
        f"  Source {h.source}" + (f" ({h.source_name})" if h.source_name else ""),
        f"  Target {h.target}" + (f" ({h.target_name})" if h.target_name else ""),
    ]
    if h.resp_uri:
        lines.append(f"  RespURI {h.resp_uri}")
    if h.cred is not None:
        lines.append(f"  Cred {h.cred.type or '?'} ({h.cred.format or 'no format'}) {h.cred.data}")
    if h.meta is not None:
        meta = ", ".join(
            f"{k} {v}"
            for k, v in (("MaxMsgSize", h.meta.max_msg_size), ("MaxObjSize", h.meta.max_obj_size))
            if v is not None
        )
        if meta:
            lines.append(f"  Meta {meta}")
    stack: list[tuple[syncml.Command, int]] = [(c, 1) for c in reversed(rec.commands)]
    while stack:
        c, depth = stack.pop()
        pad = "  " * depth
        line = f"{pad}{c.name} {c.cmd_id or '(no CmdID)'}"
        if c.name in ("Status", "Results"):
            line += f" → {c.cmd or '?'} {c.cmd_ref} of msg {c.msg_ref}"
        if c.code is not None:
            line += f": {c.code} {c.meaning or ''}".rstrip()
        if c.no_resp:
            line += "  NoResp"
        lines.append(line)
        if c.chal is not None:
            lines.append(
                f"{pad}  Chal {c.chal.type or '?'} ({c.chal.meta.format or 'no format'}) "
                f"NextNonce {c.chal.next_nonce}"
            )
        for it in c.items:
            where = it.target or it.source or "(item)"
            value = (
                ""
                if it.data is None
                else (f" = {it.data!r}" if len(it.data) < 80 else f" = {it.data[:77]!r}…")
            )
            if it.embedded:
                value = f" = <{it.embedded}> document"
            more = " (MoreData)" if it.more_data else ""
            fmt = f" [{it.meta.format}]" if it.meta is not None and it.meta.format else ""
            lines.append(f"{pad}  {where}{fmt}{value}{more}")
        stack.extend((child, depth + 1) for child in reversed(c.children))
    lines.append("  Final" if rec.final else "  (no Final: the package continues in the next message)")
    return "\n".join(lines) + "\n"


def _notification(data: bytes, kind: str, as_json: bool) -> tuple[str, list[str]]:
    problems: list[str] = []
    lines: list[str] = []
    out: dict[str, Any] = {}
    if kind == "wap-push":
        push = notification.decode_wap_push(data)
        if isinstance(push, notification.NotificationError):
            raise DecodeError(f"WAP Push: {push.reason}")
        problems.extend(push.problems)
        out["wap_push"] = {
            "transaction_id": push.transaction_id,
            "content_type": push.content_type,
            "headers": [list(h) for h in push.headers],
            "application_id": push.application_id,
        }
        lines.append(f"WAP Push (connectionless WSP), TID {push.transaction_id}, {push.content_type}")
        lines.extend(f"  {name}: {value}" for name, value in push.headers)
        rec: object = push.notification
        if rec is None:
            lines.append(f"  body: {len(push.body)} bytes (not a SyncML notification)")
            return _finish(lines, out, as_json), problems
    else:
        rec = notification.decode(data)
    if isinstance(rec, notification.NotificationError):
        raise DecodeError(f"Package #0: {rec.reason}")
    assert isinstance(rec, notification.Notification)
    problems.extend(rec.problems)
    fields = {
        "digest": rec.digest.hex(),
        "version": rec.version_text,
        "ui_mode": f"{rec.ui_mode} ({rec.ui_mode_name})",
        "initiator": f"{rec.initiator} ({rec.initiator_name})",
        "session_id": f"{rec.session_id} (SessionID {rec.session_id_hex} in Package #1)",
        "server_id": rec.server_id,
        "vendor": rec.vendor.hex() or "(none)",
    }
    out["notification"] = plain(rec)
    lines.append("Package #0 notification")
    lines.extend(f"  {k}: {v}" for k, v in fields.items())
    for i, sync in enumerate(rec.syncs, 1):
        lines.append(f"  sync {i}: {plain(sync)}")
    return _finish(lines, out, as_json), problems


def _finish(lines: list[str], out: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    return "\n".join(lines) + "\n"
