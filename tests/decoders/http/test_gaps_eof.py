"""Gaps in the capture, the end of the stream, and exact offsets around both."""

from __future__ import annotations

import pytest

from decoders.http import (
    NEED_DATA,
    Body,
    EndOfMessage,
    HttpStreamParser,
    RequestHead,
    ResponseHead,
    Role,
    Skipped,
    State,
)

from .helpers import drain, run

POST_HEAD = b"POST /cwmp HTTP/1.1\r\nContent-Length: 100\r\n\r\n"  # 44 bytes
H = len(POST_HEAD)
GET = b"GET /next HTTP/1.1\r\n\r\n"
AFTER_GAP = "after a gap in the capture, before the next start line"


def req_head(start: int = 0, head: bytes = POST_HEAD, target: str = "/cwmp") -> RequestHead:
    hdrs = (("Content-Length", "100"),) if head is POST_HEAD else ()
    return RequestHead(head.split(b" ")[0].decode(), target, "HTTP/1.1", hdrs, start, start + len(head))


def test_gap_inside_content_length_body() -> None:
    events = run(Role.CLIENT, [POST_HEAD + b"a" * 30, 40, b"b" * 30 + GET])
    end = H + 100
    assert events == [
        req_head(),
        Body(b"a" * 30, H),
        Body(b"b" * 30, H + 70),
        EndOfMessage(end, False, (), ("gap of 40 bytes in capture",)),
        RequestHead("GET", "/next", "HTTP/1.1", (), end, end + len(GET)),
        EndOfMessage(end + len(GET)),
    ]


def test_several_gaps_in_one_body() -> None:
    events = run(Role.CLIENT, [POST_HEAD, 10, b"x" * 10, 20, b"y" * 60])
    assert events[-1] == EndOfMessage(H + 100, False, (), ("gaps of 30 bytes in capture (2 gaps)",))
    assert [(e.start, e.data) for e in events if isinstance(e, Body)] == [(H + 10, b"x" * 10),
                                                                          (H + 40, b"y" * 60)]


def test_gap_running_past_the_end_of_the_body() -> None:
    events = run(Role.CLIENT, [POST_HEAD + b"a" * 90, 25, b"xt\r\n" + GET])
    end = H + 100
    g_end = H + 90 + 25
    assert events == [
        req_head(),
        Body(b"a" * 90, H),
        EndOfMessage(end, False, (), ("gap of 10 bytes in capture",)),
        Skipped(end, g_end, "gap of 15 bytes in capture"),
        Skipped(g_end, g_end + 4, AFTER_GAP),
        RequestHead("GET", "/next", "HTTP/1.1", (), g_end + 4, g_end + 4 + len(GET)),
        EndOfMessage(g_end + 4 + len(GET)),
    ]


def test_gap_ending_exactly_at_the_end_of_the_body() -> None:
    events = run(Role.CLIENT, [POST_HEAD + b"a" * 90, 10, GET])
    end = H + 100
    assert events[2:] == [
        EndOfMessage(end, False, (), ("gap of 10 bytes in capture",)),
        RequestHead("GET", "/next", "HTTP/1.1", (), end, end + len(GET)),
        EndOfMessage(end + len(GET)),
    ]


def test_gap_at_a_message_boundary_resyncs_at_once() -> None:
    first = b"GET /a HTTP/1.1\r\n\r\n"
    events = run(Role.CLIENT, [first, 50, GET])
    n = len(first)
    assert events == [
        RequestHead("GET", "/a", "HTTP/1.1", (), 0, n),
        EndOfMessage(n),
        Skipped(n, n + 50, "gap of 50 bytes in capture"),
        RequestHead("GET", "/next", "HTTP/1.1", (), n + 50, n + 50 + len(GET)),
        EndOfMessage(n + 50 + len(GET)),
    ]


