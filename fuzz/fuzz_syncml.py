"""SyncML XML bodies (OMA DM 1.1/1.2, DS): ``decoders.syncml.decode(body, content_type)``.

The first byte picks the Content-Type; the rest is the body.  An "internal decoder error"
:class:`SyncMLError` (a caught bug) is raised again with its real traceback.
"""

from __future__ import annotations

from fuzz._common import instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import syncml
    from decoders.syncml import _decode as syncml_decode

CONTENT_TYPES = (None, "application/vnd.syncml.dm+xml", "application/vnd.syncml+xml; charset=utf-8",
                 "application/vnd.syncml.dm+xml; charset=iso-8859-1", "text/xml",
                 "application/vnd.syncml.dm+xml; charset=utf-7")


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    content_type = CONTENT_TYPES[data[0] % len(CONTENT_TYPES)]
    body = data[1:]
    msg = syncml.decode(body, content_type)
    if isinstance(msg, syncml.SyncMLError) and "internal decoder error" in msg.reason:
        reraise(msg.reason, syncml_decode._decode, body, content_type)
    syncml.looks_like_syncml(body)


if __name__ == "__main__":
    main(TestOneInput)
