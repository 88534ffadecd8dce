"""Message framing (RFC 9112 section 6.3) as seen by a passive observer.

Each case: the role, the methods the SERVER parser was told about, the stream, the
expected event summary (see ``helpers.summary``) and the problems expected on
EndOfMessage events.  The same cases are re-run in every split in ``test_splits.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from decoders.http import NEED_DATA, Body, EndOfMessage, HttpStreamParser, ResponseHead, Role, Skipped, State

from .helpers import problems, run, summary

C, S = Role.CLIENT, Role.SERVER


@dataclass
class Case:
    name: str
    role: Role
    stream: bytes
    expected: list[tuple[object, ...]]
    problems: list[str] = field(default_factory=list)
    methods: tuple[str, ...] = ()
    eof: bool = True


CHUNKED_BODY = b"5;name=value\r\nhello\r\n1A\r\n" + b"x" * 26 + b"\r\n0\r\n\r\n"

CASES = [
    # ---- requests
    Case("request content-length", C, b"POST /cwmp HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
         [("req", "POST", "/cwmp"), ("body", b"hello"), ("end", True)]),
    Case("request without framing has no body", C,
         b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
         [("req", "GET", "/a"), ("end", True), ("req", "GET", "/b"), ("end", True)]),
    Case("request content-length 0", C, b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
         [("req", "POST", "/"), ("end", True), ("req", "GET", "/"), ("end", True)]),
    Case("request chunked with extensions and trailers", C,
         b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n"
         b"0\r\nChecksum: abc\r\nX-T: 2\r\n\r\n",
         [("req", "POST", "/up"), ("body", b"hello world"),
          ("end", True, (("Checksum", "abc"), ("X-T", "2")))]),
    Case("chunked wins over content-length", C,
         b"POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNKED_BODY,
         [("req", "POST", "/"), ("body", b"hello" + b"x" * 26), ("end", True)],
         ["both Transfer-Encoding and Content-Length: Content-Length ignored"]),
    Case("request invalid content-length: no body", C,
         b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\nbody\r\nGET / HTTP/1.1\r\n\r\n",
         [("req", "POST", "/"), ("end", True), ("skip", "not an HTTP request line"), ("req", "GET", "/"),
          ("end", True)],
         ["invalid Content-Length 'abc': request body assumed empty"]),
    Case("request conflicting content-length", C,
         b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
         [("req", "POST", "/"), ("end", True)],
         ["conflicting Content-Length values: '5, 6': request body assumed empty"]),
    Case("request conflicting content-length list", C,
         b"POST / HTTP/1.1\r\nContent-Length: 5, 7\r\n\r\n",
         [("req", "POST", "/"), ("end", True)],
         ["conflicting Content-Length values: '5, 7': request body assumed empty"]),
    Case("identical duplicate content-length is fine", C,
         b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 03\r\n\r\nabc",
         [("req", "POST", "/"), ("body", b"abc"), ("end", True)]),
    Case("negative content-length", C, b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
         [("req", "POST", "/"), ("end", True)], ["invalid Content-Length '-1': request body assumed empty"]),
    Case("unicode digits are not digits", C, b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n",
         [("req", "POST", "/"), ("end", True)],
         ["invalid Content-Length '\xb2': request body assumed empty"]),
    Case("request transfer-encoding not ending in chunked", C,
         b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
         [("req", "POST", "/"), ("end", True)],
         ["Transfer-Encoding 'gzip' does not end in chunked: request body length unknown, assumed empty"]),
    Case("transfer-encoding identity is ignored", C,
         b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok",
         [("req", "POST", "/"), ("body", b"ok"), ("end", True)]),
    Case("expect 100-continue request body follows by content-length", C,
         b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata",
         [("req", "POST", "/f"), ("body", b"data"), ("end", True)]),
    Case("pipelined requests", C,
         b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nxHEAD /3 HTTP/1.1\r\n\r\n",
         [("req", "GET", "/1"), ("end", True), ("req", "POST", "/2"), ("body", b"x"), ("end", True),
          ("req", "HEAD", "/3"), ("end", True)]),
    Case("CRLF after a body before the next request", C,
         b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\n\r\n",
         [("req", "POST", "/"), ("body", b"x"), ("end", True), ("req", "GET", "/"), ("end", True)]),
    Case("CONNECT request then tunnel bytes are skipped", C,
         b"CONNECT acs:443 HTTP/1.1\r\nHost: acs:443\r\n\r\n\x16\x03\x01\x00\x05hello",
         [("req", "CONNECT", "acs:443"), ("end", True), ("skip", "not an HTTP request line")]),
    Case("message after connection close", C,
         b"GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
         [("req", "GET", "/1"), ("end", True), ("req", "GET", "/2"), ("end", True)],
         ["message after the sender announced it would close the connection"]),
    # ---- responses
    Case("response content-length", S, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
         [("resp", 200), ("body", b"hello"), ("end", True)]),
    Case("response chunked with trailers", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + CHUNKED_BODY[:-2] + b"T: v\r\n\r\n",
         [("resp", 200), ("body", b"hello" + b"x" * 26), ("end", True, (("T", "v"),))]),
    Case("chunked with LF only and odd sizes", S,
         b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n00003\nabc\n a \t;x\n" + b"z" * 10 + b"\n0\n\n",
         [("resp", 200), ("body", b"abc" + b"z" * 10), ("end", True)]),
    Case("response read until close", S, b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this\r\nis body",
         [("resp", 200), ("body", b"all of this\r\nis body"), ("end", True)]),
    Case("HTTP/1.0 response read until close", S, b"HTTP/1.0 200 OK\r\n\r\nbody",
         [("resp", 200), ("body", b"body"), ("end", True)]),
    Case("response invalid content-length: read until close", S,
         b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nbody",
         [("resp", 200), ("body", b"body"), ("end", True)],
         ["invalid Content-Length '12x': body read until close"]),
    Case("response conflicting content-length: read until close", S,
         b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nbody",
         [("resp", 200), ("body", b"body"), ("end", True)],
         ["conflicting Content-Length values: '1, 2': body read until close"]),
    Case("response transfer-encoding not ending in chunked", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nbody",
         [("resp", 200), ("body", b"body"), ("end", True)],
         ["Transfer-Encoding 'chunked, gzip' does not end in chunked: body read until close"]),
    Case("response to HEAD has no body", S,
         b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         [("resp", 200), ("end", True), ("resp", 200), ("body", b"ok"), ("end", True)],
         methods=("HEAD", "GET")),
    Case("HEAD response with chunked header has no body", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n",
         [("resp", 200), ("end", True), ("resp", 404), ("end", True)], methods=("HEAD", "HEAD")),
    Case("204 and 304 have no body", S,
         b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!",
         [("resp", 204), ("end", True), ("resp", 304), ("end", True), ("resp", 200), ("body", b"!"),
          ("end", True)]),
    Case("1xx has no body and does not consume the method", S,
         b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
         b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         [("resp", 100), ("end", True), ("resp", 103), ("end", True), ("resp", 200), ("end", True),
          ("resp", 200), ("body", b"ok"), ("end", True)],
         methods=("HEAD", "GET")),
    Case("100-continue then final response", S,
         b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone",
         [("resp", 100), ("end", True), ("resp", 200), ("body", b"done"), ("end", True)], methods=("POST",)),
    Case("2xx to CONNECT starts a tunnel", S,
         b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x10HTTP/1.1 200 OK\r\n\r\n",
         [("resp", 200), ("end", True), ("skip", "tunnel data after CONNECT")], methods=("CONNECT",)),
    Case("refused CONNECT has a normal body", S,
         b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\nno!"
         b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
         [("resp", 407), ("body", b"no!"), ("end", True), ("resp", 200), ("end", True)],
         methods=("CONNECT", "GET")),
    Case("101 switches protocols", S,
         b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
         [("resp", 101), ("end", True), ("skip", "data after 101 Switching Protocols")], methods=("GET",)),
    Case("no method queued: normal body", S,
         b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
         [("resp", 200), ("body", b"abc"), ("end", True)]),
    Case("pipelined responses with keep-alive", S,
         b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 401 Unauthorized\r\n"
         b"WWW-Authenticate: Digest realm=\"acs\"\r\nContent-Length: 0\r\n\r\n"
         b"HTTP/1.1 204 No Content\r\n\r\n",
         [("resp", 200), ("body", b"a"), ("end", True), ("resp", 401), ("end", True), ("resp", 204),
          ("end", True)]),
    Case("missing empty line after last chunk", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
         b"HTTP/1.1 204 No Content\r\n\r\n",
         [("resp", 200), ("body", b"ok"), ("end", True), ("resp", 204), ("end", True)],
         ["missing empty line after the last chunk"]),
    Case("missing empty line after trailers", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n"
         b"HTTP/1.1 204 No Content\r\n\r\n",
         [("resp", 200), ("end", True, (("A", "b"),)), ("resp", 204), ("end", True)],
         ["missing empty line after the last chunk"]),
    Case("EOF right after last chunk", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n",
         [("resp", 200), ("body", b"ok"), ("end", True)],
         ["connection closed before the empty line after the last chunk"]),
    Case("invalid chunk size", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\nmore\r\n"
         b"HTTP/1.1 204 No Content\r\n\r\n",
         [("resp", 200), ("body", b"ok"), ("end", False),
          ("skip", "after a framing error, before the next start line"), ("resp", 204), ("end", True)],
         ["invalid chunk size line"]),
    Case("chunk size too large", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n",
         [("resp", 200), ("end", False), ("skip", "after a framing error, before the next start line")],
         ["chunk size too large"]),
    Case("missing CRLF after chunk data", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n",
         [("resp", 200), ("body", b"ok"), ("end", False),
          ("skip", "after a framing error, before the next start line")],
         ["missing CRLF after chunk data"]),
    Case("CR not followed by LF after chunk data", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\rX0\r\n\r\n",
         [("resp", 200), ("body", b"ok"), ("end", False),
          ("skip", "after a framing error, before the next start line")],
         ["missing CRLF after chunk data"]),
    Case("chunked response resyncs on next status line after framing error", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
         [("resp", 200), ("end", False), ("resp", 204), ("end", True)],
         ["invalid chunk size line"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_framing(case: Case) -> None:
    events = run(case.role, [case.stream], methods=case.methods, eof=case.eof)
    assert summary(events) == case.expected
    assert problems(events) == case.problems


def final_state(role: Role, data: bytes, methods: tuple[str, ...] = ()) -> State:
    parser = HttpStreamParser(role)
    for m in methods:
        parser.expect_response_to(m)
    parser.feed(data)
    while parser.next_event() is not NEED_DATA:
        pass
    return parser.state


KEEP_ALIVE = [
    (C, b"GET / HTTP/1.1\r\n\r\n", State.IDLE),
    (C, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", State.MUST_CLOSE),
    (C, b"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", State.MUST_CLOSE),
    (C, b"GET / HTTP/1.0\r\n\r\n", State.MUST_CLOSE),
    (C, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", State.IDLE),
    (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", State.IDLE),
    (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", State.MUST_CLOSE),
    (S, b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", State.MUST_CLOSE),
    (S, b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", State.IDLE),
    (S, b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n", State.IDLE),  # interim: the final one decides
    (S, b"HTTP/1.1 200 OK\r\n\r\n", State.BODY_UNTIL_CLOSE),
    (S, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", State.BODY_LENGTH),
    (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", State.CHUNK_SIZE),
    (S, b"HTTP/1.1 101 Switching Protocols\r\n\r\n", State.TUNNEL),
]


@pytest.mark.parametrize(("role", "data", "state"), KEEP_ALIVE)
def test_connection_persistence(role: Role, data: bytes, state: State) -> None:
    assert final_state(role, data) is state


def test_until_close_body_ends_at_eof_then_closed() -> None:
    parser = HttpStreamParser(Role.SERVER)
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\nabc")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.next_event() == Body(b"abc", 19)
    assert parser.next_event() is NEED_DATA
    parser.feed(b"def")
    assert parser.next_event() == Body(b"def", 22)
    parser.feed_eof()
    assert parser.next_event() == EndOfMessage(25, True)
    assert parser.next_event() is NEED_DATA
    assert parser.state is State.CLOSED


def test_methods_are_consumed_in_order_by_final_responses_only() -> None:
    parser = HttpStreamParser(Role.SERVER)
    for method in ("GET", "HEAD", "GET"):
        parser.expect_response_to(method)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC")
    events = []
    while (ev := parser.next_event()) is not NEED_DATA:
        events.append(ev)
    assert [e.data for e in events if isinstance(e, Body)] == [b"A", b"C"]
    assert not any(isinstance(e, Skipped) for e in events)


def test_expect_response_to_ignored_for_client_role() -> None:
    parser = HttpStreamParser(Role.CLIENT)
    parser.expect_response_to("HEAD")
    parser.feed(b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
    events = []
    while (ev := parser.next_event()) is not NEED_DATA:
        events.append(ev)
    assert Body(b"x", 38) in events
