"""Which HTTP bodies are CWMP: SOAP envelopes, recognised by content, on any port."""

from __future__ import annotations

from decoders.cwmp import decode

__all__ = ["decode", "recognise"]

_CWMP_NS = b"urn:dslforum-org:cwmp-"
_SOAP_NS = b"schemas.xmlsoap.org/soap/envelope"


def recognise(body: bytes) -> bool:
    """A body is CWMP when it names the cwmp namespace, or is a bare SOAP envelope.

    The bare envelope matters: some CPEs send ``<Envelope><Body/></Envelope>`` where
    the protocol wants an empty POST.  Both tests are plain substring searches, so a
    megabyte of firmware costs one pass of ``bytes.find``.
    """
    return _CWMP_NS in body or _SOAP_NS in body[:4096]
