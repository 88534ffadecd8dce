"""The shared damage strategy does damage, of every kind it offers."""

from __future__ import annotations

from hypothesis import find
from hypothesis import strategies as st

from tests.mutation import mutations

SEED = b"<Envelope>0123456789</Envelope>"


def _zero_first(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    if data:
        data[0] = 0


def _bits_apart(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


def test_every_kind_of_damage_happens() -> None:
    # find() raises NoSuchExample when no example satisfies the condition.
    strategy = mutations([SEED], inserts=[b"<Fault>"], extra={"zero": _zero_first})
    find(strategy, lambda b: 0 < len(b) < len(SEED) and SEED.startswith(b))  # cut
    find(strategy, lambda b: b"<Fault>" in b)  # inserted syntax
    find(strategy, lambda b: len(b) == len(SEED) and _bits_apart(b, SEED) == 1)  # a bit flipped
    find(strategy, lambda b: b[:1] == b"\0" and b[1:] == SEED[1:])  # the extra damage
