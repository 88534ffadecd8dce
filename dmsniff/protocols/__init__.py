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

from dmsniff.model import HttpMessage, Transaction
from dmsniff.protocols import cwmp, omadm, udp
from dmsniff.protocols.auth import parse_auth_headers

__all__ = ["parse_bodies", "parse_body", "parse_datagram"]

#: How the HTTP layer (and the log reader) say that a body's Content-Encoding was not undone.
_CODING_FAILED = "Content-Encoding "


def parse_bodies(tx: Transaction) -> None:
    """Parse the bodies of a transaction's request and response, and attach what a parser made of
    each (``msg.protocol``); parse their credentials and challenges (:mod:`dmsniff.protocols.auth`)."""
    for msg in (tx.request, tx.response):
        if msg is not None:
            if msg.body_length:
                msg.protocol = parse_body(msg)
            parse_auth_headers(msg)


def parse_body(msg: HttpMessage) -> object:
    """The protocol record for one HTTP message body, or None when no decoder claims it."""
    if msg.decoded_body is None and any(p.startswith(_CODING_FAILED) for p in msg.problems):
        # The Content-Encoding could not be undone (unknown, corrupt, or a bomb refused past
        # --max-body: that problem says which), so these bytes are not the message.  Read as
        # XML, a gzip bomb's 10 MB became 40 MB of text and a finding about U+FFFD characters.
        return None
    body = msg.content
    content_type = msg.header("Content-Type")
    if cwmp.recognise(body):
        return cwmp.decode(body, content_type)
    return omadm.decode_body(body, content_type)


def parse_datagram(payload: bytes, sport: int = 0, dport: int = 0) -> object:
    """The protocol record for one UDP payload, or None."""
    return omadm.decode_udp(payload, sport, dport) or udp.decode(payload)
