"""Which UDP payloads are TR-111 connection requests or STUN messages."""

from __future__ import annotations

from decoders import stun, tr111


def decode(payload: bytes) -> object:
    """A decoded STUN message or TR-111 UDP connection request, else None.

    Recognised by content, not port: the CR port is whatever the CPE chose and STUN
    servers for TR-111 often listen elsewhere than 3478.
    """
    if tr111.looks_like_udp_connection_request(payload):
        return tr111.decode(payload)
    if stun.looks_like_stun(payload):
        msg = stun.decode(payload)
        return msg if isinstance(msg, stun.StunMessage) else None
    return None
