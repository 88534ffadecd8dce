"""GenieACS debug logs: what ``genieacs-cwmp`` writes to ``GENIEACS_DEBUG_FILE``.

Its ``lib/debug.ts`` appends one record per HTTP message it receives or sends, as a YAML
document (``GENIEACS_DEBUG_FORMAT=yaml``, the default: ``---`` then the fields) or a JSON
line (``json``), with these fields:

* ``incoming HTTP request`` (from a CPE): ``timestamp``, ``remoteAddress``, ``deviceId``,
  ``connection`` (when the socket was first seen: it names the connection), ``localPort``,
  ``method``, ``url``, ``headers`` (Node's object: lower-case names, ``set-cookie`` a list),
  ``body``;
* ``outgoing HTTP response``: ``statusCode``, ``headers`` (``content-length`` a number) and
  ``body``;
* ``outgoing HTTP request`` / ``incoming HTTP response``: a connection request to a CPE
  (``remotePort``; a failed one has ``error`` and ``connection: null``);
* ``outgoing UDP message``: a TR-111 UDP connection request (``remotePort``, ``body``);
* ``client error`` (``error``) and XMPP stanzas.

Bodies are logged as text after GenieACS undid any Content-Encoding (and before it applied
its own to a response), so they are taken as they stand.  The log shows neither the ACS's
address (the Host header the CPE sent names the server) nor the CPE's port.

YAML is read with PyYAML's safe loader (C-accelerated where libyaml is there), one document
at a time, so a broken document costs itself only.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterator
from typing import Any

from dmsniff.capture import CaptureInfo
from dmsniff.logs.source import LogDatagram, LogMessage, endpoint

__all__ = ["looks_like", "parse"]

_EVENT = re.compile(rb"^event: (?:incoming|outgoing) (?:HTTP|UDP|XMPP)|^event: client error", re.M)
_JSON_EVENT = re.compile(rb'^\{"event":"(?:incoming|outgoing|client)')
MAX_NOTES = 20


def looks_like(head: bytes) -> bool:
    """A YAML debug log (``---`` documents with an ``event`` field) or its JSON Lines form."""
    text = head.lstrip(b"\r\n ")
    if _JSON_EVENT.match(text):
        return True
    if text.startswith(b"---") and text[3:4] in (b"\n", b"\r"):
        first = text[3:].lstrip(b"\r\n")
        return _EVENT.match(first) is not None
    return False


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(data: bytes, errors: list[str], info: CaptureInfo) -> Iterator[LogMessage | LogDatagram]:
    """Every record of the log as messages and datagrams, in order; faults go to ``errors``."""
    lines = data.split(b"\n")
    info.packets = len(lines) - (1 if lines and lines[-1] == b"" else 0)
    cut = not data.endswith(b"\n")
    reader = _Reader(errors, info)
    if _JSON_EVENT.match(data.lstrip(b"\r\n ")):
        for no, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            last = cut and no == len(lines)
            try:
                rec = json.loads(raw)
            except ValueError as exc:
                what = "cut short at the end of the file" if last else f"not JSON ({exc})"
                errors.append(f"line {no}: a record {what}: skipped")
                continue
            yield from reader.record(rec, no, no, last)
        return
    import yaml

    loader = _loader()
    start = 0  # index (0-based) of the document's first line, after its "---"
    for i in range(len(lines) + 1):
        if i < len(lines) and lines[i].rstrip(b"\r") != b"---":
            continue
        if i > start and any(ln.strip() for ln in lines[start:i]):
            doc = b"\n".join(lines[start:i])
            first = start + 1 + next(k for k, ln in enumerate(lines[start:i]) if ln.strip())
            last_line = i if i < len(lines) else len(lines) - (1 if lines[-1] == b"" else 0)
            last = cut and i == len(lines)
            try:
                rec = yaml.load(doc, Loader=loader)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {start + 1 + mark.line}" if mark is not None else ""
                problem = getattr(exc, "problem", None) or type(exc).__name__
                what = "cut short at the end of the file" if last else f"not valid YAML ({problem}{where})"
                errors.append(f"lines {first}–{last_line}: a record {what}: skipped")
            else:
                yield from reader.record(rec, first, last_line, last)
        start = i + 1


def _time(value: object) -> float | None:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)  # Date.toJSON() is UTC
        return value.timestamp()
    if isinstance(value, str):
        try:
            return _time(_dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _headers(value: object) -> list[tuple[str, str]]:
    """Node's headers object as wire-order pairs (``set-cookie`` arrays become one header each)."""
    out: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return out
    for name, v in value.items():
        for item in v if isinstance(v, list) else [v]:
            if item is None:
                continue
            text = item if isinstance(item, str) else (json.dumps(item) if isinstance(item, bool)
                                                       else str(item))
            out.append((str(name), text))
    return out


