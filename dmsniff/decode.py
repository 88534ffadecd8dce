"""``dmsniff decode``: one standalone message (WBXML, SyncML XML, CWMP, Pkg#0, WAP Push) made readable.

The counterpart of libwbxml's ``wbxml2xml`` for the messages engineers pull out of logs
and captures: WBXML comes out as indented XML (nested DevInf/DDF documents included),
SyncML XML as its commands with status and alert codes explained, a CWMP (TR-069 SOAP)
message as its RPC, header, events, parameters and faults explained, a Package #0 or a
WAP Push as its fields.  A CWMP message pasted from an article or a log (a bare RPC, quotes
a web page made typographic) is repaired by :func:`decoders.cwmp.decode_pasted`, with warnings.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any

from lxml import etree

from decoders import cwmp, notification, syncml, wbxml
from decoders.cwmp._budget import MAX_MARKUP, cut_note, markup_cut
from decoders.cwmp._xml import clean_document, local
from dmsniff.report.records import plain

KINDS = ("auto", "wbxml", "xml", "cwmp", "pkg0", "wap-push")


class DecodeError(Exception):
    """The input is none of the message kinds asked for; the text says why, in one line."""


def detect(data: bytes) -> str:
    """Which kind of message ``data`` looks like."""
    return _detect(data)[0]


def _detect(data: bytes) -> tuple[str, wbxml.WbxmlDocument | wbxml.WbxmlError | None]:
    """The kind, and the WBXML decode made to find it (so that it is not made twice)."""
    head = data[:512].lstrip()
    if head.startswith((b"<", b"\xef\xbb\xbf<", b"&lt;")):  # (&lt;: a document copied from a web page)
        return "xml", None
    if cwmp.looks_like_cwmp(data):  # after a log line's or an article's text
        return "cwmp", None
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
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False,
    content_type: str | None = None,
) -> tuple[str, list[str]]:
    """The message as text, and the problems found on the way (for stderr)."""
    pieces, problems = stream_message(data, kind, summary, as_json, content_type)
    decoder = codecs.getincrementaldecoder("utf-8")()  # (a piece may end inside a character)
    return "".join(decoder.decode(piece) for piece in pieces) + decoder.decode(b"", final=True), problems


def render_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False,
    content_type: str | None = None,
) -> tuple[list[bytes], list[str]]:
    """What :func:`decode_message` prints, as UTF-8 pieces to write one after the other."""
    pieces, problems = stream_message(data, kind, summary, as_json, content_type)
    return list(pieces), problems


def stream_message(
    data: bytes, kind: str = "auto", summary: bool = False, as_json: bool = False,
    content_type: str | None = None,
) -> tuple[Iterator[bytes], list[str]]:
    """:func:`render_message`, with the pieces made as they are taken.

    ``content_type`` is the HTTP Content-Type the message came with, if any: a SyncML type
    makes it SyncML, a charset is honoured for CWMP.

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
                           lambda body, ctype: render_message(body, "auto", summary, as_json, ctype),
                           DecodeError)
        if http is not None:
            return iter(http[0]), http[1]
    doc: wbxml.WbxmlDocument | wbxml.WbxmlError | None = None
    if kind == "auto":
        kind, doc = _detect(data)
    if kind == "cwmp" or (
        kind == "xml" and not syncml.looks_like_syncml(data, content_type) and cwmp.looks_like_cwmp(data)
    ):
        return _cwmp(data, content_type, summary, as_json)
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


def _cwmp(
    data: bytes, content_type: str | None, summary: bool, as_json: bool
) -> tuple[Iterator[bytes], list[str]]:
    """A CWMP message or a pasted fragment of one: summary, JSON record, or re-indented XML."""
    pasted = cwmp.decode_pasted(data, content_type)
    msg = pasted.message
    problems = list(msg.problems)
    if msg.kind == "unknown" and msg.header == cwmp.CwmpHeader() and (summary or as_json):  # nothing CWMP
        reason = next((p.partition(": ")[2] for p in msg.problems if p.startswith("error: ")), "not CWMP")
        raise DecodeError(f"CWMP: {reason}")
    if as_json:
        return iter([(json.dumps(plain(msg), indent=2, ensure_ascii=False) + "\n").encode("utf-8")]), problems
    if summary:
        return iter([cwmp_summary(msg).encode("utf-8")]), problems
    if not pasted.elements:  # read as it stands: print it as it stands, re-indented
        xml, _, cleaned = _pretty_xml(data)
        return iter([_XML_DECLARATION, xml]), [*cleaned, *problems]
    pieces = [_XML_DECLARATION]
    for element in pasted.elements:  # (serialised by lxml: well-formed, so nothing to clean)
        pieces.append(_pretty_xml(element)[0])
    return iter(pieces), problems


