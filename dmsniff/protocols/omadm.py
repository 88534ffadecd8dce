"""Which HTTP bodies and UDP payloads are OMA DM: SyncML messages and Package #0 notifications.

Recognised by content type and by content, on any port: DM servers listen wherever they
like, and some clients send SyncML with a generic content type.
"""

from __future__ import annotations

from decoders import notification, syncml

__all__ = ["decode_body", "decode_udp", "is_notification_type"]

_NOTIFICATION_TYPES = (
    "application/vnd.syncml.notification",
    "application/vnd.syncml.dm.notification",
    "application/vnd.syncml.ds.notification",
)
WAP_PUSH_PORTS = (2948, 2949)


def is_notification_type(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";", 1)[0].strip().lower() in _NOTIFICATION_TYPES  # type: ignore[union-attr]


def decode_body(body: bytes, content_type: str | None) -> object:
    """A SyncMLMessage, a Pkg#0 Notification (or the error record saying why not), or None."""
    if is_notification_type(content_type):
        return notification.decode(body)
    if syncml.looks_like_syncml(body, content_type):
        return syncml.decode(body, content_type)
    return None


def decode_udp(payload: bytes, sport: int, dport: int) -> object:
    """A WAP Push carrying a Pkg#0 (UDP 2948/2949), or None.

    WSP is too loosely shaped to recognise on arbitrary ports, so only the registered
    push ports are tried; a raw Pkg#0 there (no WSP) is accepted too.
    """
    if dport not in WAP_PUSH_PORTS and sport not in WAP_PUSH_PORTS:
        return None
    if notification.looks_like_wap_push(payload):
        return notification.decode_wap_push(payload)
    if notification.looks_like_notification(payload):
        return notification.decode(payload)
    return None
