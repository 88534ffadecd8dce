"""Property tests: valid messages round-trip, nothing raises, offsets hold, splits and
draining patterns do not matter."""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoders.http import Body, EndOfMessage, HttpStreamParser, RequestHead, ResponseHead, Role, Skipped

from .helpers import Item, check_invariants, drain, normalize, run

# HTTP_PARSER_EXAMPLES=20000 for a deeper search than the default run.
SETTINGS = settings(max_examples=int(os.environ.get("HTTP_PARSER_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_RESERVED = {"content-length", "transfer-encoding", "connection", "expect", "upgrade"}
names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,15}\Z").filter(lambda n: n.lower() not in _RESERVED)
values = st.from_regex(r"\A[!-~]([ -~]{0,20}[!-~])?\Z") | st.just("")
fields = st.lists(st.tuples(names, values), max_size=5)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "M-SEARCH", "X-CUSTOM"])
targets = st.from_regex(rb"\A/[a-zA-Z0-9/?=&%.-]{0,30}\Z")
bodies = st.binary(max_size=300)


@dataclass
class Message:
    raw: bytes
    start: tuple[object, ...]
    fields: tuple[tuple[str, str], ...]
    body: bytes
    trailers: tuple[tuple[str, str], ...]


@st.composite
def messages(draw: st.DrawFn, role: Role, allow_until_close: bool = False,
             crlf_only: bool = False) -> Message:
    eol = b"\r\n" if crlf_only else draw(st.sampled_from([b"\r\n", b"\n"]))
    hdrs = tuple(draw(fields))
    body = draw(bodies)
    kinds = ["length", "chunked"]
    if role is Role.CLIENT or allow_until_close:
        kinds.append("none")
    kind = draw(st.sampled_from(kinds))
    if role is Role.CLIENT:
        method, target = draw(methods), draw(targets)
        start_line = method.encode() + b" " + target + b" HTTP/1.1"
        start: tuple[object, ...] = (method, target.decode())
    else:
        status = draw(st.integers(200, 599).filter(lambda s: s not in (204, 304)))
        reason = draw(st.sampled_from(["", "OK", "Not Found", "Some Reason"]))
        start_line = b"HTTP/1.1 %d %s" % (status, reason.encode())
        start = (status, reason)
    framing: tuple[tuple[str, str], ...] = ()
    trailers: tuple[tuple[str, str], ...] = ()
    if kind == "none":
        body = body if role is Role.SERVER else b""
        payload = body
    elif kind == "length":
        framing = (("Content-Length", str(len(body))),)
        payload = body
    else:
        framing = (("Transfer-Encoding", "chunked"),)
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True) if b > a]
        out = b""
        for p in pieces:
            ext = draw(st.sampled_from([b"", b";a=b", b" ;x"]))
            out += b"%x%s" % (len(p), ext) + eol + p + eol
        trailers = tuple(draw(st.lists(st.tuples(names, values), max_size=2)))
        out += b"0" + eol + b"".join(f"{k}: {v}".encode() + eol for k, v in trailers) + eol
        payload = out
    all_fields = hdrs + framing
    raw = start_line + eol + b"".join(f"{k}: {v}".encode() + eol for k, v in all_fields) + eol + payload
    return Message(raw, start, all_fields, body, trailers)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Role, list[Message]]:
    role = draw(st.sampled_from(list(Role)))
    msgs = draw(st.lists(messages(role), min_size=1, max_size=4))
    if role is Role.SERVER and draw(st.booleans()):
        msgs.append(draw(messages(role, allow_until_close=True)))
    return role, msgs


def random_splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


@SETTINGS
@given(conversations(), st.lists(st.integers(0, 10_000), max_size=20))
def test_valid_messages_round_trip(conv: tuple[Role, list[Message]], cuts: list[int]) -> None:
    role, msgs = conv
    stream = b"".join(m.raw for m in msgs)
    pieces = random_splits(stream, cuts)
    events = run(role, pieces)
    check_invariants(events, pieces)
    heads = [e for e in events if isinstance(e, (RequestHead, ResponseHead))]
    ends = [e for e in events if isinstance(e, EndOfMessage)]
    assert not [e for e in events if isinstance(e, Skipped)]
    assert len(heads) == len(ends) == len(msgs)
    bodies: list[bytes] = []
    for ev in events:
        if isinstance(ev, (RequestHead, ResponseHead)):
            bodies.append(b"")
        elif isinstance(ev, Body):
            bodies[-1] += ev.data
    offset = 0
    for msg, head, end, body in zip(msgs, heads, ends, bodies, strict=True):
        got = (head.method, head.target) if isinstance(head, RequestHead) else (head.status, head.reason)
        assert got == msg.start
        assert head.headers == msg.fields
        assert head.start == offset
        assert body == msg.body
        assert end == EndOfMessage(offset + len(msg.raw), True, msg.trailers, ())
        offset += len(msg.raw)


