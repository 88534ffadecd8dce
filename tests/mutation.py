"""A hypothesis strategy for "a real message, damaged a few times", shared by the property tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hypothesis import strategies as st

# An extra damage: (draw, data, position) -> None, changing data in place.
Damage = Callable[[st.DrawFn, bytearray, int], None]


def mutations(seeds: Sequence[bytes], *, inserts: Sequence[bytes] = (), max_ops: int = 6,
              max_delete: int = 16, extra: Mapping[str, Damage] | None = None) -> st.SearchStrategy[bytes]:
    """One of ``seeds`` with 1 to ``max_ops`` damages: a bit flipped, the rest cut off,
    bytes inserted (one of ``inserts``, the protocol's own syntax, or random) or
    deleted, or one of ``extra`` (a lying length field, a special byte ...)."""
    chunks = st.binary(max_size=16)
    if inserts:
        chunks = st.sampled_from(list(inserts)) | chunks
    ops = ["flip", "truncate", "insert", "delete", *(extra or {})]

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(list(seeds))))
        for _ in range(draw(st.integers(1, max_ops))):
            op = draw(st.sampled_from(ops))
            pos = draw(st.integers(0, max(len(data) - 1, 0)))
            if op == "flip":
                if data:
                    data[pos] ^= 1 << draw(st.integers(0, 7))
            elif op == "truncate":
                del data[pos:]
            elif op == "insert":
                data[pos:pos] = draw(chunks)
            elif op == "delete":
                del data[pos : pos + draw(st.integers(1, max_delete))]
            else:
                assert extra is not None
                extra[op](draw, data, pos)
        return bytes(data)

    return damaged()
