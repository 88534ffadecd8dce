"""Passive, sans-IO HTTP/1.0 and 1.1 stream parser.

One :class:`HttpStreamParser` follows one direction of one TCP connection as captured
from the wire: requests (``Role.CLIENT``) or responses (``Role.SERVER``).  It never sends
anything and never raises on bad input; it turns the byte stream, with the gaps and the
abrupt ends real captures have, into events with exact stream offsets::

    parser = HttpStreamParser(Role.SERVER)
    parser.expect_response_to("GET")          # learnt from the other direction
    parser.feed(segment_payload)
    while (event := parser.next_event()) is not NEED_DATA:
        ...                                    # ResponseHead, Body, EndOfMessage, Skipped

Also here: :func:`sniff_role` to tell which side of a connection speaks first,
:func:`find_start_line` to locate message starts in raw data, and
:func:`decode_content` to undo gzip/deflate Content-Encoding with a size cap.
"""

from ._content import decode_content
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
from ._parser import HttpStreamParser
from ._sniff import find_start_line, sniff_role
from ._state import State

__all__ = [
    "NEED_DATA",
    "Body",
    "EndOfMessage",
    "Event",
    "Headers",
    "HttpStreamParser",
    "NeedData",
    "RequestHead",
    "ResponseHead",
    "Role",
    "Skipped",
    "State",
    "decode_content",
    "find_start_line",
    "sniff_role",
]