def test_gap_inside_a_head() -> None:
    rest = b"cme\r\nContent-Length: 3\r\n\r\nabc\r\n"
    events = run(Role.CLIENT, [b"POST /cwmp HTTP/1.1\r\nHost: a", 7, rest + GET])
    assert events[:3] == [
        Skipped(0, 28, "incomplete head cut by a gap in the capture"),
        Skipped(28, 35, "gap of 7 bytes in capture"),
        Skipped(35, 35 + 31, AFTER_GAP),  # the rest of the head and its body
    ]
    assert isinstance(events[3], RequestHead) and events[3].target == "/next"


RESP_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"  # 47 bytes
R = len(RESP_CHUNKED)
NEXT = b"HTTP/1.1 204 No Content\r\n\r\n"


def test_gap_inside_chunk_data_keeps_framing() -> None:
    events = run(Role.SERVER, [RESP_CHUNKED + b"a\r\n01234", 3, b"89\r\n0\r\n\r\n" + NEXT])
    assert events[1:4] == [
        Body(b"01234", R + 3),
        Body(b"89", R + 11),
        EndOfMessage(R + 20, False, (), ("gap of 3 bytes in capture",)),
    ]
    assert isinstance(events[4], ResponseHead) and events[4].status == 204


def test_gap_crossing_a_chunk_boundary_ends_the_message() -> None:
    events = run(Role.SERVER, [RESP_CHUNKED + b"a\r\n01234", 10, b"\r\n0\r\n\r\n" + NEXT])
    cut = R + 8
    assert events[1:] == [
        Body(b"01234", R + 3),
        EndOfMessage(cut, False, (), ("gap of 10 bytes in capture",)),
        Skipped(cut, cut + 10, "gap of 10 bytes in capture"),
        Skipped(cut + 10, cut + 17, AFTER_GAP),
        ResponseHead("HTTP/1.1", 204, "No Content", (), cut + 17, cut + 17 + len(NEXT)),
        EndOfMessage(cut + 17 + len(NEXT)),
    ]


@pytest.mark.parametrize(("before", "partial_len"), [
    (b"a\r\n0123456789\r\n1", 1),  # inside a chunk-size line
    (b"a\r\n0123456789\r", 1),  # inside the CRLF after chunk data
    (b"a\r\n0123456789", 0),  # right before that CRLF
    (b"a\r\n0123456789\r\n0\r\nX-T: 1", 6),  # inside the trailers
])
def test_gap_in_chunk_framing_ends_the_message(before: bytes, partial_len: int) -> None:
    events = run(Role.SERVER, [RESP_CHUNKED + before, 5, b"\r\n" + NEXT])
    cut = R + len(before)
    assert events[1:4] == [
        Body(b"0123456789", R + 3),
        EndOfMessage(cut, False, (), ("gap of 5 bytes in capture",)),
        Skipped(cut, cut + 5, "gap of 5 bytes in capture"),
    ]
    assert isinstance(events[-2], ResponseHead) and events[-2].status == 204


def test_gap_in_read_until_close_body() -> None:
    events = run(Role.SERVER, [b"HTTP/1.0 200 OK\r\n\r\nabc", 5, b"def"])
    assert events[1:] == [
        Body(b"abc", 19),
        EndOfMessage(22, False, (), ("gap of 5 bytes in capture",)),
        Skipped(22, 27, "gap of 5 bytes in capture"),
        Skipped(27, 30, AFTER_GAP),
    ]


def test_gap_in_tunnel_and_after_eof() -> None:
    parser = HttpStreamParser(Role.SERVER)
    parser.expect_response_to("CONNECT")
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\n")
    parser.feed(b"\x16\x03")
    parser.feed_gap(4)
    parser.feed(b"xy")
    parser.feed_eof()
    parser.feed_gap(3)
    parser.feed(b"late")
    assert drain(parser)[2:] == [
        Skipped(19, 21, "tunnel data after CONNECT"),
        Skipped(21, 25, "gap of 4 bytes in capture"),
        Skipped(25, 27, "tunnel data after CONNECT"),
        Skipped(27, 30, "gap of 3 bytes in capture"),
        Skipped(30, 34, "data after end of stream"),
    ]
    assert parser.state is State.CLOSED


