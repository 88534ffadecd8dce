"""Hypothesis: random and mutated datagrams never raise; encoded field values round-trip."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.tr111 import (
    UdpConnectionRequest,
    UdpCrError,
    decode,
    looks_like_udp_connection_request,
    signature,
)
from tests.mutation import mutations

VECTOR = (
    b"GET http://10.0.0.1:7547?ts=1700000000&id=305419896&un=cruser&cn=0a1b2c3d4e5f6071"
    b"&sig=ed0aafbde91a8a4869bc3a823f1d623c73e18009 HTTP/1.1\r\nHost: 10.0.0.1:7547\r\n\r\n"
)
SEEDS = [
    VECTOR,
    VECTOR.replace(b"7547?", b"7547/?").replace(b"\r\n", b"\n"),
    b"GET http://[2001:db8::1]:7547?ts=1700000000000&id=1&un=a%20b&cn=c&sig=AB HTTP/1.1\r\n\r\nbody",
]


def check(result: UdpConnectionRequest | UdpCrError) -> None:
    assert isinstance(result, UdpConnectionRequest | UdpCrError)
    if isinstance(result, UdpConnectionRequest):
        assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in result.problems)
        assert result.port is None or 0 <= result.port <= 65535
        _ = (result.signed_text, result.timestamp_unit, signature("k", result))


_INSERTS = (b'&', b'=', b'?', b'%', b'%zz', b'%c3', b'+', b':', b'[', b']', b'/', b'\r\n', b' ')

# The seeds, damaged: bit flips, cuts, insertions (URL syntax, or random bytes), deletions.
mutated = mutations(SEEDS, inserts=_INSERTS, max_ops=6, max_delete=16)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(payload: bytes) -> None:
    check(decode(payload))
    looks_like_udp_connection_request(payload)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_after_get_never_raises(text: str) -> None:
    check(decode(b"GET " + text.encode("utf-8", "surrogatepass") + b" HTTP/1.1\r\n\r\n"))


@settings(max_examples=500, deadline=None)
@given(mutated)
def test_mutated_requests_never_raise(payload: bytes) -> None:
    check(decode(payload))


@settings(max_examples=300, deadline=None)
@given(
    ts=st.integers(0, 2**40).map(str),
    id_=st.integers(0, 2**32 - 1).map(str),
    un=st.text(st.characters(codec="utf-8"), max_size=30),
    cn=st.text(st.characters(codec="utf-8"), max_size=30),
    password=st.text(max_size=20),
)
def test_form_encoded_fields_round_trip(ts: str, id_: str, un: str, cn: str, password: str) -> None:
    query = urlencode({"ts": ts, "id": id_, "un": un, "cn": cn, "sig": "0" * 40})
    payload = f"GET http://192.0.2.1:7547?{query} HTTP/1.1\r\nHost: 192.0.2.1:7547\r\n\r\n".encode()
    req = decode(payload)
    assert isinstance(req, UdpConnectionRequest)
    assert looks_like_udp_connection_request(payload)
    assert (req.ts, req.id, req.un, req.cn) == (ts, id_, un, cn)
    assert req.signed_text == ts + id_ + un + cn
    assert len(signature(password, req)) == 40
    assert all(not p.startswith("error") for p in req.problems)
