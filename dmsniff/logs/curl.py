"""curl's own traces: ``curl -v`` (stderr) and ``curl --trace FILE`` / ``--trace-ascii FILE``.

``--trace`` shows every byte sent and received, in hex; ``--trace-ascii`` the same bytes as
text, 64 to a line, with a CRLF ending a line (the offsets tell a CRLF from a line that was
merely full) and every other byte outside printable ASCII, a bare LF too, shown as ``.``.
Those byte streams are read per connection exactly as a capture's TCP streams are, by
:class:`dmsniff.net.http.HttpTracker`, so pipelining, chunked bodies and gzip come out alike;
``--trace-time`` gives each block its time of day (the trace has no date).

``-v`` shows the request and response heads (``>`` and ``<`` lines) and, when curl wrote the
body to the same terminal, the response body after them; it never shows a request body, only
its size (``} [1234 bytes data]`` when stderr is not a terminal).  Such requests are reported
incomplete.  ``* Connected to HOST (IP) port N (#0)`` names the server and the connection,
``* Closing connection`` ends it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dmsniff.capture import CaptureInfo
from dmsniff.logs.httpdump import ConnectionClosed
from dmsniff.logs.source import UNKNOWN_HOST, Assembler, LogMessage, endpoint, host_endpoint
from dmsniff.model import ConnectionEnd, Transaction
from dmsniff.net.http import HttpStats, HttpTracker

__all__ = ["looks_like", "parse", "run_trace"]

_TIME = rb"(?:(\d\d):(\d\d):(\d\d)\.(\d{1,6}) )?"
_BLOCK = re.compile(_TIME + rb"(=> Send header|=> Send data|<= Recv header|<= Recv data|=> Send SSL data|"
                    rb"<= Recv SSL data|== Info:)(.*)")
_DATA = re.compile(rb"([0-9a-f]{4,}): ?(.*)")
_HEX = re.compile(rb"(?:[0-9a-f]{2} ){1,16}")
_SIZE = re.compile(rb", (\d+) bytes")
_CONNECTED = re.compile(rb"Connected to (\S+) \(([^)]*)\) port (\d+)(?: \(#(\d+)\))?")
_REUSE = re.compile(rb"Re-using existing connection!? (?:#(\d+) )?(?:\(#(\d+)\) )?with host")
_CLOSING = re.compile(rb"Closing connection(?: #?(\d+))?|Connection died|"
                      rb"Connection #(\d+) to host \S+ closed")
_VERBOSE = re.compile(rb"^(?:\*   Trying |\* Connected to |> [A-Z]+ \S+ HTTP/|\* +Trying )", re.M)
_START_REQ = re.compile(r"([A-Z][A-Z-]*) (\S+) (HTTP/[0-9.]+)")
_START_RESP = re.compile(r"(HTTP/[0-9.]+) ([0-9]{3})(?: (.*))?")
_DATA_NOTE = re.compile(rb"^([{}]) \[(\d+) bytes data\]")


def looks_like(head: bytes) -> bool:
    """A curl trace: ``== Info:`` / ``=> Send header`` blocks, or ``-v``'s ``*``/``>``/``<`` lines."""
    text = head.lstrip(b"\r\n ")
    first = text.split(b"\n", 1)[0]
    if _BLOCK.match(first):
        return True
    return _VERBOSE.search(head[:4096]) is not None and (b"\n> " in head or b"\n< " in head)


def _seconds(m: re.Match[bytes]) -> float | None:
    if m.group(1) is None:
        return None
    h, mi, s = (int(g) for g in m.groups()[:3])
    frac = m.group(4)
    return h * 3600 + mi * 60 + s + int(frac) / float(10 ** len(frac))


def is_trace(data: bytes) -> bool:
    return _BLOCK.match(data.lstrip(b"\r\n ").split(b"\n", 1)[0]) is not None


