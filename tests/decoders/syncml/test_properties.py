"""Hypothesis: random and mutated input never raises and stays fast; large messages decode quickly."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoders.syncml import SyncMLError, SyncMLMessage, decode, looks_like_syncml
from tests.mutation import mutations

from .helpers import corpus_files, syncml

SAMPLES = [p.read_bytes() for p in corpus_files() + corpus_files("*.wbxml") if 0 < p.stat().st_size < 60_000]
CONTENT_TYPES = [
    None,
    "application/vnd.syncml.dm+xml",
    "application/vnd.syncml.dm+wbxml",
    "application/vnd.syncml+xml; charset=ISO-8859-1",
    "application/vnd.syncml.dm+xml; charset=utf-16",
]


def _check(res: SyncMLMessage | SyncMLError) -> None:
    assert isinstance(res, SyncMLMessage | SyncMLError)
    if isinstance(res, SyncMLMessage):
        assert all(
            isinstance(p, str) and "\n" not in p and p.startswith(("error: ", "warning: ", "info: "))
            for p in res.problems
        )
        for cmd in res.all_commands:  # the properties must not raise either
            _ = (cmd.code, cmd.meaning, cmd.is_header_status)
        hash(res)
    else:
        assert res.reason and "\n" not in res.reason


_INSERTS = (
    b"<", b">", b"&", b"<x>", b"</SyncBody>", b"<Atomic>", b"<Status>", b"<Data>", b"<Item>", b"\x00",
    b"\xff\xfe", b"<!--", b"]]>", b"\x02\xa4\x01",
)

# The corpus, damaged: bit flips, cuts, insertions (the syntax itself, or random bytes), deletions.
mutated = mutations(SAMPLES, inserts=_INSERTS, max_ops=8, max_delete=64)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated, st.sampled_from(CONTENT_TYPES))
def test_mutations_never_raise(body: bytes, content_type: str | None) -> None:
    start = time.perf_counter()
    res = decode(body, content_type)
    looks_like_syncml(body, content_type)
    assert time.perf_counter() - start < 1.0
    _check(res)


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=512), st.sampled_from(CONTENT_TYPES))
def test_random_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    start = time.perf_counter()
    res = decode(body, content_type)
    assert time.perf_counter() - start < 1.0
    _check(res)


@settings(max_examples=200, deadline=2000)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_wbxml_header_never_raise(tail: bytes) -> None:
    for head in (b"\x02\xa4\x01\x6a", b"\x03\x9f\x53\x00", b"\x01\x00\x00\x6a\x00"):
        _check(decode(head + tail))


@settings(max_examples=100, deadline=2000)
@given(st.text(max_size=200))
def test_random_text_in_data_is_kept(text: str) -> None:
    from xml.sax.saxutils import escape

    # XML 1.0 cannot carry most control characters; \r is normalised to \n by any parser.
    clean = "".join(ch for ch in text if ch in "\t\n" or (ch >= " " and ch not in "\ufffe\uffff"))
    clean = "".join(ch for ch in clean if not 0xD800 <= ord(ch) <= 0xDFFF)
    body = syncml(
        f"<Alert><CmdID>1</CmdID><Data>1100</Data><Item><Data>{escape(clean)}</Data></Item></Alert>"
    )
    msg = decode(body)
    assert isinstance(msg, SyncMLMessage)
    assert msg.problems == ()
    assert msg.commands[0].items[0].data == clean


def test_one_megabyte_message_decodes_fast() -> None:
    status = (
        "<Status><CmdID>{n}</CmdID><MsgRef>1</MsgRef><CmdRef>{n}</CmdRef><Cmd>Replace</Cmd>"
        "<TargetRef>./Vendor/Node{n}</TargetRef><Data>200</Data></Status>"
    )
    replace = (
        "<Replace><CmdID>{n}</CmdID><Meta><Format xmlns='syncml:metinf'>chr</Format>"
        "<Type xmlns='syncml:metinf'>text/plain</Type></Meta><Item><Target><LocURI>./Vendor/Node{n}</LocURI>"
        "</Target><Data>value of node {n} with some padding text</Data></Item></Replace>"
    )
    parts: list[str] = []
    n = 0
    size = 0
    while size < 1_000_000:
        n += 1
        part = (status if n % 2 else replace).format(n=n)
        parts.append(part)
        size += len(part)
    body = syncml("".join(parts))
    assert len(body) > 1_000_000
    start = time.perf_counter()
    msg = decode(body)
    elapsed = time.perf_counter() - start
    assert isinstance(msg, SyncMLMessage)
    assert msg.problems == () and len(msg.commands) == n
    assert elapsed < 1.0, elapsed
