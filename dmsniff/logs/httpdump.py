"""Raw HTTP conversation dumps: requests and responses as text, in order, as a test suite or a
proxy records them, or as copied from a ticket.

Every message is read by the same sans-IO parser that reads captures
(:class:`decoders.http.HttpStreamParser`), so headers, chunked bodies, trailers, obsolete line
folding and gzip are handled alike.  What a dump adds is that messages follow each other with
nothing to frame them but their own heads: LF or CRLF, blank lines between them or not, and
often a Content-Length that no longer matches the body (the body was re-indented, or its CRLFs
became LFs on the way).  A Content-Length is trusted when the next message (or the end of the
file) starts right where it says; otherwise the body is what stands before the next start line,
and the disagreement is reported on the message.

The dump shows no TCP: the conversation is one connection until a response says
``Connection: close`` (or an HTTP/1.0 one does not keep the connection alive), or a request
names another Host.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from decoders.http import (
    NEED_DATA,
    Body,
    EndOfMessage,
    HttpStreamParser,
    RequestHead,
    ResponseHead,
    Role,
    Skipped,
    decode_content,
    find_start_line,
    sniff_role,
)
from dmsniff.logs.source import ConnectionClosed, LineIndex, LogMessage, host_endpoint

__all__ = ["ConnectionClosed", "RawHttp", "looks_like_http", "parse_dump", "parse_raw", "read_message",
           "render_http"]

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_BLANK = b" \t\r\n"
_NOT_BLANK = re.compile(b"[^" + re.escape(_BLANK) + b"]")


@dataclass(slots=True)
class RawHttp:
    """One message read from raw text."""

    request: bool
    version: str
    headers: list[tuple[str, str]]
    body: bytes  # chunked framing removed, Content-Encoding not undone
    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str | None = None
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    head: bytes = b""  # the start line and headers as they stand in the text

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None


def _line_end(data: bytes, pos: int) -> int:
    eol = data.find(b"\n", pos)
    return len(data) if eol < 0 else eol + 1


def looks_like_http(data: bytes) -> bool:
    """Does ``data`` start (after blank lines) with an HTTP/1.x request or status line?"""
    start = len(data) - len(data.lstrip(_BLANK))
    line = data[start:_line_end(data, start)]
    return bool(line.endswith(b"\n")) and sniff_role(line) is not None


def _next_start(data: bytes, pos: int) -> int:
    """Offset of the next line (at or after ``pos``, a line start) that is a start line, or len."""
    i = find_start_line(data, None, pos)
    # find_start_line accepts an unterminated last line that could still grow into a start line:
    # a file that ends there holds no more messages.
    return i if i >= 0 and data.find(b"\n", i) >= 0 else len(data)


def _framing(head: bytes) -> tuple[int | None, bool]:
    """(Content-Length, chunked) from a head's header lines, leniently."""
    length: int | None = None
    chunked = False
    for raw in head.split(b"\n")[1:]:
        name, colon, value = raw.partition(b":")
        if not colon:
            continue
        n = name.strip().lower()
        if n == b"content-length":
            v = value.strip()
            if v.isdigit():
                length = int(v)
        elif n == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return (None if chunked else length), chunked


def _at_message_start(data: bytes, pos: int) -> bool:
    """Only blank lines between ``pos`` and the end of the data or the next start line."""
    m = _NOT_BLANK.search(data, pos)  # (not data[pos:].lstrip(): a copy of the rest, every message)
    if m is None:
        return True
    rest = m.start()
    # After blank lines a message starts a line; right where the Content-Length ends it may start
    # mid-line (a dump that glued each message to the body before it: cat, tcpflow).
    if rest > pos and data[rest - 1] != 0x0A:
        return False
    line = data[rest:_line_end(data, rest)]
    return sniff_role(line if line.endswith(b"\n") else line + b"\n") is not None


