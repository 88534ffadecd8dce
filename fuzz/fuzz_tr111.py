"""TR-111 (TR-069 Annex G) UDP Connection Requests: ``decoders.tr111.decode``,
``looks_like_udp_connection_request`` and the signature a CPE would check (SHA-1 and SHA-256).
An "internal decoder error" :class:`UdpCrError` is raised again for real."""

from __future__ import annotations

from fuzz._common import instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import tr111
    from decoders.tr111 import _decode as tr111_decode


def TestOneInput(data: bytes) -> None:
    cr = tr111.decode(data)
    if isinstance(cr, tr111.UdpCrError):
        if "internal decoder error" in cr.reason:
            reraise(cr.reason, tr111_decode._decode, data)
    else:
        tr111.signature("crpass", cr)
        tr111.signature(b"\xff\x00", cr, "sha256")
    tr111.looks_like_udp_connection_request(data)


if __name__ == "__main__":
    main(TestOneInput)
