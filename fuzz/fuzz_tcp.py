"""TCP reassembly and what sits on it: ``dmsniff.net.tcp.TcpReassembler`` with the real classifier
(``dmsniff.net.http.make_classifier``), so HTTP connections go to ``HttpTracker`` (request/response
pairing, pipelining, 100-continue, gaps, Content-Encoding) and TLS ones to ``TlsTracker`` (with the
key logs of ``captures/``), then ``finish()``.

Ops (:class:`fuzz._common.Ops`): 0 a segment: flow (byte: 0 A->B, 1 B->A, 2 A'->B, 3 B->A'),
flags (byte: FIN 1, SYN 2, RST 4, PSH 8, ACK 16), seq (u32), ack (u32), time step in ms (u16),
payload; 1 a jump of an hour (idle connections are swept).  ``on_fault`` is left unset, so a
connection that makes the reassembler or a tracker fail raises (the pipeline would report an
internal error and skip the rest of that connection).
"""

from __future__ import annotations

from fuzz._common import Ops, instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.http import HttpStreamParser
    from decoders.tls import _connection, _crypto, _handshake, _keys  # noqa: F401  (lazy: instrument now)
    from dmsniff.net import tls as net_tls
    from dmsniff.net.http import HttpStats, make_classifier
    from dmsniff.net.tcp import TcpReassembler
    from dmsniff.net.tls_keys import TlsKeySpec

from fuzz import _keys as fuzz_keys

A, B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
FLOWS = ((A, 40000, B, 80), (B, 80, A, 40000), (A, 40001, B, 443), (B, 443, A, 40001))
_KEYS = net_tls.CaptureKeys(TlsKeySpec(fuzz_keys.keylogs(), fuzz_keys.rsa_keys()))
MAX_BODY = 64 * 1024


def TestOneInput(data: bytes) -> None:
    out: list[object] = []
    ctx = net_tls.TlsContext(_KEYS)

    def emit(tx: object, conn_frame: int, number: int) -> None:
        out.append(tx)

    classify = make_classifier(0, emit, HttpStats(), MAX_BODY, out.append, lambda: ctx)
    tcp = TcpReassembler(classify)
    HttpStreamParser._raise_internal_errors = True  # the parser's bugs raise (see fuzz_http)
    try:
        _segments(tcp, Ops(data))
    finally:
        HttpStreamParser._raise_internal_errors = False


def _segments(tcp: TcpReassembler, ops: Ops) -> None:
    ts = 1_700_000_000.0
    frame = 0
    while ops:
        if ops.op(2) == 1:
            ts += 3600.0
            continue
        src, sport, dst, dport = FLOWS[ops.u8() % len(FLOWS)]
        flags = ops.u8()
        seq, ack = ops.u32(), ops.u32()
        ts += ops.u16() / 1000
        frame += 1
        tcp.segment(frame, ts, src, sport, dst, dport, seq, ack, flags, ops.chunk())
        tcp.tick(ts)  # as the frame decoder does after every segment (idle sweeps)
    tcp.finish()


if __name__ == "__main__":
    main(TestOneInput)
