"""What every log parser hands on, and how it becomes the pipeline's records.

A parser (one module per format) turns its file into :class:`LogMessage` records, one per
HTTP request or response the log shows, in the order the log has them, and into
:class:`LogDatagram` records for what it shows of UDP.  The :class:`Assembler` then does what
:mod:`dmsniff.net.http` does for a capture: it pairs each response with the oldest unanswered
request of its connection, names connections and exchanges, and hands on
:class:`~dmsniff.model.Transaction`, :class:`~dmsniff.model.Datagram` and
:class:`~dmsniff.model.ConnectionEnd` records, so everything after it (protocol decoding,
verification, sessions, reports, the UI) runs unchanged.

Ids follow the capture's rules with line numbers for frame numbers: ``C12`` is the connection
whose first message starts on line 12, ``C12.3`` its third exchange, ``U40`` the UDP message on
line 40 (for a folder the "line" is the file's number in order, for a HAR written on one line the
entry's number).  What a log does not show is never made up: an address it lacks is ``?``, a port
it lacks ``0``; a log without times gets one millisecond per message from 1970-01-01 (and says so
in the capture record's notes).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import SplitResult

from decoders.http import decode_content
from dmsniff.capture import CaptureError, CaptureInfo
from dmsniff.model import ConnectionEnd, Datagram, HttpMessage, Transaction, endpoint_host, format_endpoint
from dmsniff.net.http import DEFAULT_MAX_BODY

UNKNOWN_HOST = "?"
#: An endpoint the log does not name (its address and port), as reports show it.
UNKNOWN_ENDPOINT = format_endpoint(UNKNOWN_HOST, 0)
#: Synthetic clock for logs without times: message n is at n ms after the epoch.
SYNTHETIC_STEP = 0.001


class LogError(CaptureError):
    """A log input cannot be read at all (not a log of any known kind, unreadable ...)."""


def endpoint(host: str | None, port: int | str | None) -> str:
    """``host:port`` as a capture names it; ``?`` and ``0`` for what the log does not say.

    IPv4-mapped IPv6 addresses (Node.js reports ``::ffff:192.0.2.1`` for IPv4 peers of a dual-stack
    socket) are written as the IPv4 address a capture would show.
    """
    h = (host or "").strip().strip("[]") or UNKNOWN_HOST
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        pass
    else:
        mapped = getattr(ip, "ipv4_mapped", None)
        h = str(mapped) if mapped is not None else str(ip)
    try:
        p = int(port) if port not in (None, "") else 0
    except (TypeError, ValueError):
        p = 0
    return format_endpoint(h, p if 0 <= p <= 65535 else 0)


def host_endpoint(host_header: str | None, default_port: int = 80) -> str | None:
    """The server named by a Host header (``name``, ``name:port``, ``[v6]:port``), or None."""
    if not host_header:
        return None
    h = host_header.strip()
    if h.startswith("["):
        name, _, rest = h[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif h.count(":") == 1:
        name, _, port = h.partition(":")
    else:
        name, port = h, ""
    if not name or any(c.isspace() for c in name):
        return None
    return endpoint(name, int(port) if port.isdigit() else default_port)


def origin_target(raw: str, url: SplitResult) -> tuple[str, int]:
    """(the request target as sent, the server's port) of an absolute URL ``raw`` (``url`` its
    urlsplit): what follows the host, an empty query ("/x?") too, without a fragment (no client
    sends one); the scheme's default port when the URL gives none, or one that does not parse."""
    default = 443 if url.scheme == "https" else 80
    try:
        port = url.port or default
    except ValueError:
        port = default
    rest = raw.split("#", 1)[0][len(f"{url.scheme}://{url.netloc}"):] if url.netloc else ""
    target = rest if rest.startswith("/") else (url.path or "/") + (f"?{url.query}" if url.query else "")
    return target, port


@dataclass(slots=True)
class LogMessage:
    """One HTTP request or response as a log shows it."""

    line: int  # where it starts in the file (1-based): its "frame"
    request: bool
    headers: list[tuple[str, str]]
    body: bytes = b""
    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str | None = None
    version: str = "HTTP/1.1"
    time: float | None = None  # None: the log gives no time for it
    # When its first byte came, if the log says and it differs from ``time`` (when it was complete).
    first_time: float | None = None
    # The log's own name for the connection (None: one connection per log, or per run of
    # messages the parser saw as one); messages with the same key are on one connection.
    connection: str | None = None
    client: str | None = None  # "ip:port" where the log tells (else UNKNOWN_ENDPOINT)
    server: str | None = None
    # True when ``body`` is as it was on the wire (a raw dump): a Content-Encoding is undone
    # here.  False when the log holds the body after the encoding was undone (GenieACS, HAR).
    wire_body: bool = True
    body_length: int | None = None  # on the wire, when the log says and differs from len(body)
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    closes: bool = False  # the connection ends after this message (Connection: close ...)
    frames: list[int] | None = None  # default [line]