def test_nonpositive_gaps_are_ignored() -> None:
    parser = HttpStreamParser(Role.CLIENT)
    parser.feed_gap(0)
    parser.feed_gap(-5)
    assert parser.offset == 0
    parser.feed(GET)
    assert drain(parser) == [RequestHead("GET", "/next", "HTTP/1.1", (), 0, len(GET)), EndOfMessage(len(GET))]


# ---- end of stream


def test_eof_in_content_length_body() -> None:
    events = run(Role.CLIENT, [POST_HEAD + b"z" * 97])
    problem = "body truncated: 3 bytes of 100 missing (connection closed)"
    assert events[-1] == EndOfMessage(H + 97, False, (), (problem,))


def test_eof_in_chunk_data() -> None:
    events = run(Role.SERVER, [RESP_CHUNKED + b"10\r\nabc"])
    assert events[-1] == EndOfMessage(
        R + 7, False, (), ("chunked body truncated: 13 bytes of chunk data missing (connection closed)",))


@pytest.mark.parametrize("tail", [b"", b"1", b"1\r\na", b"1\r\na\r", b"1\r\na\r\n"])
def test_eof_in_chunk_framing(tail: bytes) -> None:
    stream = RESP_CHUNKED + tail
    events = run(Role.SERVER, [stream])
    assert events[-1] == EndOfMessage(len(stream), False, (), ("chunked body truncated (connection closed)",))


def test_eof_in_trailers() -> None:
    stream = RESP_CHUNKED + b"0\r\nX-T: 1\r\n"
    assert run(Role.SERVER, [stream])[-1] == EndOfMessage(
        len(stream), False, (), ("trailer section truncated (connection closed)",))


def test_eof_in_head() -> None:
    events = run(Role.CLIENT, [b"POST / HTTP/1.1\r\nHost"])
    assert events == [Skipped(0, 21, "incomplete head at end of stream")]


def test_eof_at_boundary_is_quiet() -> None:
    parser = HttpStreamParser(Role.CLIENT)
    parser.feed(GET + b"\r\n")
    parser.feed_eof()
    parser.feed_eof()
    assert len(drain(parser)) == 2
    assert parser.state is State.CLOSED


def test_data_after_eof_is_skipped() -> None:
    events = run(Role.CLIENT, [GET, None, GET], eof=False)
    assert events[2:] == [Skipped(len(GET), 2 * len(GET), "data after end of stream")]


def test_feeding_without_draining_gives_the_same_events() -> None:
    script: list[bytes | int | None] = [POST_HEAD + b"a" * 30, 40, b"b" * 30 + GET, 12, NEXT, None]
    assert run(Role.CLIENT, script, drain_each=False) == run(Role.CLIENT, script)


def test_offset_counts_bytes_and_gaps() -> None:
    parser = HttpStreamParser(Role.CLIENT)
    assert parser.offset == 0
    parser.feed(b"abc")
    parser.feed(bytearray(b"de"))
    parser.feed(memoryview(b"f"))
    parser.feed(b"")
    parser.feed_gap(10)
    assert parser.offset == 16
    drain(parser)
    assert parser.offset == 16


def test_next_event_after_need_data_resumes() -> None:
    parser = HttpStreamParser(Role.SERVER)
    assert parser.next_event() is NEED_DATA
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Le")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"ngth: 2\r\n\r\n")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.next_event() is NEED_DATA
    parser.feed(b"o")
    assert parser.next_event() == Body(b"o", 38)
    parser.feed(b"k")
    assert parser.next_event() == Body(b"k", 39)
    assert parser.next_event() == EndOfMessage(40)
    assert parser.next_event() is NEED_DATA
