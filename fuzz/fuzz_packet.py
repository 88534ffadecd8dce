"""Link and IP layers: ``dmsniff.net.packet.Dissector`` (Ethernet with 802.1Q/QinQ, SLL, SLL2,
raw IPv4/IPv6, NULL/LOOP, PPP, PPPoE, Cisco HDLC; IPv4 and IPv6 with fragment reassembly and
extension headers; the encapsulations of ``dmsniff.net.tunnels``) over a sequence of frames, then
``finish()``.

Ops (:class:`fuzz._common.Ops`): 0 a frame: link type (byte, index into ``LINKTYPES``), time step
in ms (u16), the frame's bytes; 1 a long pause (fragments expire).  The dissector's ``on_fault`` is
left unset, so a frame that makes it fail raises (the pipeline would report it as an internal
error and go on).
"""

from __future__ import annotations

from collections.abc import Iterator

from fuzz._common import Ops, instrumented, main

with instrumented(__name__ == "__main__"):
    from dmsniff.net.packet import Dissector

LINKTYPES = (1, 0, 101, 108, 113, 228, 229, 276, 12, 14, 147, 9, 50, 51, 104, 239)  # (new ones at the end)


def _frames(ops: Ops) -> Iterator[tuple[int, float, int, bytes]]:
    ts = 1_700_000_000.0
    number = 0
    while ops:
        op = ops.op(2)
        if op == 1:
            ts += 3600.0
            continue
        linktype = LINKTYPES[ops.u8() % len(LINKTYPES)]
        ts += ops.u16() / 1000
        number += 1
        yield number, ts, linktype, ops.chunk()


def TestOneInput(data: bytes) -> None:
    seen: list[object] = []

    def on_tcp(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int,
               flags: int, payload: bytes) -> None:
        assert len(src) in (4, 16) and len(dst) in (4, 16) and 0 <= sport < 65536 and 0 <= dport < 65536
        seen.append(payload)

    def on_udp(frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> None:
        assert len(src) in (4, 16) and len(dst) in (4, 16)
        seen.append(payload)

    dissector = Dissector(on_tcp, on_udp)
    pending: list[object] = []
    dissector.run(_frames(Ops(data)), pending, pending.clear)
    dissector.finish()


if __name__ == "__main__":
    main(TestOneInput)
