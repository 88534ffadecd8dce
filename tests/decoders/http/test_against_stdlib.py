"""Cross-checks with the standard library: what http.client sends, we parse; what
http.client and http.server parse, we parse the same way."""

from __future__ import annotations

import http.client
import io
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.http import Body, EndOfMessage, Event, RequestHead, ResponseHead, Role

from .helpers import run
from .test_properties import Message, messages


class _Sink:
    """Enough of a socket for http.client.HTTPConnection to send into."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


def sent_by_http_client(method: str, url: str, body: bytes | Iterator[bytes] | None,
                        headers: dict[str, str], chunked: bool = False) -> bytes:
    conn = http.client.HTTPConnection("acs.example.net", 7547)
    sink = _Sink()
    conn.sock = sink
    conn.request(method, url, body=body, headers=headers, encode_chunked=chunked)
    return sink.data


def body_of(events: Sequence[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Body))


REQUESTS = [
    ("GET", "/", None, {}),
    ("POST", "/cwmp", b"<soap:Envelope/>", {"Content-Type": "text/xml", "SOAPAction": ""}),
    ("PUT", "/upload?x=1", b"\x00\x01" * 500, {"Expect": "100-continue"}),
    ("DELETE", "/obj", b"", {"X-Empty": ""}),
    ("OPTIONS", "*", None, {"Max-Forwards": "0"}),
]


@pytest.mark.parametrize(("method", "url", "body", "headers"), REQUESTS)
def test_requests_sent_by_http_client(method: str, url: str, body: bytes | None,
                                      headers: dict[str, str]) -> None:
    raw = sent_by_http_client(method, url, body, headers)
    events = run(Role.CLIENT, [raw])
    head = events[0]
    assert isinstance(head, RequestHead)
    assert (head.method, head.target, head.version) == (method, url, "HTTP/1.1")
    assert head.get("Host") == "acs.example.net:7547"
    for k, v in headers.items():
        assert head.get(k) == v
    assert body_of(events) == (body or b"")
    assert events[-1] == EndOfMessage(len(raw))


def test_chunked_request_sent_by_http_client() -> None:
    parts = [b"first", b"", b"second" * 100, b"third"]
    raw = sent_by_http_client("POST", "/stream", iter(parts), {"Transfer-Encoding": "chunked"}, chunked=True)
    events = run(Role.CLIENT, [raw])
    assert body_of(events) == b"".join(parts)
    assert events[-1] == EndOfMessage(len(raw))


def parse_with_http_server(raw: bytes) -> BaseHTTPRequestHandler:
    handler = BaseHTTPRequestHandler.__new__(BaseHTTPRequestHandler)
    handler.rfile = io.BytesIO(raw)
    handler.wfile = io.BytesIO()
    handler.raw_requestline = handler.rfile.readline(65537)  # type: ignore[attr-defined]
    handler.client_address = ("192.0.2.1", 1)
    handler.request_version = "HTTP/0.9"
    assert handler.parse_request()
    return handler


@settings(max_examples=200, deadline=None)
@given(messages(Role.CLIENT))
def test_requests_as_http_server_parses_them(msg: Message) -> None:
    handler = parse_with_http_server(msg.raw)
    events = run(Role.CLIENT, [msg.raw])
    head = events[0]
    assert isinstance(head, RequestHead)
    # http.server collapses a leading "//" in the path (an open-redirect guard); the wire has it.
    target = "/" + head.target.lstrip("/") if head.target.startswith("//") else head.target
    assert (head.method, target, head.version) == (handler.command, handler.path, handler.request_version)
    assert list(head.headers) == handler.headers.items()


@settings(max_examples=200, deadline=None)
@given(messages(Role.SERVER, allow_until_close=True, crlf_only=True), st.sampled_from(["GET", "POST"]))
def test_responses_as_http_client_parses_them(msg: Message, method: str) -> None:
    class FakeSocket:
        def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BytesIO:
            return io.BytesIO(msg.raw)

    response = http.client.HTTPResponse(FakeSocket(), method=method)  # type: ignore[arg-type]
    response.begin()
    body = response.read()
    events = run(Role.SERVER, [msg.raw], methods=[method])
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status, head.reason) == (response.status, response.reason)
    assert list(head.headers) == response.msg.items()
    assert body_of(events) == body


HEADER_BLOCKS = [
    b"Host: a\r\nX-A: 1\r\n",
    b"content-TYPE: text/xml\r\nX-Dup: 1\r\nx-dup: 2\r\n",
    b"X: v with  inner   spaces\r\n",
    b"X-Folded: a\r\n  b\r\n\tc\r\nY: z\r\n",
    b"X-Latin: caf\xe9\r\n",
    b"X-Empty:\r\nX-Tabs:\t\tv\t\r\n",
]


@pytest.mark.parametrize("block", HEADER_BLOCKS)
def test_headers_match_http_client_parse_headers(block: bytes) -> None:
    expected = http.client.parse_headers(io.BytesIO(block + b"\r\n")).items()
    events = run(Role.CLIENT, [b"GET / HTTP/1.1\r\n" + block + b"\r\n"])
    head = events[0]
    assert isinstance(head, RequestHead)
    # email keeps folded lines and trailing whitespace as they were; compare them unfolded.
    unfolded = [(k, " ".join(v.split()) if "\n" in v else v.strip(" \t")) for k, v in expected]
    assert list(head.headers) == unfolded
