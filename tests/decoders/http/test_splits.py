"""However the stream is cut into feed() calls, the events are the same (up to how Body
data and Skipped ranges are cut), with the same exact offsets."""

from __future__ import annotations

import pytest

from decoders.http import Event, Role

from .helpers import Item, check_invariants, normalize, run, splits
from .test_framing import CASES, Case
from .test_resync import RESYNC_CASES

C, S = Role.CLIENT, Role.SERVER
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

EXTRA = [
    Case("leading garbage then messages", S,
         b"\x00\x01junk\nmore junk</x>HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
         b"HTTP/1.1 304 X\r\n\r\n", []),
    Case("lf only", C, b"\n\nPOST /a HTTP/1.0\nX: 1\n  2\nContent-Length: 2\n\nokGET / HTTP/1.1\n\n", []),
    Case("head too big", C, b"GET / HTTP/1.1\r\nX: " + b"a" * 120 + b"\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", []),
    Case("start line too big", S, b"HTTP/1.1 200 " + b"r" * 150 + b"\r\n\r\nHTTP/1.1 204 OK\r\n\r\n", []),
    Case("partial head at eof", C, b"GET / HTTP/1.1\r\nHost: a\r\n", []),
    Case("plausible line at eof", S, b"junk\nHTTP/1.1 20", []),
    Case("chunk line too long", S, CHUNKED + b"1;" + b"e" * 150, []),
    Case("status line glued after trailers", S,
         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\nHTTP/1.1 200 OK\r\n\r\n", []),
]

ALL = [(c.name, c.role, c.stream, c.methods) for c in CASES + EXTRA]
ALL += [(f"resync {i}", role, data, ()) for i, (role, data, _) in enumerate(RESYNC_CASES)]


def events_for(role: Role, script: list[Item], methods: tuple[str, ...]) -> list[Event]:
    return normalize(run(role, script, methods=methods, max_head=128))


@pytest.mark.parametrize(("name", "role", "stream", "methods"), ALL, ids=[a[0] for a in ALL])
def test_every_split_gives_the_same_events(name: str, role: Role, stream: bytes,
                                           methods: tuple[str, ...]) -> None:
    whole = run(role, [stream], methods=methods, max_head=128)
    check_invariants(whole, [stream])
    expected = normalize(whole)
    for pieces in splits(stream):
        got = run(role, list(pieces), methods=methods, max_head=128)
        check_invariants(got, list(pieces))
        assert normalize(got) == expected, [len(p) for p in pieces]


GAP_SCRIPTS: list[tuple[Role, list[Item]]] = [
    (C, [b"POST /a HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234", 5, b"0123456789GET / HTTP/1.1\r\n\r\n"]),
    (C, [b"POST /a HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234", 50, b"x\r\nGET / HTTP/1.1\r\n\r\n"]),
    (S, [CHUNKED + b"a\r\n01", 3, b"56789\r\n0\r\n\r\nHTTP/1.1 204 X\r\n\r\n"]),
    (S, [CHUNKED + b"a\r\n01", 30, b"</x>HTTP/1.1 204 X\r\n\r\n"]),
    (S, [b"HTTP/1.1 200 OK\r\nCont", 4, b"ength: 3\r\n\r\nabc\nHTTP/1.1 304 Y\r\n\r\n"]),
    (S, [b"HTTP/1.0 200 OK\r\n\r\nabc", 4, b"defHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", None,
         b"late"]),
]


@pytest.mark.parametrize(("role", "script"), GAP_SCRIPTS)
def test_splits_around_gaps(role: Role, script: list[Item]) -> None:
    expected = events_for(role, script, ())
    one_byte: list[Item] = []
    for item in script:
        one_byte += [item[i : i + 1] for i in range(len(item))] if isinstance(item, bytes) else [item]
    assert events_for(role, one_byte, ()) == expected
    for i, item in enumerate(script):
        if isinstance(item, bytes):
            for pieces in splits(item):
                assert events_for(role, script[:i] + list(pieces) + script[i + 1 :], ()) == expected
