"""Finding message boundaries again: mid-connection starts, garbage, oversized heads,
and the public helpers sniff_role() and find_start_line()."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoders.http import (
    EndOfMessage,
    HttpStreamParser,
    RequestHead,
    ResponseHead,
    Role,
    Skipped,
    find_start_line,
    sniff_role,
)

from .helpers import drain, run, summary

C, S = Role.CLIENT, Role.SERVER
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_capture_starting_mid_body() -> None:
    tail = b"</cwmp:Inform>\r\n</soap:Body>\r\n</soap:Envelope>"
    events = run(S, [tail + RESP])
    assert events[0] == Skipped(0, len(tail), "not an HTTP status line")
    assert isinstance(events[1], ResponseHead) and events[1].start == len(tail)
    assert events[-1] == EndOfMessage(len(tail) + len(RESP))


def test_capture_starting_mid_head_client() -> None:
    data = b"ost: acs\r\nContent-Length: 0\r\n\r\nPOST /cwmp HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
    assert summary(run(C, [data])) == [("skip", "not an HTTP request line"), ("req", "POST", "/cwmp"),
                                        ("body", b"x"), ("end", True)]


RESYNC_CASES = [
    # (role, stream, expected summary): message starts found while resynchronising
    (S, b"xx HTTP/1.1 999x\r\n" + RESP, [("skip", "not an HTTP status line"), ("resp", 200), ("body", b"ok"),
                                           ("end", True)]),
    (S, b"</a>HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     [("skip", "not an HTTP status line"), ("resp", 200), ("end", True)]),
    (C, b"</a>POST /x HTTP/1.1\r\n\r\n", [("skip", "not an HTTP request line"), ("req", "POST", "/x"),
                                          ("end", True)]),
    # Extension methods only count at a line start, well-known ones anywhere.
    (C, b"</a>FOO /x HTTP/1.1\r\nBAR /y HTTP/1.1\r\n\r\n", [("skip", "not an HTTP request line"),
                                                             ("req", "BAR", "/y"), ("end", True)]),
    (C, b"<aGETGET / HTTP/1.1\r\n\r\n", [("skip", "not an HTTP request line"), ("req", "GET", "/"),
                                         ("end", True)]),
    # A line-start request wins over a glued one later in the line.
    (C, b"x\r\nFOOGET / HTTP/1.1\r\n\r\n", [("skip", "not an HTTP request line"), ("req", "FOOGET", "/"),
                                           ("end", True)]),
]


@pytest.mark.parametrize(("role", "data", "expected"), RESYNC_CASES)
def test_resync_candidates(role: Role, data: bytes, expected: list[tuple[object, ...]]) -> None:
    assert summary(run(role, [data])) == expected


def test_keep_alive_bodies_without_newline_after_a_gap() -> None:
    # The usual case after a lost segment: every body ends without LF, so message starts
    # are never at a line start.
    body = b"<soap:Envelope>...</soap:Envelope>"
    msg = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    events = run(S, [msg[:30], 20, msg[50:] + msg * 3])
    assert summary(events)[-9:] == [("resp", 200), ("body", body), ("end", True)] * 3


def test_tls_stream_is_one_skipped_event_per_drain() -> None:
    rnd = random.Random(3)
    blob = rnd.randbytes(200_000).replace(b"HTTP/1.", b"xxxx")
    parser = HttpStreamParser(C)
    for i in range(0, len(blob), 1400):
        parser.feed(blob[i : i + 1400])
    parser.feed_eof()
    events = drain(parser)
    # The plausible tail of each chunk may split the run, but all of it is skipped with one reason.
    assert {e.reason for e in events if isinstance(e, Skipped)} == {"not an HTTP request line"}
    assert sum(e.end - e.start for e in events if isinstance(e, Skipped)) == len(blob)
    assert len(events) < 50


def test_head_larger_than_max_head_is_skipped_then_resync() -> None:
    big = b"GET /big HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 300 + b"\r\n" * 1 + b"\r\n"
    data = big + b"GET /small HTTP/1.1\r\n\r\n"
    events = run(C, [data], max_head=200)
    assert events[0] == Skipped(0, len(big), "head larger than max_head 200 bytes")
    assert events[1] == RequestHead("GET", "/small", "HTTP/1.1", (), len(big), len(data))


def test_start_line_larger_than_max_head() -> None:
    big = b"GET /" + b"a" * 500 + b" HTTP/1.1\r\n\r\n"
    events = run(C, [big + RESP.replace(b"HTTP/1.1 200 OK", b"GET / HTTP/1.1")], max_head=100)
    assert events[0] == Skipped(0, len(big), "head larger than max_head 100 bytes")
    assert isinstance(events[1], RequestHead)


def test_head_exactly_max_head_is_accepted() -> None:
    head = b"GET / HTTP/1.1\r\nX: " + b"a" * 20 + b"\r\n\r\n"
    assert isinstance(run(C, [head], max_head=len(head))[0], RequestHead)
    assert isinstance(run(C, [head], max_head=len(head) - 1)[0], Skipped)


def test_buffer_stays_bounded_while_waiting_for_a_head() -> None:
    parser = HttpStreamParser(C, max_head=4096)
    parser.feed(b"GET / HTTP/1.1\r\n")
    piece = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    for _ in range(1000):
        parser.feed(piece)
        drain(parser)
        assert len(parser._buf) <= 4096 + len(piece)  # white-box: the internal buffer


def test_resync_after_gap_finds_lf_only_start_line() -> None:
    events = run(S, [b"HTTP/1.1 200 OK\r\n\r\nbo", 100, b"dy\nHTTP/1.0 304 Not Modified\n\n"])
    assert summary(events) == [("resp", 200), ("body", b"bo"), ("end", False),
                               ("skip", "gap of 100 bytes in capture"),
                               ("skip", "after a gap in the capture, before the next start line"),
                               ("resp", 304), ("end", True)]


# ---- find_start_line

FIND_CASES = [
    (b"", S, 0, -1),
    (b"HTTP/1.1 200 OK\r\n", S, 0, 0),
    (b"xx\nHTTP/1.1 200 OK\r\n", S, 0, 3),
    (b"xx\nHTTP/1.1 200 OK\r\n", S, 1, 3),
    (b"xx\nHTTP/1.1 200 OK\r\n", S, 3, 3),
    (b"xx\nHTTP/1.1 200 OK\r\n", S, 4, -1),
    (b"xx HTTP/1.1 200 OK\r\n", S, 0, -1),  # not at a line start
    (b"HTTP/1.1 20 OK\r\nHTTP/1.0 404\n", S, 0, 16),
    (b"xx\nHTTP/1.1 2", S, 0, 3),  # plausible unterminated tail
    (b"xx\nHT", S, 0, 3),
    (b"xx\nHX", S, 0, -1),
    (b"xx\n", S, 0, -1),
    (b"GET / HTTP/1.1\r\n", C, 0, 0),
    (b"body\r\nPOST /cwmp HTTP/1.1\r\n", C, 0, 6),
    (b"body\r\nPOST /cwmp HTTP/1.1\r\n", C, 2, 6),
    (b"a HTTP/1.1\nb c HTTP/1.1\n", C, 0, 11),
    (b"xGET / HTTP/1.1\n", C, 1, -1),  # glued lines are the parser's business, not this function's
    (b"x\nGET /a b HTTP/1.1\r\nGET /c HTTP/1.1\n", C, 0, 21),
    (b"x\nGET /partial", C, 0, 2),
    (b"x\n<xml>", C, 0, -1),
    (b"\x00\x01HTTP/1.1 200 OK\n", C, 0, -1),
    (bytearray(b"z\nHTTP/1.1 200 OK\n"), S, 0, 2),
]


@pytest.mark.parametrize(("data", "role", "pos", "expected"), FIND_CASES)
def test_find_start_line(data: bytes, role: Role, pos: int, expected: int) -> None:
    assert find_start_line(data, role, pos) == expected


def test_find_start_line_odd_positions() -> None:
    assert find_start_line(b"HTTP/1.1 200 OK\n", S, -3) == 0
    assert find_start_line(b"HTTP/1.1 200 OK\n", S, 100) == -1


_PIECES = [b"POST /acs HTTP/1.1\r\n", b"HTTP/1.1 204 No Content\r\n", b"<x>body</x>", b"\r\n", b"\n",
           b"HTTP/1.", b"GET / HTTP/1.0", b"HTTP/1.1 2", b"x HTTP/1.1 200 OK\n", b" ", b"POST"]


@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.integers(0, 40))
def test_either_role_is_the_earlier_of_the_two(pieces: list[bytes], pos: int) -> None:
    """Role None (one pass, used to find where a dump's next message starts) answers as the two
    scans did, one per role, taking the earlier."""
    data = b"".join(pieces)
    found = [i for i in (find_start_line(data, C, pos), find_start_line(data, S, pos)) if i >= 0]
    assert find_start_line(data, None, pos) == (min(found) if found else -1)


# ---- sniff_role

SNIFF_CASES = [
    (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", C),
    (b"POST /cwmp HTTP/1.1\r\n", C),
    (b"M-SEARCH * HTTP/1.1\r\n", C),
    (b"\r\nGET / HTTP/1.1\r\n", C),
    (b"HTTP/1.1 200 OK\r\n", S),
    (b"HTTP/1.0 401 Unauthorized\n", S),
    (b"HTTP/1.1 204\r\n", S),
    (b"POST /cwmp/a/very/long/url?", C),  # unterminated but convincing
    (b"HTTP/1.1 200 O", S),
    (b"HTTP/1.1 2", None),  # not convincing yet
    (b"GE", None),
    (b"FOO /x", None),  # extension method: needs the whole line
    (b"FOO /x HTTP/1.1\r\n", C),
    (b"", None),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", None),
    (b"SSH-2.0-OpenSSH_9.6\r\n", None),
    (b"<?xml version=\"1.0\"?>\n", None),
    (b"GET / HTTP/2.0\r\n", None),
    (b"GET /a b HTTP/1.1", None),
]


@pytest.mark.parametrize(("data", "role"), SNIFF_CASES)
def test_sniff_role(data: bytes, role: Role | None) -> None:
    assert sniff_role(data) is role
