"""STUN (RFC 3489/5389 with the TR-111 attributes): ``decoders.stun.decode`` and
``looks_like_stun``.  An "internal decoder error" :class:`StunError` is raised again for real."""

from __future__ import annotations

from fuzz._common import instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import stun
    from decoders.stun import _decode as stun_decode


def TestOneInput(data: bytes) -> None:
    msg = stun.decode(data)
    if isinstance(msg, stun.StunError) and "internal decoder error" in msg.reason:
        reraise(msg.reason, stun_decode._decode, data)
    stun.looks_like_stun(data)


if __name__ == "__main__":
    main(TestOneInput)
