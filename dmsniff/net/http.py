"""HTTP over a reassembled TCP connection: streams in, :class:`Transaction` records out.

One :class:`HttpTracker` per connection drives two sans-IO parsers from
:mod:`decoders.http` (requests one way, responses the other), pairs responses with
requests in order (pipelining, ``100 Continue`` and other interim responses), maps
every message back to the capture frames that carried it, and undoes gzip/deflate
Content-Encoding while keeping the raw body.

HTTP is recognised by content, on any port: :func:`classify` is the reassembler's
probe and accepts a connection as soon as one of its segments starts with an HTTP
request or status line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

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
    sniff_role,
)
from decoders.tls import looks_like_tls
from dmsniff.model import HttpMessage, TlsFacts, Transaction, format_endpoint
from dmsniff.net.tcp import Connection, StreamSink

if TYPE_CHECKING:
    from decoders.tls import TlsInfo
    from dmsniff.net.tls import TlsContext

DEFAULT_MAX_BODY = 16 * 1024 * 1024  # body bytes kept per message; longer bodies are counted, not kept
MAX_FRAMES_LISTED = 10000  # per message; a 2 GB download should not list a million frames

# The parser must never stop forwarding body bytes: the tracker counts them all and
# keeps up to its own cap, so body_length stays exact whatever the size.
_PARSER_BODY_LIMIT = 1 << 62

Emit = Callable[[Transaction, int, int], None]  # (transaction, connection's first frame, exchange number)
Closed = Callable[["HttpTracker"], None]  # also called with a TlsTracker that carried no HTTP


class _Building:
    """A message whose head has been parsed and whose end has not yet come."""

    __slots__ = ("body", "body_len", "first_time", "frames", "head", "kept", "last_frame", "last_time",
                 "omitted", "pending")

    def __init__(self, head: RequestHead | ResponseHead, first_frame: int, first_time: float) -> None:
        self.head = head
        self.pending: _Pending | None = None  # requests: their place in the queue
        self.frames: list[int] = [first_frame]
        self.last_frame = first_frame  # the frame (and time) of the latest byte attributed
        self.last_time = first_time
        self.first_time = first_time
        self.body = bytearray()  # one buffer: a list of 2 million 8-byte chunks took 300 MB
        self.body_len = 0
        self.kept = 0
        self.omitted = 0


class _Pending:
    """A transaction waiting for its request to end and its response to arrive."""

    __slots__ = ("interim", "request", "request_done", "response")

    def __init__(self) -> None:
        self.request: HttpMessage | None = None
        self.request_done = False
        self.response: HttpMessage | None = None
        self.interim: list[HttpMessage] = []


class HttpStats:
    """Counters for the capture summary."""

    __slots__ = ("connections", "skipped_bytes", "transactions")

    def __init__(self) -> None:
        self.connections = 0
        self.transactions = 0
        self.skipped_bytes = 0  # bytes on HTTP connections that belonged to no message


class TrackedConnection(Protocol):
    """What :class:`HttpTracker` reads of its connection: a TCP :class:`Connection`, or a log's.

    A protocol, not ``Connection``: the curl trace reader (``dmsniff/logs/curl.py``) hands its own
    connections, and the compiled build checks a class annotation at run time.
    """

    id: str
    first_frame: int
    a_ip: str
    a_port: int
    b_ip: str
    b_port: int
    last_ts: float


class HttpTracker:
    """The :class:`~dmsniff.net.tcp.StreamSink` for one HTTP connection."""

    def __init__(self, conn: TrackedConnection, request_direction: int, capture: int,
                 emit: Emit, stats: HttpStats,
                 max_body: int = DEFAULT_MAX_BODY, closed: Closed | None = None) -> None:
        self.conn = conn
        self.closed = closed
        self.stats = stats
        stats.connections += 1
        self.capture = capture
        self.emit = emit
        self.max_body = max_body
        if request_direction == 0:
            self.client = format_endpoint(conn.a_ip, conn.a_port)
            self.server = format_endpoint(conn.b_ip, conn.b_port)
        else:
            self.client = format_endpoint(conn.b_ip, conn.b_port)
            self.server = format_endpoint(conn.a_ip, conn.a_port)
        roles = (Role.CLIENT, Role.SERVER) if request_direction == 0 else (Role.SERVER, Role.CLIENT)
        self.parsers = tuple(HttpStreamParser(r, max_body=_PARSER_BODY_LIMIT) for r in roles)
        # Per direction: (start offset, end offset, frame, time) of bytes fed and not yet
        # attributed to a message.
        self.chunks: tuple[deque[tuple[int, int, int, float]], ...] = (deque(), deque())
        self.offsets = [0, 0]
        self.building: list[_Building | None] = [None, None]
        self.queue: deque[_Pending] = deque()  # in request order
        self.count = 0
        self.tls: TlsInfo | None = None  # set by the TlsTracker when the stream was decrypted
        self.tls_facts: TlsFacts | None = None  # ... and what the TLS connection was, at its end

    # -- StreamSink ----------------------------------------------------------------------
    def data(self, direction: int, data: bytes, frame: int, ts: float) -> None:
        off = self.offsets[direction]
        end = off + len(data)
        self.offsets[direction] = end
        self.chunks[direction].append((off, end, frame, ts))
        parser = self.parsers[direction]
        parser.feed(data)
        self._drain(direction)

    def gap(self, direction: int, length: int, frame: int, ts: float) -> None:
        self.offsets[direction] += length
        self.parsers[direction].feed_gap(length)
        self._drain(direction)

    def eof(self, direction: int, frame: int, ts: float) -> None:
        self.parsers[direction].feed_eof()
        self._drain(direction)

    def close(self) -> None:
        for direction in (0, 1):
            self.parsers[direction].feed_eof()
            self._drain(direction)
        # Requests that never got an answer are reported too: that is often the bug.
        while self.queue:
            self._emit(self.queue.popleft())
        if self.closed is not None:
            self.closed(self)

    # -- events ---------------------------------------------------------------------------
    def _drain(self, direction: int) -> None:
        parser = self.parsers[direction]
        while True:
            ev = parser.next_event()
            if ev is NEED_DATA:
                return
            t = type(ev)
            if t is Body:
                b = self.building[direction]
                if b is not None:
                    data = ev.data  # type: ignore[union-attr]
                    b.body_len += len(data)
                    if b.kept < self.max_body:
                        piece = data[: self.max_body - b.kept]
                        b.body += piece
                        b.kept += len(piece)
                    self._attribute(direction, b, ev.start + len(data))  # type: ignore[union-attr]
            elif t is RequestHead or t is ResponseHead:
                self._head(direction, ev)  # type: ignore[arg-type]
            elif t is EndOfMessage:
                self._end(direction, ev)  # type: ignore[arg-type]
            elif t is Skipped:
                self.stats.skipped_bytes += ev.end - ev.start  # type: ignore[union-attr]
                self._discard(direction, ev.end)

    def _head(self, direction: int, head: RequestHead | ResponseHead) -> None:
        # Drop bytes before the head (skipped while resynchronising), find the first frame.
        self._discard(direction, head.start)
        chunks = self.chunks[direction]
        first_frame, first_time = (chunks[0][2], chunks[0][3]) if chunks else (0, 0.0)
        b = _Building(head, first_frame, first_time)
        self.building[direction] = b
        self._attribute(direction, b, head.end)
        if type(head) is RequestHead:
            self.parsers[1 - direction].expect_response_to(head.method)
            # Queued now, not at its end: a 401 or 100 Continue may come before the body ends.
            b.pending = _Pending()
            self.queue.append(b.pending)

    def _attribute(self, direction: int, b: _Building, upto: int) -> None:
        """Add the frames that carried bytes up to ``upto`` to the message being built."""
        chunks = self.chunks[direction]
        frames = b.frames
        while chunks:
            start, end, frame, ts = chunks[0]
            if start >= upto:
                break
            b.last_time = ts
            if frame != b.last_frame:
                if len(frames) < MAX_FRAMES_LISTED:
                    frames.append(frame)
                else:
                    b.omitted += 1
                b.last_frame = frame
            if end > upto:
                break  # the rest of this segment belongs to what follows
            chunks.popleft()

    def _discard(self, direction: int, upto: int) -> None:
        chunks = self.chunks[direction]
        while chunks and chunks[0][1] <= upto:
            chunks.popleft()

    def _end(self, direction: int, ev: EndOfMessage) -> None:
        b = self.building[direction]
        self.building[direction] = None
        if b is None:
            return
        # The frame holding the message's last byte completes it (Wireshark's convention).
        self._attribute(direction, b, ev.end)
        frame, ts = b.last_frame, b.last_time
        head = b.head
        body = bytes(b.body)
        b.body = bytearray()
        msg = HttpMessage(
            frame=frame, frames=b.frames, time=ts, first_time=b.first_time, version=head.version,
            headers=list(head.headers), body=body, body_length=b.body_len, complete=ev.complete,
            problems=list(ev.problems), frames_omitted=b.omitted,
        )
        if b.body_len > b.kept:
            msg.problems.append(f"body of {b.body_len} bytes: only the first {b.kept} kept (--max-body)")
            msg.complete = False
        if ev.trailers:
            msg.headers.extend(ev.trailers)
        coding = msg.header("Content-Encoding") if body else None
        if coding and coding.strip().lower() != "identity":
            decoded, problem = decode_content(body, coding, self.max_body)
            if decoded is not None:
                msg.decoded_body = decoded
                msg.decoded_length = len(decoded)
            elif problem:
                msg.problems.append(f"Content-Encoding {coding}: {problem}")
        if type(head) is RequestHead:
            msg.method = head.method
            msg.uri = head.target
            assert b.pending is not None
            b.pending.request = msg
            b.pending.request_done = True
            self._flush()
        else:
            assert type(head) is ResponseHead
            msg.status = head.status
            msg.reason = head.reason
            self._response_done(msg)

    def _response_done(self, msg: HttpMessage) -> None:
        status = msg.status or 0
        # The oldest request without a final response is the one answered.
        for target in self.queue:
            if target.response is None:
                break
        else:
            target = _Pending()  # capture began after the request, or a stray response
            target.request_done = True
            self.queue.append(target)
        if 100 <= status < 200 and status != 101:
            target.interim.append(msg)
            return
        target.response = msg
        self._flush()

    def _flush(self) -> None:
        """Emit finished transactions in request order."""
        q = self.queue
        while q and q[0].request_done and q[0].response is not None:
            self._emit(q.popleft())

    def _emit(self, p: _Pending) -> None:
        if p.request is None and p.response is None:
            if not p.interim:
                return  # nothing of it was seen
            # Only interim responses (100 Continue) of a request the capture does not hold: the
            # last of them stands as the response, so every exchange has a request or a response.
            msg = p.response = p.interim.pop()
            msg.complete = False
            msg.problems.append("only an interim response: no request or final response was captured")
        self.count += 1
        self.stats.transactions += 1
        self.emit(Transaction(
            id=f"{self.conn.id}.{self.count}", capture=self.capture, connection=self.conn.id,
            client=self.client, server=self.server, request=p.request, response=p.response,
            interim=p.interim, tls=self.tls,
        ), self.conn.first_frame, self.count)


Classifier = Callable[[Connection, int, bytes], "StreamSink | None"]


def make_classifier(capture: int, emit: Emit, stats: HttpStats,
                    max_body: int = DEFAULT_MAX_BODY, closed: Closed | None = None,
                    tls: Callable[[], TlsContext] | None = None) -> Classifier:
    """The reassembler's probe: an :class:`HttpTracker` for an HTTP-looking segment, a
    :class:`~dmsniff.net.tls.TlsTracker` for a TLS record (when ``tls`` gives the capture's TLS
    context; it is asked for it only then)."""

    def make_http(conn: Connection, req_dir: int) -> HttpTracker:
        return HttpTracker(conn, req_dir, capture, emit, stats, max_body, closed)

    def classify(conn: Connection, direction: int, payload: bytes) -> StreamSink | None:
        first = payload[0]
        if first == 22 or first == 23:
            if tls is None or not looks_like_tls(payload):
                return None
            from dmsniff.net.tls import TlsTracker

            return TlsTracker(conn, direction, payload, tls(), make_http, closed, capture)  # type: ignore[arg-type]
        role = sniff_role(payload)
        if role is None:
            return None
        req_dir = direction if role is Role.CLIENT else 1 - direction
        return HttpTracker(conn, req_dir, capture, emit, stats, max_body, closed)

    return classify
