"""Memory limits: max_body, huge Content-Length, endless chunks, buffer bounds."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from decoders.http import (
    NEED_DATA,
    Body,
    EndOfMessage,
    Event,
    HttpStreamParser,
    RequestHead,
    ResponseHead,
    Role,
)

from .helpers import drain, problems, run

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def body_bytes(events: Sequence[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Body))


@pytest.mark.parametrize("pieces", [1, 7, 100])
def test_max_body_with_content_length(pieces: int) -> None:
    body = bytes(range(100))
    stream = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body + b"HTTP/1.1 204 No Content\r\n\r\n"
    script = [stream[i : i + pieces] for i in range(0, len(stream), pieces)]
    events = run(Role.SERVER, script, max_body=10)
    assert body_bytes(events) == body[:10]
    assert events[[type(e) for e in events].index(EndOfMessage)] == EndOfMessage(
        140, False, (), ("body larger than cap 10: 90 bytes not kept",))
    assert isinstance(events[-2], ResponseHead)  # counting went on: the next message is found


def test_max_body_with_chunked_and_until_close() -> None:
    chunked = CHUNKED + b"8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n"
    events = run(Role.SERVER, [chunked], max_body=12)
    assert body_bytes(events) == b"0123456789ab"
    assert events[-1].problems == ("body larger than cap 12: 4 bytes not kept",)  # type: ignore[union-attr]
    events = run(Role.SERVER, [b"HTTP/1.0 200 OK\r\n\r\n", b"x" * 50, b"y" * 50], max_body=0)
    assert body_bytes(events) == b""
    assert events[-1] == EndOfMessage(119, False, (), ("body larger than cap 0: 100 bytes not kept",))


def test_body_exactly_max_body_is_complete() -> None:
    events = run(Role.CLIENT, [b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"], max_body=5)
    assert events[-1] == EndOfMessage(43, True)


def test_content_length_two_to_the_63() -> None:
    parser = HttpStreamParser(Role.SERVER, max_body=1000)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 2**63)
    block = b"\0" * 65536
    kept = 0
    for _ in range(64):  # 4 MiB
        parser.feed(block)
        kept += sum(len(e.data) for e in drain(parser) if isinstance(e, Body))
        assert len(parser._buf) == 0 and not parser._q  # white-box: nothing retained
    assert kept == 1000
    parser.feed_eof()
    end = drain(parser)[-1]
    missing = 2**63 - 64 * 65536
    assert end == EndOfMessage(parser.offset, False, (), (
        f"body truncated: {missing} bytes of {2**63} missing (connection closed)",
        f"body larger than cap 1000: {64 * 65536 - 1000} bytes not kept",
    ))


def test_endless_chunks_keep_memory_flat() -> None:
    parser = HttpStreamParser(Role.SERVER, max_body=100)
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"400\r\n" + b"z" * 1024 + b"\r\n"
    for _ in range(5000):
        parser.feed(chunk)
        drain(parser)
        assert len(parser._buf) <= len(chunk)  # white-box
    assert parser.next_event() is NEED_DATA


def test_huge_chunk_size_is_fine_and_too_many_digits_is_not() -> None:
    events = run(Role.SERVER, [CHUNKED + b"f" * 32 + b"\r\nabc"])
    assert events[-1].problems == (  # type: ignore[union-attr]
        f"chunked body truncated: {16**32 - 1 - 3} bytes of chunk data missing (connection closed)",)
    events = run(Role.SERVER, [CHUNKED + b"0" * 100 + b"1\r\na\r\n0\r\n\r\n"])
    assert body_bytes(events) == b"a"  # leading zeros do not count


def test_content_length_with_too_many_digits() -> None:
    events = run(Role.CLIENT, [b"POST / HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"])
    assert events[-1].problems[0].startswith("invalid Content-Length '99999")  # type: ignore[union-attr]


def test_long_chunk_size_line() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    events = run(Role.SERVER, [head + b"5;" + b"e" * 300 + b"\r\nhello\r\n0\r\n\r\n"], max_head=100)
    assert problems(events) == ["chunk size line longer than max_head 100"]
    events = run(Role.SERVER, [head + b"5;" + b"e" * 300 + b"\r\nhello\r\n0\r\n\r\n"])
    assert body_bytes(events) == b"hello"


def test_large_trailer_section() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    events = run(Role.SERVER, [head + b"X: " + b"t" * 300 + b"\r\n\r\n"], max_head=100)
    assert problems(events) == ["trailer section larger than max_head 100"]


def test_one_big_feed_with_many_messages() -> None:
    msg = b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    parser = HttpStreamParser(Role.CLIENT)
    parser.feed(msg * 20000)
    events = drain(parser)
    assert sum(isinstance(e, RequestHead) for e in events) == 20000
    assert body_bytes(events) == b"abc" * 20000
    assert events[-1] == EndOfMessage(len(msg) * 20000)
