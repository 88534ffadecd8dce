"""Sans-IO TR-069/CWMP body decoder.

:func:`decode` takes the bytes of one HTTP body (and optionally its Content-Type, for the
charset) and returns an immutable :class:`CwmpMessage`; it never raises::

    msg = decode(body, content_type)
    if msg.kind == "Inform":
        print(msg.rpc.device_id.serial_number, [e.code for e in msg.rpc.events])

RPC records live in ``_records.py``; the name -> parser table is ``_rpcs.RPC_PARSERS``;
fault and event code texts are in :mod:`decoders.cwmp.codes`.  :func:`decode_pasted` reads a
message as people paste it (a bare RPC, web-page quotes), for ``dmsniff decode``.  Problems are one-line
strings prefixed with their severity ("error: ", "warning: ", "info: ").
"""

from . import codes
from ._decode import CWMP_NAMESPACES, SOAP_ENC, SOAP_ENV, decode
from ._pasted import PastedMessage, decode_pasted, looks_like_cwmp
from ._records import *  # noqa: F403
from ._records import __all__ as _record_names
from ._rpcs import GENERIC_RPCS, RPC_PARSERS
from ._xml import parse_datetime

__all__ = [
    "CWMP_NAMESPACES",
    "GENERIC_RPCS",
    "PastedMessage",
    "RPC_PARSERS",
    "SOAP_ENC",
    "SOAP_ENV",
    "codes",
    "decode",
    "decode_pasted",
    "looks_like_cwmp",
    "parse_datetime",
    *_record_names,
]
