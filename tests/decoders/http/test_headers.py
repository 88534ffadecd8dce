"""Header sections: wire order, names as sent, folding, leniency, lookups."""

from __future__ import annotations

import pytest

from decoders.http import EndOfMessage, RequestHead, ResponseHead, Role

from .helpers import problems, run


def head_of(block: bytes, role: Role = Role.CLIENT) -> tuple[RequestHead | ResponseHead, list[str]]:
    start = b"GET / HTTP/1.1\r\n" if role is Role.CLIENT else b"HTTP/1.1 204 No Content\r\n"
    events = run(role, [start + block + b"\r\n"])
    head = events[0]
    assert isinstance(head, (RequestHead, ResponseHead))
    return head, problems(events)


CASES = [
    ("simple", b"Host: acs\r\nX-A: 1\r\n", (("Host", "acs"), ("X-A", "1")), []),
    ("names as sent", b"hOsT: a\r\nCONTENT-type: b\r\n", (("hOsT", "a"), ("CONTENT-type", "b")), []),
    ("values stripped", b"X:   v  w \t\r\n", (("X", "v  w"),), []),
    ("no space after colon", b"X:v\r\n", (("X", "v"),), []),
    ("empty value", b"X:\r\nY: \r\n", (("X", ""), ("Y", "")), []),
    ("colon in value", b"Location: http://a:1/b\r\n", (("Location", "http://a:1/b"),), []),
    ("duplicates kept in order", b"Set-Cookie: a=1\r\nX: 0\r\nSet-Cookie: b=2\r\n",
     (("Set-Cookie", "a=1"), ("X", "0"), ("Set-Cookie", "b=2")), []),
    ("folding", b"X: a\r\n b\r\n\t c\r\nY: 1\r\n", (("X", "a b c"), ("Y", "1")), []),
    ("folding after empty value", b"X:\r\n   b\r\n", (("X", "b"),), []),
    ("folding blank continuation", b"X: a\r\n \r\n", (("X", "a"),), []),
    ("lf only", b"X: a\nY: b\n", (("X", "a"), ("Y", "b")), []),
    ("mixed line ends", b"X: a\r\nY: b\n", (("X", "a"), ("Y", "b")), []),
    ("latin-1 value", b"X: caf\xe9 \xff\r\n", (("X", "caf\xe9 \xff"),), []),
    ("no colon", b"X: a\r\ngarbage line\r\nY: b\r\n", (("X", "a"), ("Y", "b")),
     ["field line without colon ignored: 'garbage line'"]),
    ("no name", b": v\r\n", (), ["field line without name ignored: ': v'"]),
    ("space before colon", b"X : v\r\n", (("X", "v"),), ["whitespace between field name and colon: 'X '"]),
    ("continuation first", b" lost\r\nX: a\r\n", (("X", "a"),),
     ["continuation line without a field ignored: ' lost'"]),
]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("name", "block", "fields", "expected_problems"), CASES, ids=[c[0] for c in CASES])
def test_fields(name: str, block: bytes, fields: tuple[tuple[str, str], ...], expected_problems: list[str],
                role: Role) -> None:
    head, found = head_of(block, role)
    assert head.headers == fields
    assert found == expected_problems


def test_long_problem_lines_are_shortened() -> None:
    _, found = head_of(b"x" * 500 + b"\r\n")
    assert found == ["field line without colon ignored: '" + "x" * 40 + "...'"]


def test_lookups_are_case_insensitive() -> None:
    head, _ = head_of(b"Set-Cookie: a\r\nHOST: h\r\nset-cookie: b\r\n")
    assert head.get("host") == "h"
    assert head.get("Host") == "h"
    assert head.get("X-Missing") is None
    assert head.get("X-Missing", "d") == "d"
    assert head.get("SET-COOKIE") == "a"
    assert head.get_all("Set-Cookie") == ("a", "b")
    assert head.get_all("nope") == ()


def test_framing_fields_found_whatever_their_case() -> None:
    data = b"POST / HTTP/1.1\r\ncontent-LENGTH: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"
    events = run(Role.CLIENT, [data])
    assert [type(e).__name__ for e in events] == ["RequestHead", "Body", "EndOfMessage", "RequestHead",
                                                   "EndOfMessage"]
    assert events[1].data == b"abc"  # type: ignore[union-attr]


def test_head_offsets_with_folding_and_lf() -> None:
    data = b"HTTP/1.1 200 OK\nX: a\n  b\nContent-Length: 2\n\nhi"
    events = run(Role.SERVER, [data])
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.headers == (("X", "a b"), ("Content-Length", "2"))
    assert (head.start, head.end) == (0, len(data) - 2)
    assert events[-1] == EndOfMessage(len(data))
