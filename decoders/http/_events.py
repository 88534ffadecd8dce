"""Events emitted by :class:`~decoders.http.HttpStreamParser`.

Every event is an immutable record carrying exact stream offsets: offset 0 is the
first byte ever fed, and gaps reported with ``feed_gap`` count as consumed offsets.
The offsets let a caller map any event back to the capture frames that carried it.

A message is always reported as one head event (:class:`RequestHead` or
:class:`ResponseHead`), zero or more :class:`Body` events and exactly one
:class:`EndOfMessage`.  Bytes that belong to no message are reported as
:class:`Skipped`.  Problems never raise: they are one-line strings on
``EndOfMessage.problems`` or ``Skipped.reason``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, TypeAlias

from .._frozen import quick_init

__all__ = [
    "NEED_DATA",
    "Body",
    "EndOfMessage",
    "Event",
    "Headers",
    "NeedData",
    "RequestHead",
    "ResponseHead",
    "Role",
    "Skipped",
]

Headers: TypeAlias = tuple[tuple[str, str], ...]


class Role(enum.Enum):
    """Which half of the conversation a byte stream carries."""

    CLIENT = "client"  #: the stream carries requests (client -> server)
    SERVER = "server"  #: the stream carries responses (server -> client)


class NeedData(enum.Enum):
    """Type of the :data:`NEED_DATA` sentinel (an enum so that ``is`` narrows it for mypy)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by ``next_event()`` when no event can be produced from the bytes fed so far.
NEED_DATA: Final = NeedData.NEED_DATA


def _get_all(headers: Headers, name: str) -> tuple[str, ...]:
    lname = name.lower()
    return tuple(v for k, v in headers if k.lower() == lname)


def _get(headers: Headers, name: str, default: str | None) -> str | None:
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return default


@quick_init
@dataclass(frozen=True, slots=True)
class RequestHead:
    """Request line and header section; ``start``/``end`` span the start line up to and
    including the blank line that ends the head."""

    method: str
    target: str
    version: str  #: e.g. "HTTP/1.1"
    headers: Headers  #: wire order, names as sent (latin-1), values stripped of SP/HT
    start: int
    end: int

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of header ``name`` (case-insensitive), like ``email.message.Message.get``."""
        return _get(self.headers, name, default)

    def get_all(self, name: str) -> tuple[str, ...]:
        """All values of header ``name`` (case-insensitive), in wire order."""
        return _get_all(self.headers, name)


@quick_init
@dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status line and header section; offsets as for :class:`RequestHead`."""

    version: str
    status: int
    reason: str  #: may be empty
    headers: Headers
    start: int
    end: int

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of header ``name`` (case-insensitive)."""
        return _get(self.headers, name, default)

    def get_all(self, name: str) -> tuple[str, ...]:
        """All values of header ``name`` (case-insensitive), in wire order."""
        return _get_all(self.headers, name)


@quick_init
@dataclass(frozen=True, slots=True)
class Body:
    """A piece of message body.

    Chunked framing is removed, Content-Encoding is not.  ``start`` is the stream offset
    of ``data[0]`` (for chunked bodies: inside the chunk data).  Pieces of one message
    are never empty and never overlap; they are contiguous unless a gap fell inside the
    body or chunk framing lay between them.
    """

    data: bytes
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.data)


@quick_init
@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The current message is over.

    ``complete`` is False when a gap, the end of the stream or the ``max_body`` cap cut
    the message; ``problems`` says why, and also lists non-fatal protocol problems
    (bad header lines, conflicting Content-Length, ...) that leave ``complete`` True.
    """

    end: int  #: stream offset just after the message's last byte
    complete: bool = True
    trailers: Headers = ()
    problems: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Skipped:
    """Stream bytes (or a gap) that belong to no HTTP message: garbage, a capture that
    started mid-connection, bytes after a gap before the next start line, tunnel data."""

    start: int
    end: int
    reason: str


Event: TypeAlias = RequestHead | ResponseHead | Body | EndOfMessage | Skipped