def cwmp_summary(msg: cwmp.CwmpMessage) -> str:
    """The RPC and its header, then its arguments: events and faults explained, parameter lists
    as aligned name / value / type rows."""
    version = f"CWMP {msg.cwmp_version} ({msg.namespace})" if msg.cwmp_version else "CWMP version unknown"
    lines = [f"{_KIND_TITLES.get(msg.kind, msg.kind)}, {version}"]
    h = msg.header
    fields = [
        ("ID", h.id if h.id is None else repr(h.id) if h.id != h.id.strip() or not h.id else h.id),
        ("HoldRequests", _flag(h.hold_requests)),
        ("NoMoreRequests", _flag(h.no_more_requests)),
        ("SessionTimeout", h.session_timeout),
        ("SupportedCWMPVersions", h.supported_cwmp_versions),
        ("UseCWMPVersion", h.use_cwmp_version),
        *h.other,
    ]
    header = "  ".join(f"{k} {v}" for k, v in fields if v is not None)
    lines.append(f"  Header: {header}" if header else "  (no SOAP header: no cwmp:ID)")
    rpc = msg.rpc
    if rpc is not None:
        lines.extend(_rpc_lines(msg.kind, rpc))
    if msg.fault is not None:
        lines.extend(_fault_lines(msg.fault))
    return "\n".join(lines) + "\n"


_KIND_TITLES = {
    "Fault": "SOAP Fault",
    "empty": "empty SOAP Body (no RPC)",
    "unknown": "no RPC decoded",
}


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("1 (true)" if value else "0 (false)")


def _rpc_lines(kind: str, rpc: cwmp.Rpc) -> list[str]:
    lines: list[str] = []
    if isinstance(rpc, cwmp.Inform):
        d = rpc.device_id
        lines.append("  DeviceId")
        lines.extend(_rows([("Manufacturer", d.manufacturer), ("OUI", d.oui),
                            ("ProductClass", d.product_class), ("SerialNumber", d.serial_number)], 4))
        lines.append(f"  Events ({len(rpc.events)})")
        rows = []
        for ev in rpc.events:
            why = cwmp.codes.event_description(ev.code) or "not a CWMP event code"
            if ev.meaning is not None and "(sent as" in ev.meaning:
                why = f"{ev.meaning}: {why}"
            rows.append((ev.code, why + (f" [CommandKey {ev.command_key!r}]" if ev.command_key else "")))
        lines.extend(_rows(rows, 4))
        scalars = "  ".join(
            f"{k} {v}" for k, v in (("MaxEnvelopes", rpc.max_envelopes), ("RetryCount", rpc.retry_count),
                                    ("CurrentTime", rpc.current_time)) if v is not None)
        if scalars:
            lines.append("  " + scalars)
        lines.extend(_parameters("ParameterList", rpc.parameters))
    elif isinstance(rpc, cwmp.GenericRpc):
        lines.extend(_rows(list(rpc.fields), 2))
    elif isinstance(rpc, cwmp.GetParameterValuesResponse):
        lines.extend(_parameters("ParameterList", rpc.parameters))
    elif isinstance(rpc, cwmp.SetParameterValues):
        lines.append(f"  ParameterKey {rpc.parameter_key!r}")
        lines.extend(_parameters("ParameterList", rpc.parameters))
    elif isinstance(rpc, cwmp.GetParameterValues | cwmp.GetParameterAttributes):
        lines.append(f"  ParameterNames ({len(rpc.names)})")
        lines.extend(f"    {_cell(n)}" for n in rpc.names)
    elif isinstance(rpc, cwmp.GetRPCMethodsResponse):
        lines.append(f"  MethodList ({len(rpc.methods)})")
        lines.extend(f"    {_cell(m)}" for m in rpc.methods)
    elif isinstance(rpc, cwmp.GetParameterNamesResponse):
        lines.append(f"  ParameterList ({len(rpc.entries)}): name / writable")
        lines.extend(_rows([(e.name, "?" if e.writable is None else "writable" if e.writable else "read-only")
                            for e in rpc.entries], 4))
    elif isinstance(rpc, cwmp.GetParameterAttributesResponse):
        lines.append(f"  ParameterList ({len(rpc.parameters)}): name / notification / access list")
        lines.extend(_rows([(p.name, f"{_notification_text(p.notification)}  "
                             f"[{', '.join(p.access_list)}]") for p in rpc.parameters], 4))
    elif isinstance(rpc, cwmp.SetParameterAttributes):
        lines.append(f"  ParameterList ({len(rpc.parameters)}): name / notification / access list")
        lines.extend(_rows([(p.name, (_notification_text(p.notification) if p.notification_change
                                      else "notification unchanged") + "  "
                             + (f"[{', '.join(p.access_list)}]" if p.access_list_change
                                else "access list unchanged")) for p in rpc.parameters], 4))
    else:  # the RPCs of a few scalar arguments, each on its line
        lines.extend(_rows([(_FIELD_NAMES.get(f.name, f.name), _scalar(kind, f.name, getattr(rpc, f.name)))
                            for f in fields(rpc)], 2))
    return lines


