"""Hypothesis: random and mutated datagrams never raise; well-formed ones round-trip."""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.stun import StunAddress, StunError, StunMessage, decode, looks_like_stun
from tests.mutation import mutations

from .helpers import (
    COOKIE,
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    TID12,
    TR111,
    address,
    attr,
    message,
    with_fingerprint,
)

SEEDS = [
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    message(0x0001, [attr(0x0006, b"cpe-0001"), attr(0xC001, TR111), attr(0xC002, b"")]),
    message(0x0111, [attr(0x0009, b"\x00\x00\x04\x01Unauthorized"), attr(0x000A, b"\x00\x31\x00\x31")]),
    with_fingerprint(
        message(0x0001, [attr(0x0006, b"usr"), attr(0x0020, address("::1", 1, COOKIE + TID12))])
    ),
]


def check(result: StunMessage | StunError) -> None:
    assert isinstance(result, StunMessage | StunError)
    if isinstance(result, StunMessage):
        assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in result.problems)
        assert all(20 <= a.offset < 65536 + 20 for a in result.attributes)
        assert result.klass in {"request", "indication", "success", "error"}
        # the convenience properties must not raise either
        _ = (result.username, result.mapped_address, result.connection_request_binding, result.binding_change)


def _lying_length(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    if len(data) >= 4:
        data[2:4] = struct.pack("!H", draw(st.integers(0, 0xFFFF)))


# The seeds, damaged: bit flips, cuts, random insertions, deletions, a lying length field.
mutated = mutations(SEEDS, max_ops=6, max_delete=8, extra={"length": _lying_length})


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(payload: bytes) -> None:
    check(decode(payload))
    looks_like_stun(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_random_bodies_behind_a_valid_header_never_raise(body: bytes) -> None:
    # Random bytes rarely pass the header check; give them a plausible one.
    for tid in (bytes(16), COOKIE + TID12):
        check(decode(struct.pack("!HH", 0x0101, len(body)) + tid + body))


@settings(max_examples=500, deadline=None)
@given(mutated)
def test_mutated_messages_never_raise(payload: bytes) -> None:
    check(decode(payload))


ips = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
)


@settings(max_examples=200, deadline=None)
@given(
    ip=ips,
    port=st.integers(0, 65535),
    tid=st.binary(min_size=12, max_size=12),
    username=st.text(max_size=40),
    xor_type=st.sampled_from([0x0020, 0x8020]),
)
def test_well_formed_messages_round_trip(
    ip: str, port: int, tid: bytes, username: str, xor_type: int
) -> None:
    key = COOKIE + tid
    payload = with_fingerprint(
        message(0x0101, [attr(0x0006, username.encode()), attr(xor_type, address(ip, port, key))], tid=key)
    )
    msg = decode(payload)
    assert isinstance(msg, StunMessage)
    assert looks_like_stun(payload)
    assert msg.problems == ()
    assert msg.transaction_id == tid
    assert msg.username == username
    family = 1 if ipaddress.ip_address(ip).version == 4 else 2
    assert msg.mapped_address == StunAddress(family, ip, port)
