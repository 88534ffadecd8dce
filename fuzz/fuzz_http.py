"""The HTTP/1.x stream parser, both directions, with gaps: ``decoders.http.HttpStreamParser``.

Driven as a sequence of calls (:class:`fuzz._common.Ops`):

* op 0 (first): role (even: ``Role.CLIENT``, requests; odd: ``Role.SERVER``, responses), then
  one byte for ``max_head`` (64, 1 KiB or 64 KiB) and one for ``max_body`` (0, 100 or 16 MiB);
* then any number of: 0 ``feed(chunk)``, 1 ``feed_gap(u16)``, 2 ``feed_eof()``,
  3 ``expect_response_to(method)`` (byte: HEAD, GET, CONNECT, POST), 4 pull every event,
  5 ``sniff_role`` and ``find_start_line`` on a chunk.

Events are pulled after the last op too.  The parser turns its own bugs into ``Skipped`` events
unless ``_raise_internal_errors`` is set (its tests do that too): :class:`RaisingParser` sets it.
"""

from __future__ import annotations

from fuzz._common import Ops, instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.http import NEED_DATA, HttpStreamParser, Role, find_start_line, sniff_role


class RaisingParser(HttpStreamParser):
    """The parser, with its own bugs raised rather than turned into ``Skipped`` events."""

    _raise_internal_errors = True


MAX_HEAD = (64, 1024, 64 * 1024)
MAX_BODY = (0, 100, 16 * 1024 * 1024)
METHODS = ("HEAD", "GET", "CONNECT", "POST")
MAX_EVENTS = 100_000


def drain(parser: HttpStreamParser) -> None:
    for _ in range(MAX_EVENTS):
        if parser.next_event() is NEED_DATA:
            return
    raise AssertionError(f"more than {MAX_EVENTS} events without NEED_DATA")


def TestOneInput(data: bytes) -> None:
    ops = Ops(data)
    role = Role.CLIENT if ops.u8() % 2 == 0 else Role.SERVER
    parser = RaisingParser(role, max_head=MAX_HEAD[ops.u8() % 3], max_body=MAX_BODY[ops.u8() % 3])
    while ops:
        op = ops.op(6)
        if op == 0:
            parser.feed(ops.chunk())
        elif op == 1:
            parser.feed_gap(ops.u16())
        elif op == 2:
            parser.feed_eof()
        elif op == 3:
            parser.expect_response_to(METHODS[ops.u8() % len(METHODS)])
        elif op == 4:
            drain(parser)
        else:
            piece = ops.chunk()
            sniff_role(piece)
            find_start_line(piece, role)
    drain(parser)


if __name__ == "__main__":
    main(TestOneInput)