def _scalar(kind: str, field: str, value: object) -> str:
    if value is None:
        return "(absent)"
    if field == "status" and isinstance(value, int):
        meaning = cwmp.codes.status_meaning(kind, value)
        return f"{value} ({meaning})" if meaning else f"{value} (neither 0 nor 1)"
    if isinstance(value, bool):
        return str(_flag(value))
    if field == "fault_code" and isinstance(value, int):
        return f"{value} {cwmp.codes.fault_meaning(value)}"
    return repr(value) if isinstance(value, str) and (not value or not value.isprintable()) else str(value)


# Record field names spelled as on the wire.
_FIELD_NAMES = {
    "max_envelopes": "MaxEnvelopes", "status": "Status", "path": "ParameterPath", "next_level": "NextLevel",
    "object_name": "ObjectName", "parameter_key": "ParameterKey", "instance_number": "InstanceNumber",
    "command_key": "CommandKey", "file_type": "FileType", "url": "URL", "username": "Username",
    "password": "Password", "file_size": "FileSize", "target_file_name": "TargetFileName",
    "delay_seconds": "DelaySeconds", "success_url": "SuccessURL", "failure_url": "FailureURL",
    "start_time": "StartTime", "complete_time": "CompleteTime", "fault_code": "FaultCode",
    "fault_string": "FaultString",
}


def _notification_text(value: int | None) -> str:
    if value is None:
        return "?"
    return f"{value} ({cwmp.codes.NOTIFICATION_VALUES.get(value, 'not a Notification value')})"


def _parameters(title: str, params: cwmp.ParameterValues) -> list[str]:
    lines = [f"  {title} ({len(params)}): name / value / type"]
    if not params:
        return lines
    names = [_cell(p.name) for p in params]
    values = [_cell(p.value) for p in params]
    name_w = min(max(map(len, names)), _WIDTH)
    # The type column lines up after the values most rows have; a longer one pushes its own row.
    value_w = max((len(v) for v in values if len(v) <= _VALUE_WIDTH), default=0)
    for n, v, p in zip(names, values, params, strict=True):
        lines.append(f"    {n:<{name_w}}  {v:<{value_w}}  {p.type or '(no type)'}".rstrip())
    return lines


def _fault_lines(f: cwmp.FaultRecord) -> list[str]:
    lines = [f"  faultcode {f.faultcode or '(none)'}  faultstring {f.faultstring!r}"]
    if f.code is None and not f.string:
        lines.append(f"  cwmp:Fault: {f.meaning}")
        return lines
    lines.append(f"  FaultCode {f.code if f.code is not None else '(none)'}: {f.meaning}")
    if f.string:
        lines.append(f"  FaultString {f.string!r}")
    if f.parameter_faults:
        lines.append(f"  SetParameterValuesFault ({len(f.parameter_faults)}): name / code / string")
        lines.extend(_rows([(p.name, f"{p.code if p.code is not None else '?'} {p.meaning}"
                             + (f"  {p.string!r}" if p.string else "")) for p in f.parameter_faults], 4))
    return lines


_WIDTH = 72  # columns wider than this are not padded further
_VALUE_WIDTH = 40


def _rows(rows: list[tuple[str, str]], indent: int) -> list[str]:
    """``name  value`` rows, the values aligned."""
    if not rows:
        return []
    cells = [(_cell(k), v) for k, v in rows]
    width = min(max(len(k) for k, _ in cells), _WIDTH)
    pad = " " * indent
    return [f"{pad}{k:<{width}}  {v}".rstrip() for k, v in cells]


def _cell(text: str) -> str:
    """One line of a table: text with line breaks or control characters quoted, long text cut."""
    if not text:
        return '""'
    if not text.isprintable() or text != text.strip():
        text = repr(text)
    return text if len(text) <= 120 else text[:119] + "…"


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
    }
    if rec.num_syncs is None:  # DM: what follows the server identifier is the vendor's
        fields["vendor"] = rec.vendor.hex() or "(none)"
    else:  # DS SAN: it is the sync list, shown below
        fields["num_syncs"] = f"{rec.num_syncs}" + (" (every data store)" if rec.num_syncs == 0 else "")
    out["notification"] = plain(rec)
    lines.append("Package #0 notification")
    lines.extend(f"  {k}: {v}" for k, v in fields.items())
    for i, sync in enumerate(rec.syncs, 1):
        kind = f"{sync.sync_type} (alert {sync.alert_code}, {sync.sync_type_name or 'not a valid sync type'})"
        content = "0 (not specified)"
        if sync.content_type:
            content = f"{sync.content_type} ({sync.content_type_name or 'unknown WSP code'})"
        lines.append(f"  sync {i}: {sync.server_uri!r}, type {kind}, content type {content}")
    return _finish(lines, out, as_json), problems


def _finish(lines: list[str], out: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    return "\n".join(lines) + "\n"