def parse_raw(data: bytes, start: int, end: int, method: str | None = None,
              max_head: int = 1 << 20) -> RawHttp | None:
    """The message whose start line is at ``data[start]``, ending at ``end`` at the latest."""
    segment = data[start:end]
    role = sniff_role(segment[:_line_end(segment, 0)] + (b"" if segment.endswith(b"\n") else b"\n"))
    if role is None:
        return None
    parser = HttpStreamParser(role, max_body=1 << 62, max_head=max_head)
    if role is Role.SERVER and method:
        parser.expect_response_to(method)
    parser.feed(segment)
    parser.feed_eof()
    head: RequestHead | ResponseHead | None = None
    pieces: list[bytes] = []
    eom: EndOfMessage | None = None
    while True:
        ev = parser.next_event()
        if ev is NEED_DATA:
            break
        if isinstance(ev, RequestHead | ResponseHead):
            if head is not None:
                break  # a second message: the caller's segmenting will read it
            head = ev
        elif isinstance(ev, Body):
            pieces.append(ev.data)
        elif isinstance(ev, EndOfMessage):
            eom = ev
            break
        elif isinstance(ev, Skipped) and head is None:
            return None
    if head is None:
        return None
    msg = RawHttp(request=isinstance(head, RequestHead), version=head.version, headers=list(head.headers),
                  body=b"".join(pieces), head=segment[:head.end])
    if isinstance(head, RequestHead):
        msg.method, msg.uri = head.method, head.target
    else:
        msg.status, msg.reason = head.status, head.reason
    if eom is None:  # the head itself was cut
        msg.complete = False
        msg.problems.append("the head is cut short by the end of the text")
        return msg
    msg.problems.extend(eom.problems)
    msg.complete = eom.complete
    if eom.trailers:
        msg.headers.extend(eom.trailers)
    body_start, consumed = head.end, eom.end
    length, chunked = _framing(segment[:head.end])
    tail = segment[consumed:]
    if chunked:
        if not eom.complete:
            # Chunk sizes that no longer fit (CRLFs lost on the way): the body as it stands.
            msg.body = segment[body_start:].rstrip(b"\r\n")
            msg.problems.append("chunked framing does not fit the text: the body is taken as it stands")
        return msg
    if length is not None:
        if eom.complete and not tail.strip(_BLANK):
            return msg
        msg.body = segment[body_start:].rstrip(b"\r\n")
        msg.complete = True
        # The parser's complaint about the missing or extra bytes is replaced by the one below.
        msg.problems = [p for p in msg.problems if not ("missing" in p or "end of stream" in p)]
        msg.problems.append(f"Content-Length {length} disagrees with the body in the text ({len(msg.body)} "
                            "bytes before the next message): the body is taken as it stands")
        return msg
    if tail.strip(_BLANK):
        # A request without Content-Length has no body in HTTP, but dumps lose the header (and
        # some tools write none): the text before the next message is what was sent.
        msg.body = segment[body_start:].rstrip(b"\r\n")
        msg.problems.append(f"no Content-Length: the {len(msg.body)} bytes before the next message are "
                            "taken as its body")
    elif not msg.request and msg.body:
        msg.body = msg.body.rstrip(b"\r\n")  # read until the next message: separators are not body
    return msg


def read_message(data: bytes) -> tuple[RawHttp, bytes | None, list[str]] | None:
    """One raw message (``dmsniff decode``): the message, its body with any Content-Encoding
    undone (None when there was none), and what was odd about it."""
    start = len(data) - len(data.lstrip(_BLANK))
    head_end = _head_end(data, start)
    length, _chunked = _framing(data[start:head_end])
    if length is not None and head_end + length <= len(data) and _at_message_start(data, head_end + length):
        end = head_end + length
    else:
        end = _next_start(data, head_end) if head_end < len(data) else len(data)
    msg = parse_raw(data, start, end)
    if msg is None:
        return None
    problems = list(msg.problems)
    if data[end:].strip(_BLANK):
        problems.append("more messages follow, not decoded here (dmsniff report reads a whole conversation)")
    decoded = None
    coding = msg.header("Content-Encoding")
    if msg.body and coding and coding.strip().lower() != "identity":
        decoded, problem = decode_content(msg.body, coding, 64 << 20)
        if problem:
            problems.append(f"Content-Encoding {coding}: {problem}")
    return msg, decoded, problems


def _head_end(data: bytes, pos: int) -> int:
    m = _HEAD_END.search(data, pos)
    return m.end() if m else len(data)


def _closes(msg: RawHttp) -> bool:
    conn = (msg.header("Connection") or "").lower()
    if "close" in conn:
        return True
    return msg.version == "HTTP/1.0" and "keep-alive" not in conn


