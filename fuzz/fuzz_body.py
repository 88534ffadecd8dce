"""Message bodies: chunked transfer coding (with trailers) through ``HttpStreamParser``, then
gzip/deflate Content-Encoding through ``decoders.http.decode_content``.

The first byte picks the framing (chunked, Content-Length, read until close) and the content
coding (gzip, x-gzip, deflate, "gzip, deflate", identity, an unknown one); the second the size
limit given to ``decode_content`` (64 B .. 16 MiB); the rest is the body as on the wire, fed in
one piece.  The body the parser hands on is decoded, and so is the raw input (as a body that
was not chunked).  Both entry points never raise; a parser bug raises here
(``fuzz_http.RaisingParser``).
"""

from __future__ import annotations

from fuzz._common import instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.http import NEED_DATA, Body, Role, decode_content

from fuzz.fuzz_http import RaisingParser

CODINGS = ("gzip", "x-gzip", "deflate", "gzip, deflate", "identity", "br")
FRAMINGS = ("chunked", "length", "close")
LIMITS = (64, 4096, 1 << 20, 16 << 20)


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    framing = FRAMINGS[data[0] % 3]
    coding = CODINGS[(data[0] // 3) % len(CODINGS)]
    limit = LIMITS[data[1] % len(LIMITS)]
    wire = data[2:]
    if framing == "chunked":
        framing_header = b"Transfer-Encoding: chunked\r\n"
    elif framing == "length":
        framing_header = b"Content-Length: %d\r\n" % len(wire)
    else:
        framing_header = b"Connection: close\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: " + coding.encode() + b"\r\n" + framing_header + b"\r\n"
    parser = RaisingParser(Role.SERVER)
    parser.feed(head)
    parser.feed(wire)
    parser.feed_eof()
    body = bytearray()
    while (event := parser.next_event()) is not NEED_DATA:
        if isinstance(event, Body):
            body += event.data
    decode_content(bytes(body), coding, limit)
    decode_content(wire, coding, limit)


if __name__ == "__main__":
    main(TestOneInput)
