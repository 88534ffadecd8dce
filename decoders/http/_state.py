"""The state machine of one observed HTTP/1.x stream direction.

A passive observer follows only one machine: the sender of the stream it watches.
Unlike h11 there is no "our side": nothing is ever sent, and the machine never refuses
input.  Anything that does not fit the protocol is turned into an event with a problem
string, and the machine moves to RESYNC, which discards bytes until a plausible start
line shows up again.

States and where they lead (the full table is ``TRANSITIONS`` below)::

    IDLE, MUST_CLOSE   --head-->            BODY_LENGTH | CHUNK_SIZE | BODY_UNTIL_CLOSE
                       --head, no body-->   IDLE | MUST_CLOSE | TUNNEL (2xx to CONNECT, 101)
    CHUNK_SIZE         --size > 0-->        CHUNK_DATA --> CHUNK_DATA_END --> CHUNK_SIZE
                       --size 0-->          CHUNK_TRAILER
    body states        --end of message-->  IDLE (keep-alive) | MUST_CLOSE (sender will close)
    IDLE, MUST_CLOSE, body states --garbage, gap, framing error, oversized head--> RESYNC
    RESYNC             --start line found-> IDLE
    IDLE, MUST_CLOSE, RESYNC, TUNNEL --end of stream--> CLOSED

The parser (``_parser.py``) decides *which* input happened; this module only says where
each input leads, so that the whole protocol fits on one screen and can be tested and
drawn on its own.  A pair missing from the table is a bug in the parser.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["TRANSITIONS", "Input", "State", "next_state"]


class State(enum.Enum):
    # Members are singletons: hash by identity (C speed) rather than Enum's Python-level
    # hash of the name, which showed up in profiles of the per-event dispatch.
    __hash__ = object.__hash__

    #: At a message boundary: expecting a start line (leading empty lines are ignored).
    IDLE = "IDLE"
    #: Like IDLE, but the last message announced the end of the connection
    #: (``Connection: close``, HTTP/1.0 without keep-alive, read-until-close body).
    MUST_CLOSE = "MUST_CLOSE"
    #: Inside a body framed by Content-Length.
    BODY_LENGTH = "BODY_LENGTH"
    #: Expecting a chunk-size line of a chunked body.
    CHUNK_SIZE = "CHUNK_SIZE"
    #: Inside the data of one chunk.
    CHUNK_DATA = "CHUNK_DATA"
    #: Expecting the CRLF that ends chunk data.
    CHUNK_DATA_END = "CHUNK_DATA_END"
    #: After the last chunk: trailer fields up to the final empty line.
    CHUNK_TRAILER = "CHUNK_TRAILER"
    #: Inside a response body delimited by the end of the connection.
    BODY_UNTIL_CLOSE = "BODY_UNTIL_CLOSE"
    #: Discarding bytes until a plausible start line for this role.
    RESYNC = "RESYNC"
    #: The connection stopped speaking HTTP (CONNECT 2xx, 101 Switching Protocols).
    TUNNEL = "TUNNEL"
    #: The end of the stream was seen; anything more is skipped.
    CLOSED = "CLOSED"


class Input(enum.Enum):
    __hash__ = object.__hash__

    HEAD_WITH_LENGTH = "HEAD_WITH_LENGTH"  #: head parsed, Content-Length body follows
    HEAD_WITH_CHUNKED = "HEAD_WITH_CHUNKED"  #: head parsed, chunked body follows
    HEAD_UNTIL_CLOSE = "HEAD_UNTIL_CLOSE"  #: head parsed, body runs to the end of the stream
    CHUNK_HEADER = "CHUNK_HEADER"  #: chunk-size line with size > 0
    LAST_CHUNK = "LAST_CHUNK"  #: chunk-size line with size 0
    CHUNK_DATA_DONE = "CHUNK_DATA_DONE"  #: all data of the current chunk seen
    CHUNK_END = "CHUNK_END"  #: CRLF after chunk data seen
    MESSAGE_END = "MESSAGE_END"  #: EndOfMessage emitted, connection persists
    MESSAGE_END_CLOSE = "MESSAGE_END_CLOSE"  #: EndOfMessage emitted, sender will close
    MESSAGE_END_TUNNEL = "MESSAGE_END_TUNNEL"  #: EndOfMessage emitted, the stream is no longer HTTP
    LOST_SYNC = "LOST_SYNC"  #: garbage, gap or framing error: message boundaries unknown
    START_LINE_FOUND = "START_LINE_FOUND"  #: RESYNC found a plausible start line
    END_OF_STREAM = "END_OF_STREAM"  #: feed_eof() reached


S = State
I = Input  # noqa: E741

_MESSAGE_ENDS: Final[dict[Input, State]] = {
    I.MESSAGE_END: S.IDLE,
    I.MESSAGE_END_CLOSE: S.MUST_CLOSE,
}

_BOUNDARY: Final[dict[Input, State]] = {
    I.HEAD_WITH_LENGTH: S.BODY_LENGTH,
    I.HEAD_WITH_CHUNKED: S.CHUNK_SIZE,
    I.HEAD_UNTIL_CLOSE: S.BODY_UNTIL_CLOSE,
    **_MESSAGE_ENDS,  # head of a message without body
    I.MESSAGE_END_TUNNEL: S.TUNNEL,
    I.LOST_SYNC: S.RESYNC,
    I.END_OF_STREAM: S.CLOSED,
}

#: (state, input) -> next state.  ``END_OF_STREAM`` is only ever fired at a message
#: boundary or in RESYNC/TUNNEL/CLOSED: a message cut by the end of the stream is ended
#: first (EndOfMessage), which leads back to a boundary state.
TRANSITIONS: Final[dict[State, dict[Input, State]]] = {
    S.IDLE: _BOUNDARY,
    S.MUST_CLOSE: _BOUNDARY,
    S.BODY_LENGTH: {**_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.CHUNK_SIZE: {I.CHUNK_HEADER: S.CHUNK_DATA, I.LAST_CHUNK: S.CHUNK_TRAILER,
                   **_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.CHUNK_DATA: {I.CHUNK_DATA_DONE: S.CHUNK_DATA_END, **_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.CHUNK_DATA_END: {I.CHUNK_END: S.CHUNK_SIZE, **_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.CHUNK_TRAILER: {**_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.BODY_UNTIL_CLOSE: {**_MESSAGE_ENDS, I.LOST_SYNC: S.RESYNC},
    S.RESYNC: {I.START_LINE_FOUND: S.IDLE, I.END_OF_STREAM: S.CLOSED},
    S.TUNNEL: {I.END_OF_STREAM: S.CLOSED},
    S.CLOSED: {},
}

del S, I


def next_state(state: State, event: Input) -> State:
    """Where ``event`` leads from ``state``; KeyError if the pair is not allowed."""
    return TRANSITIONS[state][event]
