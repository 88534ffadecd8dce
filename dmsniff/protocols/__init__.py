"""Protocol parsing of single messages: HTTP bodies and UDP datagrams.

This is the stateless step between HTTP reassembly and the session builders: each
HTTP message body and UDP payload is offered to the decoders in :mod:`decoders`, and
the record a decoder returns is attached to the message (``HttpMessage.protocol``,
``Datagram.protocol``).  It runs where the transaction is built, so in a parallel run
the XML parsing is spread over the worker processes too.

To add a protocol: write its sans-IO decoder under ``decoders/``, a recogniser and a
call here, and a session builder under :mod:`dmsniff.sessions`.
"""

from __future__ import annotations

from dmsniff.model import HttpMessage, Transaction, endpoint_host
from dmsniff.protocols import cwmp, omadm, udp
from dmsniff.protocols.auth import parse_auth_headers

__all__ = ["parse_bodies", "parse_body", "parse_datagram"]

#: How the HTTP layer (and the log reader) say that a body's Content-Encoding was not undone.
_CODING_FAILED = "Content-Encoding "


#: A request answered 401 or 407 is sent again with credentials, byte for byte: in every CWMP
#: session that uses Digest, the Inform (RFC 7616 §3.3).  Its body is decoded once and the
#: record (frozen) given to the retry too.  Per client host (a CPE may resend on a new connection):
#: the challenged request's body, its Content-Type and its record, until the host's next exchange.
#: Only equal bytes share a record, so the key decides what is compared, never what a body means.
#: A challenge is answered within one round trip, so this holds a few entries; it is emptied when
#: 64 hosts wait (as decoders._strings' table when full), and keeps no big body.
_CHALLENGED: dict[tuple[int, str], tuple[bytes, str | None, object]] = {}
_CHALLENGED_MAX = 64
_CHALLENGED_BODY_MAX = 64 << 10


def parse_bodies(tx: Transaction) -> None:
    """Parse the bodies of a transaction's request and response, and attach what a parser made of
    each (``msg.protocol``); parse their credentials and challenges (:mod:`dmsniff.protocols.auth`)."""
    challenged = _CHALLENGED.pop((tx.capture, endpoint_host(tx.client)), None) if _CHALLENGED else None
    request, response = tx.request, tx.response
    if request is not None:
        if request.body_length:
            request.protocol = parse_body(request, challenged)
        parse_auth_headers(request)
    if response is not None:
        if response.body_length:
            response.protocol = parse_body(response)
        parse_auth_headers(response)
        if (response.status in (401, 407) and request is not None and request.protocol is not None
                and len(request.content) <= _CHALLENGED_BODY_MAX):
            if len(_CHALLENGED) >= _CHALLENGED_MAX:  # hosts that never came back: start again
                _CHALLENGED.clear()
            _CHALLENGED[(tx.capture, endpoint_host(tx.client))] = (
                request.content, request.header("Content-Type"), request.protocol)


def parse_body(msg: HttpMessage, challenged: tuple[bytes, str | None, object] | None = None) -> object:
    """The protocol record for one HTTP message body, or None when no decoder claims it.

    ``challenged``: the body, Content-Type and record of a request this one may be the retry of;
    its record when this message has the same body and Content-Type."""
    if msg.decoded_body is None and any(p.startswith(_CODING_FAILED) for p in msg.problems):
        # The Content-Encoding could not be undone (unknown, corrupt, or a bomb refused past
        # --max-body: that problem says which), so these bytes are not the message.  Read as
        # XML, a gzip bomb's 10 MB became 40 MB of text and a finding about U+FFFD characters.
        return None
    body = msg.content
    content_type = msg.header("Content-Type")
    if challenged is not None and challenged[0] == body and challenged[1] == content_type:
        return challenged[2]
    if cwmp.recognise(body):
        return cwmp.decode(body, content_type)
    return omadm.decode_body(body, content_type)


def parse_datagram(payload: bytes, sport: int = 0, dport: int = 0) -> object:
    """The protocol record for one UDP payload, or None."""
    return omadm.decode_udp(payload, sport, dport) or udp.decode(payload)
