"""The transition table on its own, and every state against every kind of input
(hyper-h2 style: hypothesis over state x input)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.http import NEED_DATA, EndOfMessage, HttpStreamParser, Role, Skipped, State
from decoders.http._state import TRANSITIONS, Input, next_state

from .helpers import Item, check_invariants, drain, run

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

# A stream prefix that leaves the parser in each state.
PREFIXES: dict[State, tuple[Role, list[Item], list[str]]] = {
    State.IDLE: (Role.CLIENT, [b"GET / HTTP/1.1\r\n\r\n"], []),
    State.MUST_CLOSE: (Role.CLIENT, [b"GET / HTTP/1.0\r\n\r\n"], []),
    State.BODY_LENGTH: (Role.CLIENT, [b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"], []),
    State.CHUNK_SIZE: (Role.SERVER, [CHUNKED + b"1"], []),
    State.CHUNK_DATA: (Role.SERVER, [CHUNKED + b"a\r\nab"], []),
    State.CHUNK_DATA_END: (Role.SERVER, [CHUNKED + b"1\r\na"], []),
    State.CHUNK_TRAILER: (Role.SERVER, [CHUNKED + b"0\r\nX: 1"], []),
    State.BODY_UNTIL_CLOSE: (Role.SERVER, [b"HTTP/1.1 200 OK\r\n\r\nbody"], []),
    State.RESYNC: (Role.SERVER, [b"garbage"], []),
    State.TUNNEL: (Role.SERVER, [b"HTTP/1.1 200 OK\r\n\r\n"], ["CONNECT"]),
    State.CLOSED: (Role.CLIENT, [b"GET / HTTP/1.1\r\n\r\n", None], []),
}


def parser_in(state: State) -> tuple[HttpStreamParser, list[Item]]:
    role, script, methods = PREFIXES[state]
    parser = HttpStreamParser(role, max_body=64, max_head=128)
    for m in methods:
        parser.expect_response_to(m)
    for item in script:
        if item is None:
            parser.feed_eof()
        elif isinstance(item, int):
            parser.feed_gap(item)
        else:
            parser.feed(item)
    drain(parser)
    return parser, list(script)


def test_table_is_closed() -> None:
    assert set(TRANSITIONS) == set(State)
    for targets in TRANSITIONS.values():
        assert set(targets.values()) <= set(State)


def test_every_state_ends_at_closed() -> None:
    # Message states end their message first (EndOfMessage), then a boundary state sees the end.
    for state in (State.IDLE, State.MUST_CLOSE, State.RESYNC, State.TUNNEL):
        assert next_state(state, Input.END_OF_STREAM) is State.CLOSED
    assert TRANSITIONS[State.CLOSED] == {}
    with pytest.raises(KeyError):
        next_state(State.CLOSED, Input.MESSAGE_END)


def test_every_message_state_can_lose_sync_and_end() -> None:
    for state in (State.BODY_LENGTH, State.CHUNK_SIZE, State.CHUNK_DATA, State.CHUNK_DATA_END,
                  State.CHUNK_TRAILER, State.BODY_UNTIL_CLOSE):
        assert next_state(state, Input.LOST_SYNC) is State.RESYNC
        assert next_state(state, Input.MESSAGE_END) is State.IDLE
        assert next_state(state, Input.MESSAGE_END_CLOSE) is State.MUST_CLOSE


@pytest.mark.parametrize("state", list(State))
def test_prefixes_reach_their_state(state: State) -> None:
    parser, _ = parser_in(state)
    assert parser.state is state


TOKENS = [b"\r\n", b"\n", b"0\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
          b"5\r\nhello\r\n", b"X: y\r\n"]
item = st.one_of(st.binary(max_size=80), st.integers(-1, 200), st.none(), st.sampled_from(TOKENS))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(State)), st.lists(item, max_size=8))
def test_any_input_in_any_state(state: State, script: list[Item]) -> None:
    role, prefix, methods = PREFIXES[state]
    full = prefix + script
    events = run(role, full, methods=methods, max_body=64, max_head=128)
    check_invariants(events, full, max_body=64)


@pytest.mark.parametrize("state", list(State))
def test_need_data_is_stable(state: State) -> None:
    parser, _ = parser_in(state)
    assert parser.next_event() is NEED_DATA
    assert parser.next_event() is NEED_DATA
    assert parser.state is state


def test_internal_error_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    import decoders.http._parser as parser_module

    def broken(block: str) -> object:
        raise RuntimeError("bug")

    monkeypatch.setattr(HttpStreamParser, "_raise_internal_errors", False)
    monkeypatch.setattr(parser_module, "parse_fields", broken)
    parser = HttpStreamParser(Role.CLIENT)
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    parser.feed(b"more")
    parser.feed_eof()
    events = drain(parser)
    # The buffered head and the chunk queued behind it are dropped, not lost: offsets still add up.
    assert events == [Skipped(0, 31, "internal parser error (RuntimeError): data dropped")]
    assert parser.state is State.CLOSED
    with pytest.raises(RuntimeError):
        monkeypatch.setattr(HttpStreamParser, "_raise_internal_errors", True)
        p2 = HttpStreamParser(Role.CLIENT)
        p2.feed(b"GET / HTTP/1.1\r\n\r\n")
        p2.next_event()


def test_internal_error_inside_a_message_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HttpStreamParser, "_raise_internal_errors", False)

    def broken(self: HttpStreamParser, limit: int) -> int:
        raise ValueError("bug")

    monkeypatch.setattr(HttpStreamParser, "_take_body", broken)
    script: list[Item] = [b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", b"hello",
                          b"GET / HTTP/1.1\r\n\r\n"]
    events = run(Role.CLIENT, script, drain_each=False)
    check_invariants(events, script)
    assert events[1] == EndOfMessage(38, False, (), ("internal parser error (ValueError): data dropped",))