def _body(value: object) -> bytes:
    if value is None:
        return b""
    return (value if isinstance(value, str) else str(value)).encode("utf-8", "surrogatepass")


class _Reader:
    """Turns records into messages; keeps what the log says about itself for the notes."""

    def __init__(self, errors: list[str], info: CaptureInfo) -> None:
        self.errors = errors
        self.info = info
        self.notes = 0
        self.xmpp = 0
        info.notes.append("GenieACS logs bodies after undoing their Content-Encoding and does not log the "
                          "ACS's own address (the Host header the CPE sent names it) nor the CPE's port")

    def _note(self, text: str) -> None:
        self.notes += 1
        if self.notes <= MAX_NOTES:
            self.info.notes.append(text)
        elif self.notes == MAX_NOTES + 1:
            self.info.notes.append("further notes from the log left out")

    def record(self, rec: object, line: int, last_line: int, cut: bool) -> Iterator[LogMessage | LogDatagram]:
        if not isinstance(rec, dict) or not isinstance(rec.get("event"), str):
            self.errors.append(f"line {line}: not a GenieACS debug record (no event): skipped")
            return
        event = rec["event"]
        t = _time(rec.get("timestamp"))
        remote = rec.get("remoteAddress")
        remote = str(remote) if remote is not None else None
        conn = rec.get("connection")
        problems = []
        if cut:
            problems.append("the log ends inside this record: it may be cut short")
        if t is None:
            problems.append("no timestamp in the record")
        frames = [line, last_line] if last_line > line else [line]
        if event in ("incoming HTTP request", "outgoing HTTP request"):
            incoming = event.startswith("incoming")
            headers = _headers(rec.get("headers"))
            if "body" not in rec and "error" not in rec:
                problems.append("the record has no body")
            msg = LogMessage(line=line, request=True, headers=headers, body=_body(rec.get("body")),
                             method=str(rec.get("method") or "GET"), uri=str(rec.get("url") or "/"),
                             time=t, wire_body=False, problems=problems, frames=frames, complete=not cut)
            if incoming:
                msg.connection = f"in {remote} {_conn_name(conn, line)}"
                msg.client = endpoint(remote, 0)
                host = next((v for k, v in headers if k.lower() == "host"), "")
                name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
                local = rec.get("localPort")
                msg.server = endpoint(name or None, local if local not in (None, "") else port or 80)
            else:
                msg.connection = f"out {remote} {_conn_name(conn, line)}"
                rport = rec.get("remotePort")
                msg.server = endpoint(remote, rport if rport not in (None, "") else 80)
                if rec.get("error"):
                    msg.problems.append(f"GenieACS could not send it: {rec['error']}")
            yield msg
        elif event in ("outgoing HTTP response", "incoming HTTP response"):
            incoming = event.startswith("incoming")
            status = rec.get("statusCode")
            if not isinstance(status, int):
                self.errors.append(f"line {line}: a response without a status code: skipped")
                return
            if "body" not in rec:
                problems.append("the record has no body")
            side = "out" if incoming else "in"
            yield LogMessage(line=line, request=False, headers=_headers(rec.get("headers")),
                             body=_body(rec.get("body")), status=status, reason="", time=t,
                             connection=f"{side} {remote} {_conn_name(conn, line)}", wire_body=False,
                             problems=problems, frames=frames, complete=not cut)
        elif event == "outgoing UDP message":
            rport = rec.get("remotePort")
            try:
                dport = int(rport) if rport is not None else 0
            except (TypeError, ValueError):
                dport = 0
            yield LogDatagram(line=line, payload=_body(rec.get("body")), src=None, sport=0, dst=remote,
                              dport=dport, time=t)
        elif event == "client error":
            self._note(f"line {line}: GenieACS met a client error from {remote or '?'}: {rec.get('error')}")
        elif "XMPP" in event:
            self.xmpp += 1
            if self.xmpp == 1:
                self._note(f"line {line}: XMPP connection requests are in the log but not analysed")
        else:
            self.errors.append(f"line {line}: unknown event {event!r}: skipped")


def _conn_name(conn: object, line: int) -> str:
    """The log's connection stamp as a key; a record without one is a connection of its own."""
    if conn is None:
        return f"line {line}"
    if isinstance(conn, _dt.datetime):
        return conn.isoformat()
    return str(conn)
