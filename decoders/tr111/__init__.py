"""Sans-IO decoder for TR-069 Annex G (TR-111 part 2) UDP Connection Requests.

:func:`decode` takes one UDP payload and returns an immutable
:class:`UdpConnectionRequest`, or a :class:`UdpCrError` when there is no request line; it
never raises::

    cr = decode(payload)
    if isinstance(cr, UdpConnectionRequest) and cr.sig == signature(password, cr):
        print("authentic CR", cr.id, cr.un)

:func:`looks_like_udp_connection_request` is the cheap test for picking CRs out of
arbitrary UDP; :func:`signature` recomputes the HMAC a CPE would check.  Problems are
one-line strings prefixed with their severity ("error: ", "warning: ", "info: ").
"""

from ._decode import FIELDS, decode, looks_like_udp_connection_request, signature
from ._records import UdpConnectionRequest, UdpCrError

__all__ = [
    "FIELDS",
    "UdpConnectionRequest",
    "UdpCrError",
    "decode",
    "looks_like_udp_connection_request",
    "signature",
]