def parse_dump(data: bytes, errors: list[str]) -> Iterator[LogMessage | ConnectionClosed]:
    """Every message of a dump, in order, with line numbers; faults go to ``errors``."""
    lines = LineIndex(data)
    n = len(data)
    pos = n - len(data.lstrip(_BLANK))
    if pos and data[pos - 1] != 0x0A:
        pos = data.rfind(b"\n", 0, pos) + 1
    conn_no = 1
    host: str | None = None
    methods: list[str] = []  # requests of the current connection not yet answered
    while pos < n:
        line_end = _line_end(data, pos)
        line = data[pos:line_end]
        if not line.strip(_BLANK):
            pos = line_end
            continue
        if sniff_role(line if line.endswith(b"\n") else line + b"\n") is None:
            nxt = _next_start(data, line_end)
            errors.append(f"lines {lines.line(pos)}–{lines.line(max(pos, nxt - 1))}: not an HTTP message, "
                          "skipped")
            pos = nxt
            continue
        head_end = _head_end(data, pos)
        length, _chunked = _framing(data[pos:head_end])
        end = -1
        if length is not None and head_end + length <= n and _at_message_start(data, head_end + length):
            end = head_end + length
        if end < 0:
            end = _next_start(data, head_end) if head_end < n else n
        response_to = methods[0] if methods else None
        msg = parse_raw(data, pos, end, response_to)
        if msg is None:  # cannot happen after sniff_role, but a bad line must not stop the dump
            errors.append(f"line {lines.line(pos)}: not an HTTP message, skipped")
            pos = line_end
            continue
        line_no = lines.line(pos)
        key = f"d{conn_no}"
        if msg.request:
            target = host_endpoint(msg.header("Host"), 443 if (msg.uri or "").startswith("https:") else 80)
            if target is None and (msg.uri or "").startswith(("http://", "https://")):
                target = host_endpoint((msg.uri or "").split("/", 3)[2])
            if host is not None and target is not None and target != host:
                yield ConnectionClosed(key)  # another server: another connection
                conn_no += 1
                key = f"d{conn_no}"
                methods = []
            host = target or host
            methods.append(msg.method or "")
        elif msg.status is not None and not 100 <= msg.status < 200 and methods:
            methods.pop(0)
        closes = not msg.request and _closes(msg)
        yield LogMessage(line=line_no, request=msg.request, headers=msg.headers, body=msg.body,
                         method=msg.method, uri=msg.uri, status=msg.status, reason=msg.reason,
                         version=msg.version, connection=key, server=host if msg.request else None,
                         complete=msg.complete, problems=msg.problems, closes=closes)
        if closes:
            conn_no += 1
            methods = []
        pos = max(end, line_end)


Rendered = tuple[list[bytes], list[str]]  # what dmsniff.decode prints: UTF-8 pieces, and problems


def render_http(data: bytes, summary: bool, as_json: bool,
                render_body: Callable[[bytes, str | None], Rendered],
                not_a_message: type[Exception]) -> Rendered | None:
    """``dmsniff decode`` of one raw HTTP request or response: its start line and headers, then its
    body as ``render_body`` decodes a bare message with the Content-Type it came with (chunked and
    Content-Encoding undone first; a body it refuses with ``not_a_message`` is shown as text); None
    when ``data`` does not start with an HTTP/1.x start line."""
    if not looks_like_http(data):
        return None
    read = read_message(data)
    if read is None:
        return None
    msg, decoded, problems = read
    body = decoded if decoded is not None else msg.body
    start = (f"{msg.method} {msg.uri} {msg.version}" if msg.request
             else f"{msg.version} {msg.status} {msg.reason or ''}".rstrip())
    pieces: list[bytes] = []
    body_json: object = None
    if body.strip():
        try:
            pieces, more = render_body(body, msg.header("Content-Type"))
            problems.extend(more)
        except not_a_message as exc:
            problems.append(f"the body ({len(body)} bytes) is not a message dmsniff decodes: {exc}")
            pieces = [] if as_json else [body.decode("utf-8", "replace").encode() + b"\n"]
    if as_json:
        if pieces:
            text = b"".join(pieces)
            try:
                body_json = json.loads(text)
            except ValueError:
                body_json = text.decode("utf-8", "replace")
        http = {"start_line": start, "version": msg.version, "headers": [list(h) for h in msg.headers],
                "body_length": len(msg.body), "complete": msg.complete}
        http.update({"method": msg.method, "uri": msg.uri} if msg.request else
                    {"status": msg.status, "reason": msg.reason})
        if decoded is not None:
            http["decoded_length"] = len(decoded)
        out = json.dumps({"http": http, "body": body_json}, indent=2, ensure_ascii=False) + "\n"
        return [out.encode()], problems
    head = "\n".join([start, *(f"{k}: {v}" for k, v in msg.headers)]) + "\n\n"
    if not body.strip():
        pieces = [b"(no body)\n"]
    return [head.encode("utf-8", "replace"), *pieces], problems
