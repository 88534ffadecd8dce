"""``dmsniff decode``: one standalone message (WBXML, SyncML XML, Pkg#0, WAP Push) made readable.

The counterpart of libwbxml's ``wbxml2xml`` for the messages engineers pull out of logs
and captures: WBXML comes out as indented XML (nested DevInf/DDF documents included),
SyncML XML as its commands with status and alert codes explained, a Package #0 or a
WAP Push as its fields.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from decoders import notification, syncml, wbxml
from decoders.cwmp._xml import clean_document, local, safe_tostring
from dmsniff.report.records import plain

KINDS = ("auto", "wbxml", "xml", "pkg0", "wap-push")


class DecodeError(Exception):
    """The input is none of the message kinds asked for; the text says why, in one line."""


def detect(data: bytes) -> str:
    """Which kind of message ``data`` looks like."""
    head = data[:512].lstrip()
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return "xml"
    if notification.looks_like_wap_push(data):
        return "wap-push"
    # A Pkg#0 starts with 16 digest bytes that may look like a WBXML header: a clean WBXML
    # decode wins, then a plausible notification, then WBXML with errors.
    doc = wbxml.decode(data) if data[:1] in (b"\x00", b"\x01", b"\x02", b"\x03") else None
    clean = isinstance(doc, wbxml.WbxmlDocument) and doc.language != "UNKNOWN" and not any(
        p.startswith("error:") for p in doc.problems
    )
    if clean:
        return "wbxml"
    if notification.looks_like_notification(data):
        return "pkg0"
    if isinstance(doc, wbxml.WbxmlDocument):
        return "wbxml"
    raise DecodeError("not WBXML, XML, a Package #0 notification or a WAP Push (use --as to force one)")


def decode_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False
) -> tuple[str, list[str]]:
    """The message as text, and the problems found on the way (for stderr)."""
    if not data:
        raise DecodeError("empty input")
    if kind == "auto":
        kind = detect(data)
    if kind in ("pkg0", "wap-push"):
        return _notification(data, kind, as_json)
    # Only a SyncML document has a summary; DevInf, DDF and the rest are printed as XML.
    not_syncml = "info: not a SyncML message (root <{}>): printed as XML"
    if kind == "wbxml":
        doc = wbxml.decode(data)
        if isinstance(doc, wbxml.WbxmlError):
            raise DecodeError(f"WBXML: {doc.reason} (at byte {doc.offset})")
        problems = list(doc.problems)
        if not (summary or as_json) or doc.root.tag != "SyncML":
            if summary or as_json:
                problems.append(not_syncml.format(doc.root.tag))
            return wbxml.to_xml(doc).decode("utf-8"), problems
        rec = syncml.decode(data, "application/vnd.syncml.dm+wbxml")
        problems = []  # the SyncML decode repeats the WBXML layer's problems
    else:
        text, root, cleaned = pretty_xml(data)
        if not (summary or as_json) or root != "SyncML":
            problems = [not_syncml.format(root)] if (summary or as_json) and root != "SyncML" else []
            problems.extend(cleaned)
            if root == "SyncML":
                rec = syncml.decode(data, "application/vnd.syncml.dm+xml")
                if isinstance(rec, syncml.SyncMLMessage):
                    problems.extend(rec.problems)
            return text, problems
        rec = syncml.decode(data, "application/vnd.syncml.dm+xml")
        problems = []
    if isinstance(rec, syncml.SyncMLError):
        raise DecodeError(f"SyncML: {rec.reason}")
    problems.extend(rec.problems)
    if as_json:
        return json.dumps(plain(rec), indent=2, ensure_ascii=False) + "\n", problems
    return syncml_summary(rec), problems


def pretty_xml(data: bytes) -> tuple[str, str, list[str]]:
    """Re-indented XML, the root's local name, and what had to be replaced to read it.

    Characters XML cannot hold are replaced first (a surrogate reference, a control
    character), then the document is read in recover mode; the text comes back through the
    same safe serialisation as everywhere else, so no input ends in an internal error.
    """
    problems: list[str] = []
    encoding = None
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
    return '<?xml version="1.0"?>\n' + safe_tostring(root, pretty=True), name, problems


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
