"""Request and status lines: what is accepted, how it is split, what is rejected."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from decoders.http import EndOfMessage, HttpStreamParser, RequestHead, ResponseHead, Role, Skipped, State

from .helpers import run


def ids(cases: Sequence[tuple[bytes, object]]) -> list[str]:
    return [c[0].decode("latin-1") for c in cases]


REQUEST_LINES = [
    (b"GET / HTTP/1.1", ("GET", "/", "HTTP/1.1")),
    (b"POST /cwmp HTTP/1.0", ("POST", "/cwmp", "HTTP/1.0")),
    (b"HEAD /x?y=1 HTTP/1.1", ("HEAD", "/x?y=1", "HTTP/1.1")),
    (b"PUT /f HTTP/1.1", ("PUT", "/f", "HTTP/1.1")),
    (b"DELETE /f HTTP/1.1", ("DELETE", "/f", "HTTP/1.1")),
    (b"OPTIONS * HTTP/1.1", ("OPTIONS", "*", "HTTP/1.1")),
    (b"PATCH /p HTTP/1.1", ("PATCH", "/p", "HTTP/1.1")),
    (b"CONNECT acs.example.net:443 HTTP/1.1", ("CONNECT", "acs.example.net:443", "HTTP/1.1")),
    (b"TRACE / HTTP/1.1", ("TRACE", "/", "HTTP/1.1")),
    (b"M-SEARCH * HTTP/1.1", ("M-SEARCH", "*", "HTTP/1.1")),  # extension methods are tokens
    (b"PROPFIND /dav/ HTTP/1.1", ("PROPFIND", "/dav/", "HTTP/1.1")),
    (b"GET http://acs:7547/cwmp?a=b HTTP/1.1", ("GET", "http://acs:7547/cwmp?a=b", "HTTP/1.1")),
    (b"GET   /many   HTTP/1.1", ("GET", "/many", "HTTP/1.1")),  # multiple spaces tolerated
    (b"GET\t/tab\tHTTP/1.1", ("GET", "/tab", "HTTP/1.1")),
    (b"GET / HTTP/1.1   ", ("GET", "/", "HTTP/1.1")),  # trailing whitespace
    (b"GET /caf\xc3\xa9 HTTP/1.1", ("GET", "/caf\xc3\xa9", "HTTP/1.1")),  # raw bytes, latin-1 decoded
]


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize(("line", "expected"), REQUEST_LINES, ids=ids(REQUEST_LINES))
def test_request_line(line: bytes, expected: tuple[str, str, str], eol: bytes) -> None:
    data = line + eol + b"Host: a" + eol + eol
    events = run(Role.CLIENT, [data])
    head = events[0]
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.version) == expected
    assert (head.start, head.end) == (0, len(data))
    assert head.headers == (("Host", "a"),)
    assert events[1:] == [EndOfMessage(len(data))]


STATUS_LINES = [
    (b"HTTP/1.1 200 OK", ("HTTP/1.1", 200, "OK")),
    (b"HTTP/1.0 404 Not Found", ("HTTP/1.0", 404, "Not Found")),
    (b"HTTP/1.1 200", ("HTTP/1.1", 200, "")),  # reason missing
    (b"HTTP/1.1 200 ", ("HTTP/1.1", 200, "")),  # reason empty
    (b"HTTP/1.1  401  Unauthorized  ", ("HTTP/1.1", 401, "Unauthorized")),
    (b"HTTP/1.1 500 Erreur interne \xe9", ("HTTP/1.1", 500, "Erreur interne \xe9")),
    (b"HTTP/1.1 299 Whatever: with colon", ("HTTP/1.1", 299, "Whatever: with colon")),
    (b"HTTP/1.1 999 Odd", ("HTTP/1.1", 999, "Odd")),
]


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize(("line", "expected"), STATUS_LINES, ids=ids(STATUS_LINES))
def test_status_line(line: bytes, expected: tuple[str, int, str], eol: bytes) -> None:
    data = line + eol + b"Content-Length: 0" + eol + eol
    events = run(Role.SERVER, [data])
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.version, head.status, head.reason) == expected
    assert (head.start, head.end) == (0, len(data))
    assert events[1:] == [EndOfMessage(len(data))]


BAD_REQUEST_LINES = [
    b"GET /",  # no version
    b"GET / HTTP/2.0",
    b"GET / http/1.1",
    b"GET / HTTP/1.",
    b"GET / HTTP/1.1 extra",
    b"GET/ HTTP/1.1",
    b"G(T / HTTP/1.1",  # not a token
    b"GET /a b HTTP/1.1",  # space in target
    b"HTTP/1.1 200 OK",  # a status line is not a request line
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS ClientHello
    b"<soap:Envelope>",
]


@pytest.mark.parametrize("line", BAD_REQUEST_LINES, ids=[repr(c) for c in BAD_REQUEST_LINES])
def test_bad_request_line_is_skipped(line: bytes) -> None:
    data = line + b"\r\nHost: a\r\n\r\n"
    assert run(Role.CLIENT, [data]) == [Skipped(0, len(data), "not an HTTP request line")]


BAD_STATUS_LINES = [
    b"HTTP/1.1 20 OK",
    b"HTTP/1.1 2000 OK",
    b"HTTP/1.1 OK",
    b"HTTP/2 200 OK",
    b"http/1.1 200 OK",
    b"ICY 200 OK",
    b"HTTP/1.1 200OK",
    b"GET / HTTP/1.1",
    b"HTTP/1.1 200 O\rK",  # bare CR inside the line
]


@pytest.mark.parametrize("line", BAD_STATUS_LINES, ids=[repr(c) for c in BAD_STATUS_LINES])
def test_bad_status_line_is_skipped(line: bytes) -> None:
    data = line + b"\r\nContent-Length: 0\r\n\r\n"
    assert run(Role.SERVER, [data]) == [Skipped(0, len(data), "not an HTTP status line")]


def test_empty_lines_before_start_line_are_ignored() -> None:
    data = b"\r\n\r\n\nGET / HTTP/1.1\r\n\r\n"
    events = run(Role.CLIENT, [data])
    assert events == [RequestHead("GET", "/", "HTTP/1.1", (), 5, len(data)), EndOfMessage(len(data))]


def test_garbage_rejected_before_its_line_ends() -> None:
    # No LF yet, but "<" can never start a request line: no need to wait for max_head bytes.
    parser = HttpStreamParser(Role.CLIENT)
    parser.feed(b"<?xml version='1.0'?>" * 10)
    assert parser.next_event() == Skipped(0, 1, "not an HTTP request line")
    assert parser.state is State.RESYNC


@pytest.mark.parametrize(("role", "data", "skipped"), [
    (Role.CLIENT, b" GET / HTTP/1.1\r\n\r\n", 1),
    (Role.CLIENT, b"</Envelope>POST /cwmp HTTP/1.1\r\n\r\n", 11),
    (Role.SERVER, b" HTTP/1.1 200 OK\r\n\r\n", 1),
    (Role.SERVER, b"</Envelope>HTTP/1.1 204 No Content\r\n\r\n", 11),
])
def test_start_line_glued_to_garbage(role: Role, data: bytes, skipped: int) -> None:
    events = run(role, [data])
    assert events[0] == Skipped(0, skipped, "not an HTTP request line" if role is Role.CLIENT
                                else "not an HTTP status line")
    assert isinstance(events[1], (RequestHead, ResponseHead)) and events[1].start == skipped
