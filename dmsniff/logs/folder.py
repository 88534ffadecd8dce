"""A folder of saved messages, one per file, read in order (``1_inform.xml``, ``2_informResponse.xml``
…, ``10_Empty.xml``): the way ACS projects keep a recorded session as test material.

Files are taken in natural name order (``2_…`` before ``10_…``); a file's number in that
order is its "frame".  A file that starts with an HTTP start line is a whole message (read as
an HTTP dump: chunked, gzip and all).  A bare body gets its direction from its content:

* CWMP: the CPE sends Inform, TransferComplete, AutonomousTransferComplete, RequestDownload,
  Kicked, (Autonomous)DUStateChangeComplete and its answers to the ACS's methods; the ACS sends
  its methods and the answers to those (``InformResponse`` …).  A Fault, GetRPCMethods (either
  side may call it) or an empty file takes the turn: CWMP is half-duplex, request and answer
  alternate (an empty file in the ACS's turn is its 204 that ends the session);
* SyncML: a message whose SyncHdr Target is a URL goes to the server;
* anything else takes the turn.

Bare bodies have no HTTP head; the one they are given (``POST /``, ``200 OK``, ``204 No
Content`` for an empty answer, a Content-Type for what the body is) is said to be made up in
the capture record's notes.
"""

from __future__ import annotations

import os
import re

from dmsniff.capture import CaptureInfo
from dmsniff.logs.httpdump import looks_like_http, parse_dump
from dmsniff.logs.source import LogError, LogMessage, LogSource

__all__ = ["direction", "open_folder"]

MAX_FILE = 64 << 20
MAX_LISTED = 12  # file names listed in the notes

# CWMP methods a CPE calls on the ACS (TR-069 Amd 6 Table A.1 and A.4); the rest are the ACS's.
_CPE_METHODS = frozenset({
    "Inform", "TransferComplete", "AutonomousTransferComplete", "RequestDownload", "Kicked",
    "DUStateChangeComplete", "AutonomousDUStateChangeComplete",
})
_EITHER = frozenset({"GetRPCMethods", "GetRPCMethodsResponse", "Fault", "empty", "unknown"})


def _natural(name: str) -> list[object]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


def direction(body: bytes) -> tuple[bool | None, str]:
    """(True: sent by the client/CPE, False: by the server/ACS, None: either), and its content type."""
    from dmsniff.protocols import cwmp, omadm

    if not body.strip():
        return None, ""
    if cwmp.recognise(body):
        kind = cwmp.decode(body, None).kind
        if kind in _EITHER:
            return None, "text/xml; charset=utf-8"
        if kind.endswith("Response"):
            return kind[: -len("Response")] not in _CPE_METHODS, "text/xml; charset=utf-8"
        return kind in _CPE_METHODS, "text/xml; charset=utf-8"
    wbxml = body[:1] in (b"\x01", b"\x02", b"\x03")
    ctype = "application/vnd.syncml.dm+wbxml" if wbxml else "application/vnd.syncml.dm+xml"
    rec = omadm.decode_body(body, ctype)
    header = getattr(rec, "header", None)
    if header is not None:
        target = str(getattr(header, "target", "") or "")
        return target.lower().startswith(("http://", "https://")), ctype
    return None, "application/octet-stream"


def open_folder(path: str, info: CaptureInfo) -> LogSource:
    """The folder as a :class:`~dmsniff.logs.source.LogSource` (LogError when it holds no file)."""
    try:
        names = sorted((n for n in os.listdir(path) if not n.startswith(".")
                        and os.path.isfile(os.path.join(path, n))), key=_natural)
    except OSError as exc:
        raise LogError(f"cannot read the folder {path!r}: {exc.strerror or exc}") from None
    if not names:
        raise LogError(f"the folder {path!r} holds no message files")
    info.frame_unit = "file"
    info.packets = len(names)
    listed = ", ".join(f"{i} {n}" for i, n in enumerate(names[:MAX_LISTED], 1))
    more = f", … {len(names)} {names[-1]}" if len(names) > MAX_LISTED else ""
    info.notes.append(f"frames are the files' numbers in name order: {listed}{more}")
    made_up = False

    def events(errors: list[str]):  # type: ignore[no-untyped-def]
        nonlocal made_up
        client_turn = True  # whose turn it is: request, answer, request ...
        for no, name in enumerate(names, 1):
            file = os.path.join(path, name)
            try:
                with open(file, "rb") as f:
                    data = f.read(MAX_FILE + 1)
            except OSError as exc:
                errors.append(f"{name}: cannot read: {exc.strerror or exc}")
                continue
            if len(data) > MAX_FILE:
                errors.append(f"{name}: larger than {MAX_FILE >> 20} MiB: not one message, skipped")
                continue
            if looks_like_http(data):
                sub: list[str] = []
                for m in parse_dump(data, sub):
                    if isinstance(m, LogMessage):
                        m.line, m.frames, m.connection = no, [no], "folder"
                        if m.server is None and m.request:
                            m.server = None
                        client_turn = not m.request
                        yield m
                errors.extend(f"{name}: {e}" for e in sub)
                continue
            sent_by_client, ctype = direction(data)
            request = client_turn if sent_by_client is None else sent_by_client
            client_turn = not request
            made_up = True
            headers = [("Content-Type", ctype)] if data.strip() else []
            if request:
                length = ("Content-Length", str(len(data)))
                yield LogMessage(line=no, request=True, headers=[*headers, length], body=data, method="POST",
                                 uri="/", connection="folder")
            else:
                empty = not data.strip()
                yield LogMessage(line=no, request=False, status=204 if empty else 200,
                                 reason="No Content" if empty else "OK",
                                 headers=headers + ([] if empty else [("Content-Length", str(len(data)))]),
                                 body=b"" if empty else data, connection="folder")
        if made_up:
            info.notes.append("the files are bodies without HTTP heads: each is given a made-up one (POST /, "
                              "200 OK, 204 No Content for an empty answer); directions come from the content")

    return LogSource(path, "folder", info, events)
