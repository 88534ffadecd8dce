"""Is this stream TLS?  The cheap test a capture's first payload bytes get (no crypto loaded)."""

from __future__ import annotations

from ._tables import CONTENT_APPLICATION_DATA, CONTENT_HANDSHAKE, MAX_CIPHERTEXT, HandshakeType

__all__ = ["looks_like_tls"]


def looks_like_tls(data: bytes) -> bool:
    """Whether a stream's first bytes are a TLS record: a handshake record holding a Client- or
    ServerHello, or (a capture that began mid-connection) an application data record."""
    if len(data) < 6 or data[1] != 3 or data[2] > 4:
        return False
    length = data[3] << 8 | data[4]
    if data[0] == CONTENT_HANDSHAKE:
        hellos = (HandshakeType.CLIENT_HELLO, HandshakeType.SERVER_HELLO)
        return 0 < length <= MAX_CIPHERTEXT and data[5] in hellos
    return data[0] == CONTENT_APPLICATION_DATA and 0 < length <= MAX_CIPHERTEXT and data[2] >= 1
