"""The passive HTTP/1.x stream parser.

Design
------
The parser watches one direction of one TCP connection, as reassembled by the caller.
``feed``/``feed_gap``/``feed_eof`` only queue their input; all work happens in
``next_event``, which runs the handler of the current state (see ``_state.py``) until
an event is ready or more input is needed.  Queueing keeps the order of bytes, gaps and
end-of-stream exact however the caller interleaves the calls.

Two places hold unconsumed bytes:

* ``_q``, the queue of fed items: ``bytes`` chunks, ``int`` gap lengths, ``None`` for
  end of stream; ``_qpos`` is the read position inside ``_q[0]``.
* ``_buf``, a bytearray that precedes the queue.  Only states that must look at a
  whole line or head (IDLE, CHUNK_SIZE, CHUNK_DATA_END, CHUNK_TRAILER, RESYNC) move
  bytes into it, at most ``_MOVE`` bytes at a time, and none keeps more than ``max_head``
  bytes there, so it never holds more than ``max_head`` plus one move.

Body states take their bytes from ``_buf`` first and then slice them straight out of the
queued chunks: a body byte is copied once (twice if it shared a chunk with a head), and
bytes beyond ``max_body`` or in a tunnel are only counted, never copied.  RESYNC looks
for candidates with ``bytes.find`` and judges only complete lines.

Every decision depends on the bytes alone, never on how they were cut into ``feed``
calls: a line is judged when its LF has arrived (or, for an unterminated start line,
by a prefix pattern that can only fail for good), and a size limit only fires once the
bytes seen prove that it will be exceeded.  ``test_splits.py`` holds the parser to that.

``_pos`` is always the stream offset of the next unconsumed byte (``_buf[0]`` if the
buffer is not empty), which is how every event gets exact offsets.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import ClassVar, Final

from .._strings import share
from ._abnf import (
    CHUNK_LINE,
    CHUNK_LINE_PREFIX,
    EMPTY_LINES,
    HEAD_END,
    PREFIX_CHECK_LEN,
    REQUEST_LINE,
    STATUS_LINE,
)
from ._events import (
    NEED_DATA,
    Body,
    EndOfMessage,
    Event,
    Headers,
    NeedData,
    RequestHead,
    ResponseHead,
    Role,
    Skipped,
)
from ._headers import Framing, parse_fields, scan_framing
from ._sniff import find_resync_point, is_plausible_prefix
from ._state import TRANSITIONS, Input, State

__all__ = ["HttpStreamParser"]

_MOVE: Final = 8192  # most bytes moved from the queue into the buffer at once
_MOVE_LINE: Final = 512  # ... when only a chunk-size line or a CRLF is expected
_UNBOUNDED: Final = sys.maxsize
_MAX_CHUNK_DIGITS: Final = 32

# What _need_more() found at the front of the queue.
_MOVED: Final = 0
_EMPTY: Final = 1
_GAP: Final = 2
_EOF: Final = 3

_IN_MESSAGE: Final = frozenset({State.BODY_LENGTH, State.CHUNK_SIZE, State.CHUNK_DATA, State.CHUNK_DATA_END,
                                State.CHUNK_TRAILER, State.BODY_UNTIL_CLOSE})

R_NOT_REQUEST: Final = "not an HTTP request line"
R_NOT_STATUS: Final = "not an HTTP status line"
R_AFTER_GAP: Final = "after a gap in the capture, before the next start line"
R_AFTER_ERROR: Final = "after a framing error, before the next start line"
R_HEAD_CUT_BY_GAP: Final = "incomplete head cut by a gap in the capture"
R_HEAD_AT_EOF: Final = "incomplete head at end of stream"
R_AFTER_CONNECT: Final = "tunnel data after CONNECT"
R_AFTER_101: Final = "data after 101 Switching Protocols"
R_AFTER_EOF: Final = "data after end of stream"


def _gap_reason(length: int) -> str:
    return f"gap of {length} bytes in capture"


class HttpStreamParser:
    """Sans-IO parser for one direction of an HTTP/1.0 or 1.1 connection seen on the wire.

    Feed the reassembled stream with :meth:`feed`, report lost segments with
    :meth:`feed_gap` and the end of the stream with :meth:`feed_eof`; pull events with
    :meth:`next_event` until it returns :data:`NEED_DATA`.  No input makes it raise.
    """

    __slots__ = (
        "_at_line_start", "_buf", "_client", "_discard_reason", "_dropped", "_end_input", "_eof_fed",
        "_fed", "_gap_bytes", "_gap_count", "_incomplete", "_kept", "_length", "_line", "_line_end",
        "_line_ok", "_max_body", "_max_head", "_methods", "_out", "_pos", "_problems", "_q", "_qpos",
        "_r_not_start", "_r_too_big", "_r_trailers_too_big", "_remaining", "_resync_reason", "_role",
        "_search_pos", "_skip_from", "_start_groups", "_state", "_tentative",
    )

    #: Tests set this to let internal bugs raise instead of being turned into Skipped.
    _raise_internal_errors: ClassVar[bool] = False

    def __init__(self, role: Role, *, max_body: int = 16 * 1024 * 1024, max_head: int = 64 * 1024) -> None:
        self._role = role
        self._client = role is Role.CLIENT
        self._line = REQUEST_LINE if self._client else STATUS_LINE
        self._r_not_start = R_NOT_REQUEST if self._client else R_NOT_STATUS
        self._max_body = max(0, max_body)
        self._max_head = max(1, max_head)
        self._r_too_big = f"head larger than max_head {self._max_head} bytes"
        self._r_trailers_too_big = f"trailer section larger than max_head {self._max_head}"
        self._state = State.IDLE
        self._fed = 0
        self._eof_fed = False
        self._q: deque[bytes | int | None] = deque()
        self._qpos = 0
        self._buf = bytearray()
        self._pos = 0
        self._out: deque[Event] = deque()
        self._methods: deque[str] = deque()
        # Head scanning (IDLE, MUST_CLOSE, CHUNK_SIZE, CHUNK_TRAILER).
        self._search_pos = 0
        self._line_ok = False
        self._line_end = 0
        self._start_groups: tuple[bytes | None, ...] = ()
        self._tentative = False  # IDLE entered from RESYNC: failing is not a new problem
        # RESYNC / TUNNEL / CLOSED.
        self._resync_reason = self._r_not_start
        self._at_line_start = True
        self._skip_from = -1  # start of bytes already judged to be skipped, if before _pos
        self._discard_reason = R_AFTER_EOF
        # The current message.
        self._end_input = Input.MESSAGE_END
        self._problems: list[str] = []
        self._length = 0
        self._remaining = 0
        self._kept = 0
        self._dropped = 0
        self._gap_bytes = 0
        self._gap_count = 0
        self._incomplete = False

    # ------------------------------------------------------------------ public API

    @property
    def role(self) -> Role:
        return self._role

    @property
    def state(self) -> State:
        """State reached by the events returned so far (input still queued is not seen)."""
        return self._state

    @property
    def offset(self) -> int:
        """Stream offset just after everything fed so far (bytes and gaps): the offset at
        which the next ``feed`` begins."""
        return self._fed

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append the next contiguous bytes of the stream."""
        if not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        self._q.append(data)
        self._fed += len(data)

    def feed_gap(self, length: int) -> None:
        """``length`` bytes of the stream were lost in the capture at the current offset."""
        if length > 0:
            self._q.append(int(length))
            self._fed += length

    def feed_eof(self) -> None:
        """The stream ended (FIN, RST or end of capture).  Later calls are ignored."""
        if not self._eof_fed:
            self._eof_fed = True
            self._q.append(None)

    def expect_response_to(self, method: str) -> None:
        """SERVER role: queue the method of a request seen on the other direction (FIFO).

        Each final (non-1xx) response consumes one method; with none queued, responses
        are assumed to answer a method with a normal body.  Ignored in CLIENT role.
        """
        if not self._client:
            self._methods.append(method)

    def next_event(self) -> Event | NeedData:
        """The next event, or :data:`NEED_DATA` if the input fed so far is used up."""
        out = self._out
        if not out:
            handlers = _HANDLERS
            try:
                while not out:
                    if not handlers[self._state](self):
                        return NEED_DATA
            except Exception as exc:
                if self._raise_internal_errors:
                    raise
                self._recover(exc)
                if not out:
                    return NEED_DATA
        return out.popleft()

    # ------------------------------------------------------------------ plumbing

    def _fire(self, event: Input) -> None:
        self._state = TRANSITIONS[self._state][event]

    def _need_more(self, limit: int = _MOVE) -> int:
        """Append up to ``limit`` queued bytes to the buffer, or say what is in the way."""
        q = self._q
        if not q:
            return _EMPTY
        item = q[0]
        if isinstance(item, bytes):
            p = self._qpos
            end = p + limit
            if end >= len(item):
                self._buf += memoryview(item)[p:] if p else item
                q.popleft()
                self._qpos = 0
            else:
                self._buf += memoryview(item)[p:end]
                self._qpos = end
            return _MOVED
        return _EOF if item is None else _GAP

    def _consume_buffer(self) -> None:
        self._pos += len(self._buf)
        self._buf.clear()

    def _skip_buffer(self, reason: str) -> None:
        start = self._pos
        self._consume_buffer()
        if self._pos > start:
            self._out.append(Skipped(start, self._pos, reason))

    def _recover(self, exc: Exception) -> None:
        """Last line of defence against a parser bug: drop what caused it, then resync."""
        problem = f"internal parser error ({type(exc).__name__}): data dropped"
        if self._state in _IN_MESSAGE:
            problems = (*self._problems, problem)
            self._out.append(EndOfMessage(self._pos, False, (), problems))
        start = self._pos
        self._consume_buffer()
        q = self._q
        to_closed = False
        if q:
            item = q.popleft()
            if isinstance(item, bytes):
                self._pos += len(item) - self._qpos
            elif item is None:
                to_closed = True
            else:
                self._pos += item
            self._qpos = 0
        if self._pos > start:
            self._out.append(Skipped(start, self._pos, problem))
        self._state = State.CLOSED if to_closed else State.RESYNC
        self._discard_reason = R_AFTER_EOF
        self._resync_reason = R_AFTER_ERROR
        self._at_line_start = False
        self._skip_from = -1
        self._line_ok = False
        self._search_pos = 0

    # ------------------------------------------------------------------ messages

    def _begin_message(self, problems: list[str]) -> None:
        self._problems = problems
        self._kept = self._dropped = self._gap_bytes = self._gap_count = 0
        self._incomplete = False
        self._line_ok = False
        self._search_pos = 0
        self._tentative = False

    def _finish(self, trailers: Headers = (), resync: str | None = None) -> None:
        """Emit EndOfMessage and move on: to the message's end state, or to RESYNC."""
        problems = self._problems
        if self._gap_count == 1:
            problems.append(_gap_reason(self._gap_bytes))
        elif self._gap_count:
            problems.append(f"gaps of {self._gap_bytes} bytes in capture ({self._gap_count} gaps)")
        if self._dropped:
            problems.append(f"body larger than cap {self._max_body}: {self._dropped} bytes not kept")
        complete = not (self._incomplete or self._gap_count or self._dropped)
        self._out.append(EndOfMessage(self._pos, complete, trailers, tuple(problems)))
        self._search_pos = 0
        self._line_ok = False
        if resync is None:
            self._fire(self._end_input)
        else:
            self._resync_reason = resync
            self._at_line_start = True
            self._fire(Input.LOST_SYNC)

    def _cut_by_gap(self, gap: int) -> None:
        """A gap hit the message where its framing cannot be followed: end it, resync."""
        self._consume_buffer()  # partial framing bytes belong to the message
        self._gap_bytes += gap
        self._gap_count += 1
        self._finish(resync=R_AFTER_GAP)  # the gap stays queued: RESYNC reports it

    def _cut_by_eof(self, problem: str) -> None:
        self._consume_buffer()  # partial framing bytes belong to the message
        self._problems.append(problem)
        self._incomplete = True
        self._finish()  # the boundary state then sees the queued EOF

    def _framing_error(self, problem: str) -> bool:
        self._problems.append(problem)
        self._incomplete = True
        self._finish(resync=R_AFTER_ERROR)  # the offending bytes stay buffered for RESYNC
        return True

    def _take_body(self, limit: int) -> int:
        """Consume up to ``limit`` body bytes from the buffer, else from the chunk at the
        front of the queue, emitting them as Body up to ``max_body``.  Returns the count
        consumed; 0 means the front of the queue is a gap, the end, or nothing."""
        buf = self._buf
        keep = self._max_body - self._kept
        if buf:
            n = len(buf)
            if n > limit:
                n = limit
            if keep > 0:
                k = n if n <= keep else keep
                self._out.append(Body(bytes(buf) if k == len(buf) else bytes(buf[:k]), self._pos))
                self._kept += k
                self._dropped += n - k
            else:
                self._dropped += n
            if n == len(buf):
                buf.clear()
            else:
                del buf[:n]
            self._pos += n
            return n
        q = self._q
        if not q:
            return 0
        item = q[0]
        if not isinstance(item, bytes):
            return 0
        p = self._qpos
        n = len(item) - p
        if n > limit:
            n = limit
            self._qpos = p + n
        else:
            q.popleft()
            self._qpos = 0
        if keep > 0:
            k = n if n <= keep else keep
            self._out.append(Body(item[p : p + k], self._pos))
            self._kept += k
            self._dropped += n - k
        else:
            self._dropped += n
        self._pos += n
        return n

    # ------------------------------------------------------------------ IDLE, MUST_CLOSE

    def _step_head(self) -> bool:
        buf = self._buf
        if buf and self._parse_head():
            return True
        what = self._need_more()
        if what == _MOVED:
            return True
        if what == _EMPTY:
            return False
        if what == _GAP:
            if buf:
                self._skip_buffer(self._resync_reason if self._tentative else R_HEAD_CUT_BY_GAP)
            self._enter_resync(R_AFTER_GAP, at_line_start=True)
            return True
        if buf:
            self._skip_buffer(self._resync_reason if self._tentative else R_HEAD_AT_EOF)
        self._q.popleft()
        self._fire(Input.END_OF_STREAM)
        return True

    def _enter_resync(self, reason: str, *, at_line_start: bool) -> None:
        if not self._tentative:
            self._resync_reason = reason
        self._tentative = False
        self._at_line_start = at_line_start
        self._line_ok = False
        self._search_pos = 0
        self._fire(Input.LOST_SYNC)

    def _bad_head(self, reason: str) -> bool:
        # RESYNC looks for the next start from the following byte on: a status line or a
        # glued request line may still begin inside this line.
        self._skip_from = self._pos
        del self._buf[:1]
        self._pos += 1
        self._enter_resync(reason, at_line_start=False)
        return True

    def _parse_head(self) -> bool:
        """Try to complete a head from the buffer; False if more bytes are needed."""
        buf = self._buf
        max_head = self._max_head
        if not self._line_ok:
            b0 = buf[0]
            if b0 == 13 or b0 == 10:  # empty lines before a start line are ignored
                m = EMPTY_LINES.match(buf)
                n = m.end() if m else 1
                del buf[:n]
                self._pos += n
                self._search_pos = 0
                return True
            # The outcome must not depend on how the stream was split: a complete line
            # within max_head is judged by the full pattern alone; anything longer or
            # unterminated by the prefix pattern first, then by its length.
            eol = buf.find(b"\n", self._search_pos)
            if 0 <= eol <= max_head:
                m = self._line.fullmatch(buf, 0, eol)
                if m is None:
                    return self._bad_head(self._r_not_start)
                self._start_groups = m.groups()
                self._line_ok = True
                self._line_end = self._search_pos = eol
            else:
                end = eol if eol >= 0 else len(buf)
                if not is_plausible_prefix(buf, self._role, 0, end):
                    return self._bad_head(self._r_not_start)
                if end > max_head:
                    return self._bad_head(self._r_too_big)
                self._search_pos = len(buf)
                return False
        m = HEAD_END.search(buf, self._search_pos)
        if m is None:
            if len(buf) > max_head:
                return self._bad_head(self._r_too_big)
            self._search_pos = max(self._search_pos, len(buf) - 2)
            return False
        if m.end() > max_head:
            return self._bad_head(self._r_too_big)
        self._emit_head(m.start(), m.end())
        return True

    def _emit_head(self, last_lf: int, end: int) -> None:
        buf = self._buf
        start = self._pos
        fields, problems = parse_fields(buf[self._line_end + 1 : last_lf + 1].decode("latin-1"))
        framing = scan_framing(fields)
        del buf[:end]
        self._pos = start + end
        if self._state is State.MUST_CLOSE:
            problems.insert(0, "message after the sender announced it would close the connection")
        self._begin_message(problems)
        groups = self._start_groups
        if self._client:
            self._request_head(groups, fields, framing, start)
        else:
            self._response_head(groups, fields, framing, start)

    def _request_head(self, groups: tuple[bytes | None, ...], fields: Headers, framing: Framing,
                      start: int) -> None:
        method = share((groups[0] or b"").decode("latin-1"))
        target = share((groups[1] or b"").decode("latin-1"))  # an ACS's or DM server's few paths
        version = share((groups[2] or b"").decode("latin-1"))
        self._out.append(RequestHead(method, target, version, fields, start, self._pos))
        close = framing.close or (version == "HTTP/1.0" and not framing.keep_alive)
        self._end_input = Input.MESSAGE_END_CLOSE if close else Input.MESSAGE_END
        problems = self._problems
        if framing.transfer_encoding is not None:
            if framing.chunked:
                self._start_chunked(framing)
                return
            problems.append(f"Transfer-Encoding {framing.transfer_encoding!r} does not end in chunked: "
                            "request body length unknown, assumed empty")
        elif framing.length_problem is not None:
            problems.append(f"{framing.length_problem}: request body assumed empty")
        elif framing.length:
            self._start_length(framing.length)
            return
        self._finish()

    def _response_head(self, groups: tuple[bytes | None, ...], fields: Headers, framing: Framing,
                       start: int) -> None:
        version = share((groups[0] or b"").decode("latin-1"))
        status = int(groups[1] or b"0")
        reason = share((groups[2] or b"").decode("latin-1").strip(" \t"))
        self._out.append(ResponseHead(version, status, reason, fields, start, self._pos))
        interim = 100 <= status < 200 and status != 101
        method = None if interim or not self._methods else self._methods.popleft()
        close = framing.close or (version == "HTTP/1.0" and not framing.keep_alive)
        self._end_input = Input.MESSAGE_END_CLOSE if close else Input.MESSAGE_END
        problems = self._problems
        if interim:
            self._end_input = Input.MESSAGE_END  # whatever it says, the final response follows
        elif status == 101:
            self._tunnel(R_AFTER_101)
        elif method == "CONNECT" and 200 <= status < 300:
            self._tunnel(R_AFTER_CONNECT)
        elif method == "HEAD" or status == 204 or status == 304:
            pass
        elif framing.transfer_encoding is not None:
            if framing.chunked:
                self._start_chunked(framing)
                return
            problems.append(f"Transfer-Encoding {framing.transfer_encoding!r} does not end in chunked: "
                            "body read until close")
            self._start_until_close()
            return
        elif framing.length_problem is not None:
            problems.append(f"{framing.length_problem}: body read until close")
            self._start_until_close()
            return
        elif framing.length is None:
            self._start_until_close()
            return
        elif framing.length:
            self._start_length(framing.length)
            return
        self._finish()

    def _tunnel(self, reason: str) -> None:
        self._discard_reason = reason
        self._end_input = Input.MESSAGE_END_TUNNEL

    def _start_length(self, length: int) -> None:
        self._length = self._remaining = length
        self._fire(Input.HEAD_WITH_LENGTH)

    def _start_chunked(self, framing: Framing) -> None:
        if framing.length is not None or framing.length_problem is not None:
            self._problems.append("both Transfer-Encoding and Content-Length: Content-Length ignored")
        self._search_pos = 0
        self._fire(Input.HEAD_WITH_CHUNKED)

    def _start_until_close(self) -> None:
        self._end_input = Input.MESSAGE_END_CLOSE
        self._fire(Input.HEAD_UNTIL_CLOSE)

    # ------------------------------------------------------------------ bodies

    def _step_length(self) -> bool:
        n = self._take_body(self._remaining)
        if n:
            self._remaining -= n
            if not self._remaining:
                self._finish()
            return True
        q = self._q
        if not q:
            return False
        item = q[0]
        if item is None:
            self._cut_by_eof(f"body truncated: {self._remaining} bytes of {self._length} missing "
                             "(connection closed)")
        elif isinstance(item, int):
            rem = self._remaining
            if item <= rem:
                gap = item
                q.popleft()
            else:  # the rest of the gap lies beyond this message: IDLE reports it
                gap = rem
                q[0] = item - rem
            self._pos += gap
            self._remaining = rem - gap
            self._gap_bytes += gap
            self._gap_count += 1
            if not self._remaining:
                self._finish()
        return True

    def _step_until_close(self) -> bool:
        if self._take_body(_UNBOUNDED):
            return True
        q = self._q
        if not q:
            return False
        item = q[0]
        if item is None:
            self._finish()  # the end of the stream is this body's end; MUST_CLOSE takes the EOF
        elif isinstance(item, int):
            self._cut_by_gap(item)
        return True

    def _step_chunk_size(self) -> bool:
        buf = self._buf
        if buf:
            eol = buf.find(b"\n", self._search_pos)
            if 0 <= eol <= self._max_head:
                m = CHUNK_LINE.fullmatch(buf, 0, eol)
                if m is None:
                    return self._framing_error("invalid chunk size line")
                digits = m.group(1).lstrip(b"0")
                if len(digits) > _MAX_CHUNK_DIGITS:
                    return self._framing_error("chunk size too large")
                size = int(digits, 16) if digits else 0
                del buf[: eol + 1]
                self._pos += eol + 1
                self._search_pos = 0
                if size:
                    self._remaining = size
                    self._fire(Input.CHUNK_HEADER)
                else:
                    self._line_end = 0  # trailer lines checked for a start line so far
                    self._fire(Input.LAST_CHUNK)
                return True
            end = eol if eol >= 0 else len(buf)
            if CHUNK_LINE_PREFIX.fullmatch(buf, 0, min(end, PREFIX_CHECK_LEN)) is None:
                return self._framing_error("invalid chunk size line")
            if end > self._max_head:
                return self._framing_error(f"chunk size line longer than max_head {self._max_head}")
            self._search_pos = len(buf)
        return self._chunk_framing_more(_MOVE_LINE)

    def _chunk_framing_more(self, limit: int) -> bool:
        """Shared tail of the chunk framing states: get bytes, or handle a gap or the end."""
        what = self._need_more(limit)
        if what == _MOVED:
            return True
        if what == _EMPTY:
            return False
        if what == _GAP:
            gap = self._q[0]
            assert isinstance(gap, int)
            self._cut_by_gap(gap)
        else:
            self._cut_by_eof("chunked body truncated (connection closed)")
        return True

    def _step_chunk_data(self) -> bool:
        n = self._take_body(self._remaining)
        if n:
            self._remaining -= n
            if not self._remaining:
                self._fire(Input.CHUNK_DATA_DONE)
            return True
        q = self._q
        if not q:
            return False
        item = q[0]
        if item is None:
            self._cut_by_eof(f"chunked body truncated: {self._remaining} bytes of chunk data missing "
                             "(connection closed)")
        elif isinstance(item, int):
            if item > self._remaining:  # the next chunk-size line was lost
                self._cut_by_gap(item)
                return True
            q.popleft()  # the gap lies inside this chunk's data: framing is intact
            self._pos += item
            self._remaining -= item
            self._gap_bytes += item
            self._gap_count += 1
            if not self._remaining:
                self._fire(Input.CHUNK_DATA_DONE)
        return True

    def _step_chunk_data_end(self) -> bool:
        buf = self._buf
        if buf:
            b0 = buf[0]
            n = 0
            if b0 == 10:
                n = 1
            elif b0 != 13:
                return self._framing_error("missing CRLF after chunk data")
            elif len(buf) >= 2:
                if buf[1] != 10:
                    return self._framing_error("missing CRLF after chunk data")
                n = 2
            if n:
                del buf[:n]
                self._pos += n
                self._fire(Input.CHUNK_END)
                return True
        return self._chunk_framing_more(_MOVE_LINE)

    def _step_chunk_trailer(self) -> bool:
        buf = self._buf
        if buf:
            b0 = buf[0]
            if b0 == 10 or (b0 == 13 and len(buf) >= 2 and buf[1] == 10):
                n = 1 if b0 == 10 else 2
                del buf[:n]
                self._pos += n
                self._finish()
                return True
            if b0 != 13 or len(buf) >= 2:
                m = HEAD_END.search(buf, self._search_pos)
                # Some senders forget the empty line: a start line among the complete lines
                # before the end of the section begins the next message.
                lines_end = m.start() + 1 if m is not None else buf.rfind(b"\n") + 1
                if lines_end > self._line_end:
                    nxt = find_resync_point(buf, self._role, self._line_end, lines_end, True, self._max_head,
                                            glued=False)
                    if nxt >= 0:
                        if buf.find(b"\n", nxt) >= self._max_head:  # like the empty line: within max_head
                            return self._framing_error(self._r_trailers_too_big)
                        block = buf[:nxt].decode("latin-1")
                        del buf[:nxt]
                        self._pos += nxt
                        return self._end_trailers(block, "missing empty line after the last chunk")
                    self._line_end = lines_end
                if m is not None and m.end() <= self._max_head:
                    block = buf[: m.start() + 1].decode("latin-1")
                    del buf[: m.end()]
                    self._pos += m.end()
                    return self._end_trailers(block)
                if m is not None or len(buf) > self._max_head:
                    return self._framing_error(self._r_trailers_too_big)
                self._search_pos = max(0, len(buf) - 2)
        what = self._need_more()
        if what == _MOVED:
            return True
        if what == _EMPTY:
            return False
        if what == _GAP:
            gap = self._q[0]
            assert isinstance(gap, int)
            self._cut_by_gap(gap)
        elif buf:
            self._cut_by_eof("trailer section truncated (connection closed)")
        else:  # all data is there; only the final CRLF is missing
            self._problems.append("connection closed before the empty line after the last chunk")
            self._finish()
        return True

    def _end_trailers(self, block: str, problem: str | None = None) -> bool:
        trailers, problems = parse_fields(block)
        if problem is not None:
            self._problems.append(problem)
        self._problems.extend(problems)
        self._finish(trailers)
        return True

    # ------------------------------------------------------------------ RESYNC, TUNNEL, CLOSED

    def _step_resync(self) -> bool:
        """Skip bytes until a line holds a message start (see ``find_resync_point``).

        Only complete lines are judged, so the outcome does not depend on how the stream
        was split.  The unfinished last line stays buffered (its last ``max_head`` bytes
        at most: a start line cannot begin further back) until its LF, a gap or the end.
        """
        start = self._skip_from if self._skip_from >= 0 else self._pos
        self._skip_from = -1
        buf = self._buf
        max_head = self._max_head
        while True:
            if buf:
                lf = buf.rfind(b"\n", self._search_pos)
                if lf >= 0:
                    idx = find_resync_point(buf, self._role, 0, lf + 1, self._at_line_start, max_head)
                    if idx >= 0:
                        del buf[:idx]
                        self._pos += idx
                        return self._resynced(start)
                    del buf[: lf + 1]
                    self._pos += lf + 1
                    self._at_line_start = True
                excess = len(buf) - max_head
                if excess > 0:
                    del buf[:excess]
                    self._pos += excess
                    self._at_line_start = False
                self._search_pos = len(buf)
            what = self._need_more()
            if what == _MOVED:
                continue
            if what == _EMPTY:
                break
            self._consume_buffer()  # a gap or the end: the unfinished line is no start line
            self._search_pos = 0
            if self._pos > start:
                self._out.append(Skipped(start, self._pos, self._resync_reason))
            item = self._q.popleft()
            if item is None:
                self._fire(Input.END_OF_STREAM)
            else:
                assert isinstance(item, int)
                self._out.append(Skipped(self._pos, self._pos + item, _gap_reason(item)))
                self._pos += item
                self._at_line_start = True
                self._resync_reason = R_AFTER_GAP
            return True
        if self._pos > start:
            self._out.append(Skipped(start, self._pos, self._resync_reason))
            return True
        return False

    def _resynced(self, start: int) -> bool:
        if self._pos > start:
            self._out.append(Skipped(start, self._pos, self._resync_reason))
        self._tentative = True
        self._line_ok = False
        self._search_pos = 0
        self._fire(Input.START_LINE_FOUND)
        return True

    def _step_discard(self) -> bool:
        reason = self._discard_reason if self._state is State.TUNNEL else R_AFTER_EOF
        start = self._pos
        self._consume_buffer()
        q = self._q
        while q:
            item = q.popleft()
            if isinstance(item, bytes):
                self._pos += len(item) - self._qpos
                self._qpos = 0
                continue
            if self._pos > start:
                self._out.append(Skipped(start, self._pos, reason))
            if item is None:
                if self._state is State.TUNNEL:
                    self._fire(Input.END_OF_STREAM)
            else:
                self._out.append(Skipped(self._pos, self._pos + item, _gap_reason(item)))
                self._pos += item
            return True
        if self._pos > start:
            self._out.append(Skipped(start, self._pos, reason))
            return True
        return False


# The handler of each state (see _state.py), one table for every parser: building it per
# instance cost more than anything else in setting up a connection.
_HANDLERS: Final[dict[State, Callable[[HttpStreamParser], bool]]] = {
    State.IDLE: HttpStreamParser._step_head,
    State.MUST_CLOSE: HttpStreamParser._step_head,
    State.BODY_LENGTH: HttpStreamParser._step_length,
    State.CHUNK_SIZE: HttpStreamParser._step_chunk_size,
    State.CHUNK_DATA: HttpStreamParser._step_chunk_data,
    State.CHUNK_DATA_END: HttpStreamParser._step_chunk_data_end,
    State.CHUNK_TRAILER: HttpStreamParser._step_chunk_trailer,
    State.BODY_UNTIL_CLOSE: HttpStreamParser._step_until_close,
    State.RESYNC: HttpStreamParser._step_resync,
    State.TUNNEL: HttpStreamParser._step_discard,
    State.CLOSED: HttpStreamParser._step_discard,
}