garbage = st.binary(min_size=1, max_size=60) | st.sampled_from(
    [b"HTTP/1.1 20", b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n", b"\r\n", b"\n\n", b"0\r\n\r\n", b"POST ",
     b"</x>HTTP/1.1 204 No\r\n", b"</x>POST /a HTTP/1.1\r\n", b"0\r\nT: 1\r\n",
     b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n", b"5\r\nabcde\r\n"])


@st.composite
def messy_streams(draw: st.DrawFn) -> tuple[Role, bytes]:
    role = draw(st.sampled_from(list(Role)))
    parts = draw(st.lists(st.one_of(messages(role).map(lambda m: m.raw), garbage), min_size=1, max_size=6))
    return role, b"".join(parts)


@SETTINGS
@given(messy_streams(), st.lists(st.integers(0, 10_000), max_size=30), st.sampled_from([40, 100, 64 * 1024]))
def test_splits_never_change_events(stream: tuple[Role, bytes], cuts: list[int], max_head: int) -> None:
    role, data = stream
    whole = run(role, [data], max_head=max_head, max_body=50)
    pieces = random_splits(data, cuts)
    split = run(role, pieces, max_head=max_head, max_body=50)
    check_invariants(split, pieces, max_body=50)
    assert normalize(split) == normalize(whole)


@st.composite
def scripts(draw: st.DrawFn, data: bytes) -> list[Item]:
    """Cut ``data`` into feeds, replace some pieces by gaps, maybe end early, maybe add more."""
    pieces = random_splits(data, draw(st.lists(st.integers(0, 10_000), max_size=12)))
    script: list[Item] = []
    for p in pieces:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            script.append(len(p))
        elif choice == 1:
            script += [p, draw(st.integers(1, 500))]
        else:
            script.append(p)
    if draw(st.booleans()):
        script.insert(draw(st.integers(0, len(script))), None)
    return script


@SETTINGS
@given(st.data())
def test_gaps_and_eof_anywhere(data: st.DataObject) -> None:
    role, stream = data.draw(messy_streams())
    script = data.draw(scripts(stream))
    methods = data.draw(st.lists(st.sampled_from(["GET", "HEAD", "CONNECT", "POST"]), max_size=4))
    events = run(role, script, methods=methods, max_body=64, max_head=128)
    check_invariants(events, script, max_body=64)
    # Draining after every call or once at the end gives the same events.
    once = run(role, script, methods=methods, max_body=64, max_head=128, drain_each=False)
    assert normalize(once) == normalize(events)


@SETTINGS
@given(st.sampled_from(list(Role)),
       st.lists(st.one_of(st.binary(max_size=200), st.integers(-5, 300), st.none()), max_size=20))
def test_random_input_never_raises(role: Role, script: list[Item]) -> None:
    events = run(role, script, max_body=100, max_head=64)
    check_invariants(events, script, max_body=100)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Role, bytes]:
    role, msgs = draw(conversations())
    data = bytearray(b"".join(m.raw for m in msgs))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 2))
        if op == 0 and i < len(data):
            data[i] = draw(st.sampled_from(b"\r\n :;0aFz\x00\xff"))
        elif op == 1:
            data[i:i] = draw(st.sampled_from([b"\r\n", b"\n", b"HTTP/1.1 ", b"0\r\n", b"x"]))
        else:
            del data[i : i + draw(st.integers(1, 10))]
    return role, bytes(data)


@SETTINGS
@given(mutated(), st.lists(st.integers(0, 10_000), max_size=10))
def test_mutated_messages(stream: tuple[Role, bytes], cuts: list[int]) -> None:
    role, data = stream
    pieces = random_splits(data, cuts)
    events = run(role, pieces, methods=["GET", "HEAD"], max_body=100)
    check_invariants(events, pieces, max_body=100)
    assert normalize(events) == normalize(run(role, [data], methods=["GET", "HEAD"], max_body=100))


@SETTINGS
@given(st.lists(st.sampled_from(["GET", "HEAD", "CONNECT", "POST"]), min_size=1, max_size=5), st.data())
def test_method_queue_decides_bodies(methods_seen: list[str], data: st.DataObject) -> None:
    body = b"<body/>"
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
    parser = HttpStreamParser(Role.SERVER)
    stream = b""
    for m in methods_seen:
        parser.expect_response_to(m)
        stream += raw + (b"" if m in ("HEAD", "CONNECT") else body)
        if m == "CONNECT":
            break
    parser.feed(stream)
    parser.feed_eof()
    events = drain(parser)
    assert not [e for e in events if isinstance(e, Skipped)]
    answered = methods_seen
    if "CONNECT" in methods_seen:
        answered = methods_seen[: methods_seen.index("CONNECT") + 1]
    expect = sum(1 for m in answered if m not in ("HEAD", "CONNECT"))
    assert sum(isinstance(e, Body) for e in events) == expect