def parse(data: bytes, errors: list[str], info: CaptureInfo) -> Iterator[LogMessage | ConnectionClosed]:
    """``curl -v`` output as messages (the trace forms run through :func:`run_trace`)."""
    lines = data.split(b"\n")
    info.packets = len(lines) - (1 if lines and lines[-1] == b"" else 0)
    info.notes.append("curl -v shows no request bodies, only their sizes: such requests are incomplete "
                      "(curl --trace-ascii or --trace shows every byte)")
    key = "#0"
    server: str | None = None
    conn_no = 0
    i = 0
    n = len(lines)
    while i < n:
        raw = lines[i].rstrip(b"\r")
        i += 1
        if raw.startswith(b"* "):
            text = raw[2:].strip()
            m = _CONNECTED.search(text)
            if m:
                conn_no += 1
                key = f"#{m.group(4).decode()}" if m.group(4) else f"c{conn_no}"
                server = endpoint((m.group(2) or m.group(1)).decode("latin-1"), int(m.group(3)))
                continue
            m2 = _REUSE.search(text)
            if m2 and (m2.group(1) or m2.group(2)):
                key = f"#{(m2.group(1) or m2.group(2)).decode()}"
                continue
            m3 = _CLOSING.search(text)
            if m3:
                yield ConnectionClosed(key)
            continue
        if not raw.startswith((b"> ", b"< ")):
            continue
        request = raw.startswith(b">")
        start_line = i
        head = [raw[2:].decode("latin-1")]
        prefix = b">" if request else b"<"
        while i < n and lines[i].startswith(prefix):
            piece = lines[i].rstrip(b"\r")[1:].lstrip(b" ")
            i += 1
            if not piece:
                break
            head.append(piece.decode("latin-1"))
        msg = _message(head, request, start_line, key, server, errors)
        if msg is None:
            continue
        # What follows the head: curl's byte counts, or (a terminal's copy) the response body.
        body: list[bytes] = []
        sizes = 0
        while i < n:
            nxt = lines[i]
            d = _DATA_NOTE.match(nxt)
            if d:
                sizes += int(d.group(2))
                i += 1
                continue
            if nxt.startswith((b"* ", b"> ", b"< ", b"*\r", b"== ")) or (nxt in (b"*", b">", b"<")):
                break
            if request:
                break
            body.append(nxt)
            i += 1
        if request:
            length = _content_length(msg) or sizes
            if length:
                msg.body_length = length
                msg.complete = False
                msg.problems.append(f"curl -v does not show the request body ({length} bytes)")
        elif body:
            while body and not body[-1].strip():
                body.pop()
            msg.body = b"\n".join(body)
        elif sizes or _content_length(msg):
            msg.body_length = sizes or _content_length(msg)
            msg.complete = False
            msg.problems.append(f"the trace does not hold the response body ({msg.body_length} bytes)")
        yield msg


def _content_length(msg: LogMessage) -> int:
    for k, v in msg.headers:
        if k.lower() == "content-length" and v.strip().isdigit():
            return int(v)
    return 0


def _message(head: list[str], request: bool, line: int, key: str, server: str | None,
             errors: list[str]) -> LogMessage | None:
    start = head[0].strip()
    headers = []
    for h in head[1:]:
        name, colon, value = h.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    if request:
        m = _START_REQ.fullmatch(start)
        if not m:
            errors.append(f"line {line}: not a request line: {start[:60]!r}")
            return None
        host = next((v for k, v in headers if k.lower() == "host"), None)
        return LogMessage(line=line, request=True, headers=headers, method=m.group(1), uri=m.group(2),
                          version=m.group(3), connection=key, server=server or host_endpoint(host),
                          wire_body=False)
    r = _START_RESP.fullmatch(start)
    if not r:
        errors.append(f"line {line}: not a status line: {start[:60]!r}")
        return None
    return LogMessage(line=line, request=False, headers=headers, status=int(r.group(2)),
                      reason=(r.group(3) or "").strip(), version=r.group(1), connection=key, wire_body=False)


# -- --trace and --trace-ascii -----------------------------------------------------------------------

@dataclass(slots=True)
class _Block:
    kind: bytes  # b"=> Send header" ...
    line: int
    time: float | None
    size: int
    data: bytearray


class _LogConnection:
    """What :class:`HttpTracker` reads of a TCP connection, for a connection of a trace."""

    __slots__ = ("a_ip", "a_port", "b_ip", "b_port", "first_frame", "id", "last_ts")

    def __init__(self, cid: str, line: int, server: str | None) -> None:
        self.id = cid
        self.first_frame = line
        self.a_ip, self.a_port = UNKNOWN_HOST, 0
        host, _, port = (server or f"{UNKNOWN_HOST}:0").rpartition(":")
        self.b_ip, self.b_port = host.strip("[]"), int(port) if port.isdigit() else 0
        self.last_ts = 0.0


