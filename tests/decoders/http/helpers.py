"""Test helpers: drive a parser from a script of feeds, normalise events, check invariants."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from decoders.http import (
    NEED_DATA,
    Body,
    EndOfMessage,
    Event,
    HttpStreamParser,
    RequestHead,
    ResponseHead,
    Role,
    Skipped,
)

# A script item: bytes to feed, an int gap length, or None for feed_eof().
Item = bytes | int | None


def drain(parser: HttpStreamParser) -> list[Event]:
    events: list[Event] = []
    while (ev := parser.next_event()) is not NEED_DATA:
        events.append(ev)
    return events


def run(
    role: Role,
    script: Iterable[Item],
    *,
    eof: bool = True,
    methods: Sequence[str] = (),
    drain_each: bool = True,
    **kwargs: int,
) -> list[Event]:
    """Feed ``script`` (bytes, gap lengths, None = EOF) and return every event."""
    parser = HttpStreamParser(role, **kwargs)
    for m in methods:
        parser.expect_response_to(m)
    events: list[Event] = []
    for item in script:
        if item is None:
            parser.feed_eof()
        elif isinstance(item, int):
            parser.feed_gap(item)
        else:
            parser.feed(item)
        if drain_each:
            events += drain(parser)
    if eof:
        parser.feed_eof()
    events += drain(parser)
    return events


def normalize(events: Iterable[Event]) -> list[Event]:
    """Merge contiguous Body pieces, and contiguous Skipped with the same reason: how the
    stream was split into feeds may change those, and nothing else."""
    out: list[Event] = []
    for ev in events:
        last = out[-1] if out else None
        if type(ev) is Body and type(last) is Body and last.end == ev.start:
            out[-1] = Body(last.data + ev.data, last.start)
        elif (type(ev) is Skipped and type(last) is Skipped and last.end == ev.start
              and last.reason == ev.reason):
            out[-1] = replace(last, end=ev.end)
        else:
            out.append(ev)
    return out


def summary(events: Iterable[Event]) -> list[tuple[object, ...]]:
    """A compact, offset-free view of normalised events for table-driven expectations."""
    out: list[tuple[object, ...]] = []
    for ev in normalize(events):
        if isinstance(ev, RequestHead):
            out.append(("req", ev.method, ev.target))
        elif isinstance(ev, ResponseHead):
            out.append(("resp", ev.status))
        elif isinstance(ev, Body):
            last = out[-1] if out else None
            if last is not None and last[0] == "body" and isinstance(last[1], bytes):
                out[-1] = ("body", last[1] + ev.data)  # pieces separated by chunk framing or a gap
            else:
                out.append(("body", ev.data))
        elif isinstance(ev, EndOfMessage):
            out.append(("end", ev.complete) + ((ev.trailers,) if ev.trailers else ()))
        else:
            out.append(("skip", ev.reason))
    return out


def problems(events: Iterable[Event]) -> list[str]:
    return [p for ev in events if isinstance(ev, EndOfMessage) for p in ev.problems]


def splits(data: bytes, *, max_pairs: int = 600) -> Iterator[list[bytes]]:
    """One byte at a time, then every two-piece split (for inputs up to ``max_pairs``)."""
    yield [data[i : i + 1] for i in range(len(data))]
    if len(data) <= max_pairs:
        for i in range(1, len(data)):
            yield [data[:i], data[i:]]


def check_invariants(events: Sequence[Event], script: Sequence[Item], max_body: int | None = None) -> None:
    """What must hold for any input: offsets in order and within what was fed, Body data
    equal to the stream bytes at its offsets, one head/end pairing, max_body respected."""
    stream: dict[int, bytes] = {}  # offset -> fed chunk starting there
    total = 0
    for item in script:
        if isinstance(item, bytes):
            stream[total] = item
            total += len(item)
        elif isinstance(item, int) and item > 0:
            total += item
    starts = sorted(stream)

    def read(start: int, end: int) -> bytes | None:
        """Stream bytes [start, end) if no gap lies inside, else None."""
        out = b""
        pos = start
        for s in starts:
            chunk = stream[s]
            if s + len(chunk) <= pos or s >= end:
                continue
            if s > pos:
                return None
            out += chunk[pos - s : end - s]
            pos = s + len(chunk)
            if pos >= end:
                break
        return out if len(out) == end - start else None

    cursor = 0
    in_message = False
    body_total = 0
    for ev in events:
        if isinstance(ev, (RequestHead, ResponseHead)):
            assert not in_message, ev
            assert cursor <= ev.start < ev.end <= total, (cursor, ev)
            head = read(ev.start, ev.end)
            assert head is not None and head.endswith(b"\n"), ev
            cursor = ev.end
            in_message = True
            body_total = 0
        elif isinstance(ev, Body):
            assert in_message, ev
            assert ev.data, ev
            assert cursor <= ev.start and ev.end <= total, (cursor, ev)
            assert read(ev.start, ev.end) == ev.data, ev
            cursor = ev.end
            body_total += len(ev.data)
            if max_body is not None:
                assert body_total <= max_body
        elif isinstance(ev, EndOfMessage):
            assert in_message, ev
            assert cursor <= ev.end <= total, (cursor, ev)
            cursor = ev.end
            in_message = False
        else:
            assert not in_message, ev
            assert cursor <= ev.start < ev.end <= total, (cursor, ev)
            cursor = ev.end
