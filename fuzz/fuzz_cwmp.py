"""CWMP (TR-069 SOAP) bodies: ``decoders.cwmp.decode(body, content_type)``, and the same bytes as
pasted text: ``decoders.cwmp.decode_pasted`` (the repairs ``dmsniff decode`` tries).

The first byte picks the Content-Type (none, text/xml with and without a charset, a wrong
charset), the rest is the body.  ``decode`` never raises by design: a bug it catches comes back
as an "internal decoder error" problem, which this harness turns into the real exception.
"""

from __future__ import annotations

from fuzz._common import has_internal_error, instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import cwmp
    from decoders.cwmp import _decode as cwmp_decode
    from decoders.cwmp import _pasted as cwmp_pasted

CONTENT_TYPES = (None, "text/xml", 'text/xml; charset="utf-8"', "text/xml; charset=iso-8859-1",
                 "application/soap+xml; charset=utf-16", "text/xml; charset=bogus-42",
                 "text/xml; charset=utf-7")


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    content_type = CONTENT_TYPES[data[0] % len(CONTENT_TYPES)]
    body = data[1:]
    msg = cwmp.decode(body, content_type)
    bug = has_internal_error(msg.problems)
    if bug:
        reraise(bug, cwmp_decode._decode, body, content_type)
    pasted = cwmp.decode_pasted(body, content_type)
    bug = has_internal_error(pasted.message.problems)
    if bug:
        reraise(bug, cwmp_pasted._lenient, body, content_type)


if __name__ == "__main__":
    main(TestOneInput)