def _blocks(data: bytes, errors: list[str], hex_mode: bool | None) -> Iterator[_Block]:
    """The trace's blocks with their bytes put back together."""
    block: _Block | None = None
    offsets: list[tuple[int, bytes]] = []

    def finish(b: _Block) -> _Block:
        if offsets and not b.data:  # --trace-ascii: text lines at their offsets
            out = bytearray()
            for off, text in offsets:
                # A line ends early only at a CRLF, which is not shown: the offsets say where.
                if off > len(out):
                    out += b"\r\n" * ((off - len(out)) // 2) + b"\n" * ((off - len(out)) % 2)
                out += text
            if b.size > len(out):
                out += b"\r\n"[: b.size - len(out)]
            b.data = out
        return b

    for no, raw in enumerate(data.split(b"\n"), 1):
        line = raw.rstrip(b"\r")
        m = _BLOCK.match(line)
        if m:
            if block is not None:
                yield finish(block)
            offsets = []
            size = _SIZE.search(m.group(6))
            block = _Block(m.group(5), no, _seconds(m), int(size.group(1)) if size else 0, bytearray())
            if m.group(5) == b"== Info:":
                block.data += m.group(6).strip()
            continue
        d = _DATA.match(line)
        if d and block is not None and block.kind != b"== Info:":
            rest = d.group(2)
            # --trace: 16 hex pairs (padded to 48 columns) then the text; --trace-ascii: the text.
            if hex_mode:
                try:
                    block.data += bytes.fromhex(rest[:48].decode("latin-1"))
                except ValueError:  # not hex pairs: that line's bytes are lost, and said so
                    errors.append(f"line {no}: a --trace data line that is not hex pairs: {line[:60]!r}")
            else:
                offsets.append((int(d.group(1), 16), rest))
            continue
        if line.strip():
            errors.append(f"line {no}: not part of a curl trace: {line[:60]!r}")
    if block is not None:
        yield finish(block)


def run_trace(data: bytes, assembler: Assembler, errors: list[str], info: CaptureInfo) -> None:
    """A --trace / --trace-ascii file through HttpTracker, one tracker per curl connection."""
    info.packets = data.count(b"\n") + (not data.endswith(b"\n"))
    stats = HttpStats()
    trackers: dict[str, HttpTracker] = {}
    conns: dict[str, _LogConnection] = {}
    key = "#0"
    server: str | None = None
    conn_no = 0
    hex_mode = _hex_mode(data)
    timed = False

    def emit(tx: Transaction, _first: int, _n: int) -> None:
        assembler.transaction(tx)

    def closed(tracker: object) -> None:
        conn = tracker.conn  # type: ignore[attr-defined]
        assembler.connection_end(ConnectionEnd(assembler.index, conn.id, conn.last_ts, assembler.finishing))

    def tracker(line: int) -> HttpTracker:
        t = trackers.get(key)
        if t is None:
            conn = conns[key] = _LogConnection(f"C{assembler.tag}{line}", line, server)
            t = trackers[key] = HttpTracker(conn, 0, assembler.index, emit, stats,
                                            assembler.max_body, closed)
            assembler.connections += 1
        return t

    def close(k: str) -> None:
        t = trackers.pop(k, None)
        if t is not None:
            t.close()

    for b in _blocks(data, errors, hex_mode):
        if b.kind == b"== Info:":
            m = _CONNECTED.search(bytes(b.data))
            if m:
                conn_no += 1
                new = f"#{m.group(4).decode()}" if m.group(4) else f"c{conn_no}"
                if new in trackers:
                    close(new)
                key = new
                server = endpoint((m.group(2) or m.group(1)).decode("latin-1"), int(m.group(3)))
            elif (r := _REUSE.search(bytes(b.data))) and (r.group(1) or r.group(2)):
                key = f"#{(r.group(1) or r.group(2)).decode()}"
            elif (c := _CLOSING.search(bytes(b.data))) is not None:
                close(f"#{(c.group(1) or c.group(2)).decode()}" if (c.group(1) or c.group(2)) else key)
            continue
        if b"SSL" in b.kind:
            continue
        timed = timed or b.time is not None
        t = assembler.clock(b.time)
        tr = tracker(b.line)
        tr.conn.last_ts = t
        if b.data:
            tr.data(0 if b.kind.startswith(b"=>") else 1, bytes(b.data), b.line, t)
    assembler.finishing = True
    for k in list(trackers):
        close(k)
    if hex_mode is False:
        info.notes.append("curl --trace-ascii shows bytes outside printable ASCII (a bare LF too) as '.': "
                          "bodies may differ from what was sent (curl --trace shows them exactly)")
    if timed:
        info.notes.append("curl --trace-time gives times of day only: the date is not in the trace (shown as "
                          "1970-01-01)")


def _hex_mode(data: bytes) -> bool | None:
    """True for --trace (hex and text), False for --trace-ascii, None when no data line shows it.

    A --trace line is 16 hex pairs, padded with spaces to 48 columns, then the text: decided on
    the file's first data lines, not line by line (a text line may look like hex).
    """
    for line in data.split(b"\n", 400)[:400]:
        d = _DATA.match(line.rstrip(b"\r"))
        if d:
            rest = d.group(2)
            h = _HEX.match(rest)
            return bool(h and len(rest) > 48 and rest[47:48] == b" ")
    return None