@dataclass(slots=True)
class LogDatagram:
    """A UDP message a log shows (GenieACS's UDP connection requests)."""

    line: int
    payload: bytes
    src: str | None  # host; None when the log does not say
    sport: int
    dst: str | None
    dport: int
    time: float | None = None


class LineIndex:
    """Byte offset -> 1-based line number, for parsers that work on the whole file."""

    __slots__ = ("_starts",)

    def __init__(self, data: bytes) -> None:
        starts = [0]
        find = data.find
        i = find(b"\n")
        while i >= 0:
            starts.append(i + 1)
            i = find(b"\n", i + 1)
        self._starts = starts

    @property
    def lines(self) -> int:
        return len(self._starts)

    def line(self, offset: int) -> int:
        return bisect_right(self._starts, offset)


class _Conn:
    __slots__ = ("client", "count", "first_line", "id", "last_time", "pending", "server")

    def __init__(self, cid: str, first_line: int, client: str, server: str) -> None:
        self.id = cid
        self.first_line = first_line
        self.client = client
        self.server = server
        self.count = 0
        self.pending: deque[list[HttpMessage | list[HttpMessage] | None]] = deque()
        self.last_time = 0.0


Emit = Callable[[Transaction | Datagram | ConnectionEnd], None]


class Assembler:
    """Pairs a log's messages into transactions on connections, and hands them to ``emit``.

    ``index`` is the input's capture number in the run (it tags the ids, as for a capture).
    """

    def __init__(self, index: int, emit: Emit, max_body: int = DEFAULT_MAX_BODY,
                 info: CaptureInfo | None = None) -> None:
        self.index = index
        self.info = info  # its first and last times follow the log's own, as a capture's do
        self.emit = emit
        self.max_body = max_body
        self._tag = "" if index == 0 else f"{index}-"
        self._conns: dict[str, _Conn] = {}  # the log's connection key -> open connection
        self._ordinal = 0  # messages and datagrams so far: the synthetic clock
        self.synthetic_times = False
        self.finishing = False  # set when the end of the log closes what is still open
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.messages = 0
        self.transactions = 0
        self.connections = 0
        self.datagrams = 0

    @property
    def tag(self) -> str:
        """What ids carry for this input (``""`` for the first of a run, ``"2-"`` for the third)."""
        return self._tag

    # -- time -----------------------------------------------------------------------------
    def clock(self, t: float | None) -> float:
        """The time of the next message: ``t``, or the synthetic clock's next tick."""
        return self._clock(t)

    def _clock(self, t: float | None) -> float:
        self._ordinal += 1
        if t is None:
            self.synthetic_times = True
            t = self._ordinal * SYNTHETIC_STEP
        if self.first_time is None or t < self.first_time:
            self.first_time = t
        if self.last_time is None or t > self.last_time:
            self.last_time = t
        if self.info is not None and not self.synthetic_times:
            self.info.first_time, self.info.last_time = self.first_time, self.last_time
        return t

    # -- messages ----------------------------------------------------------------------------
    def message(self, m: LogMessage) -> None:
        """One request or response, in log order."""
        self.messages += 1
        t = self._clock(m.time)
        key = m.connection if m.connection is not None else "-"
        conn = self._conns.get(key)
        client = m.client or UNKNOWN_ENDPOINT
        server = m.server or UNKNOWN_ENDPOINT
        if conn is not None and m.request and conn.server == UNKNOWN_ENDPOINT:
            conn.server = server  # the connection's first message was a response: a request names it
        if conn is None:
            conn = _Conn(f"C{self._tag}{m.line}", m.line, client, server)
            self._conns[key] = conn
            self.connections += 1
        msg = self._http_message(m, t)
        conn.last_time = t
        if m.request:
            conn.pending.append([msg, None, []])
        else:
            self._response(conn, msg)
        if m.closes:
            self._close(key, at_end=False)

    def _response(self, conn: _Conn, msg: HttpMessage) -> None:
        status = msg.status or 0
        for slot in conn.pending:
            if slot[1] is None:
                break
        else:
            slot = [None, None, []]  # a response whose request the log does not hold
            conn.pending.append(slot)
        if 100 <= status < 200 and status != 101:
            slot[2].append(msg)  # type: ignore[union-attr]
            return
        slot[1] = msg
        while conn.pending and conn.pending[0][1] is not None:
            self._transaction(conn, conn.pending.popleft())

    def _transaction(self, conn: _Conn, slot: list[HttpMessage | list[HttpMessage] | None]) -> None:
        req, resp, interim = slot
        assert not isinstance(req, list) and not isinstance(resp, list) and isinstance(interim, list)
        if req is None and resp is None:
            if not interim:
                return
            resp = interim.pop()
        conn.count += 1
        self.transactions += 1
        self.emit(Transaction(id=f"{conn.id}.{conn.count}", capture=self.index, connection=conn.id,
                              client=conn.client, server=conn.server, request=req, response=resp,
                              interim=interim))

    def transaction(self, tx: Transaction) -> None:
        """A transaction built elsewhere (a curl trace read by HttpTracker), handed on as it is."""
        self.transactions += 1
        for m in (tx.request, tx.response):
            if m is not None:
                self.messages += 1
        self.emit(tx)

    def connection_end(self, end: ConnectionEnd) -> None:
        self.emit(end)

    def _close(self, key: str, at_end: bool) -> None:
        conn = self._conns.pop(key, None)
        if conn is None:
            return
        while conn.pending:  # requests the log shows no answer to are reported too
            self._transaction(conn, conn.pending.popleft())
        self.emit(ConnectionEnd(self.index, conn.id, conn.last_time, at_end))

    def close_connection(self, key: str | None) -> None:
        """The log shows that this connection ended (before its next message, if any)."""
        self._close(key if key is not None else "-", at_end=False)

    def datagram(self, d: LogDatagram) -> None:
        t = self._clock(d.time)
        self.datagrams += 1
        src = endpoint_host(endpoint(d.src, d.sport))
        dst = endpoint_host(endpoint(d.dst, d.dport))
        self.emit(Datagram(f"U{self._tag}{d.line}", self.index, d.line, t, src, d.sport, dst, d.dport,
                           d.payload))

    def finish(self) -> None:
        """The end of the log: what is still open ends with it (the log cannot say more)."""
        self.finishing = True
        for key in list(self._conns):
            self._close(key, at_end=True)

    # -- one HttpMessage ------------------------------------------------------------------------
    def _http_message(self, m: LogMessage, t: float) -> HttpMessage:
        body = m.body
        problems = list(m.problems)
        length = m.body_length if m.body_length is not None else len(body)
        complete = m.complete
        if len(body) > self.max_body:
            body = body[: self.max_body]
            problems.append(f"body of {len(m.body)} bytes: only the first {self.max_body} kept (--max-body)")
            complete = False
        first = m.first_time if m.first_time is not None and m.first_time <= t else t
        msg = HttpMessage(frame=m.line, frames=m.frames or [m.line], time=t, first_time=first,
                          version=m.version, headers=m.headers, method=m.method, uri=m.uri, status=m.status,
                          reason=m.reason, body=body, body_length=length, complete=complete,
                          problems=problems)
        coding = msg.header("Content-Encoding") if body else None
        if coding and coding.strip().lower() != "identity" and m.wire_body:
            decoded, problem = decode_content(body, coding, self.max_body)
            if decoded is not None:
                msg.decoded_body = decoded
                msg.decoded_length = len(decoded)
            elif problem:
                msg.problems.append(f"Content-Encoding {coding}: {problem}")
        return msg


@dataclass(slots=True, frozen=True)
class ConnectionClosed:
    """The log shows that a connection ended here."""

    key: str


#: What a log parser yields, in order.
Event = LogMessage | LogDatagram | ConnectionClosed


class LogSource:
    """One log input, opened: its :class:`CaptureInfo` and a way to run its records."""

    def __init__(self, path: str, fmt: str, info: CaptureInfo,
                 events: Callable[[list[str]], Iterator[Event]] | None = None,
                 runner: Callable[[Assembler, list[str]], None] | None = None) -> None:
        self.path = path
        self.format = fmt
        self.info = info
        self._events = events
        self._runner = runner  # formats that build transactions themselves (curl traces)

    def run(self, assembler: Assembler) -> None:
        """Hand every record of the log to ``assembler``, in order."""
        if self._runner is not None:
            self._runner(assembler, self.info.errors)
            return
        assert self._events is not None
        for ev in self._events(self.info.errors):
            if isinstance(ev, LogMessage):
                assembler.message(ev)
            elif isinstance(ev, LogDatagram):
                assembler.datagram(ev)
            elif isinstance(ev, ConnectionClosed):
                assembler.close_connection(ev.key)
